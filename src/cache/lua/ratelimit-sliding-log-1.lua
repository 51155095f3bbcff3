-- Sliding window log rate limit: exact, one sorted-set entry per unit, scored by server time (ms).
-- KEYS[1] sorted set of the units counted in the last window
-- ARGV[1] limit (units per window)
-- ARGV[2] window length in ms
-- ARGV[3] cost of this call (units)
-- ARGV[4] a nonce unique to this call (keeps members distinct within one millisecond)
-- Returns {allowed 0|1, remaining, resetMs (until the oldest counted unit leaves the window), retryAfterMs}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count + cost <= limit then
  for i = 1, cost do
    redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], window)
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, limit - count - cost, tonumber(oldest[2]) + window - now, 0}
end
-- Denied: wait until enough of the oldest units have left the window for this cost to fit.
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local blocker = redis.call('ZRANGE', KEYS[1], count + cost - limit - 1, count + cost - limit - 1, 'WITHSCORES')
return {0, limit - count, tonumber(oldest[2]) + window - now, tonumber(blocker[2]) + window - now}
