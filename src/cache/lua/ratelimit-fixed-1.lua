-- Fixed window rate limit: windows aligned on multiples of the window length, in server time.
-- KEYS[1] state hash: w = window start (ms), c = units counted in that window
-- ARGV[1] limit (units per window)
-- ARGV[2] window length in ms
-- ARGV[3] cost of this call (units)
-- Returns {allowed 0|1, remaining, resetMs (until the window ends), retryAfterMs}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local start = now - (now % window)
local state = redis.call('HMGET', KEYS[1], 'w', 'c')
local count = 0
if tonumber(state[1]) == start then count = tonumber(state[2]) end
local reset = start + window - now
if count + cost <= limit then
  count = count + cost
  redis.call('HSET', KEYS[1], 'w', start, 'c', count)
  redis.call('PEXPIRE', KEYS[1], reset)
  return {1, limit - count, reset, 0}
end
return {0, limit - count, reset, reset}
