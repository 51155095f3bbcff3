-- Sliding window log rate limit: exact, one sorted-set entry per unit, scored by server time (ms). Batched: one or
-- more checks, each on its own key (the 1 in the name is the keys per check); all keys of one call share a slot.
-- KEYS[i]    sorted set of the units counted in check i's last window
-- ARGV[4i-3] limit (units per window)
-- ARGV[4i-2] window length in ms
-- ARGV[4i-1] cost of this check (units)
-- ARGV[4i]   a nonce unique to this check (keeps members distinct within one millisecond)
-- Returns a flat array, per check: allowed 0|1, remaining, resetMs (until the oldest counted unit leaves the
-- window), retryAfterMs.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local limit, window, cost = tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1])
  local nonce = ARGV[4 * i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  local n = #out
  if count + cost <= limit then
    for u = 1, cost do
      redis.call('ZADD', key, now, nonce .. ':' .. u)
    end
    redis.call('PEXPIRE', key, window)
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    out[n + 1] = 1; out[n + 2] = limit - count - cost; out[n + 3] = tonumber(oldest[2]) + window - now; out[n + 4] = 0
  else
    -- Denied: wait until enough of the oldest units have left the window for this cost to fit.
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local blocker = redis.call('ZRANGE', key, count + cost - limit - 1, count + cost - limit - 1, 'WITHSCORES')
    out[n + 1] = 0; out[n + 2] = limit - count; out[n + 3] = tonumber(oldest[2]) + window - now
    out[n + 4] = tonumber(blocker[2]) + window - now
  end
end
return out
