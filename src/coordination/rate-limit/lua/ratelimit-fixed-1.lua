-- Fixed window rate limit: windows aligned on multiples of the window length, in server time. Batched: one or more
-- checks, each on its own key (the 1 in the name is the keys per check); all keys of one call share a cluster slot.
-- KEYS[i]    state hash of check i: w = window start (ms), c = units counted in that window
-- ARGV[3i-2] limit (units per window)
-- ARGV[3i-1] window length in ms
-- ARGV[3i]   cost of this check (units)
-- Returns a flat array, per check: allowed 0|1, remaining, resetMs (until the window ends), retryAfterMs.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local limit, window, cost = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local start = now - (now % window)
  local state = redis.call('HMGET', key, 'w', 'c')
  local count = 0
  if tonumber(state[1]) == start then count = tonumber(state[2]) end
  local reset = start + window - now
  local n = #out
  if count + cost <= limit then
    count = count + cost
    redis.call('HSET', key, 'w', start, 'c', count)
    redis.call('PEXPIRE', key, reset)
    out[n + 1] = 1; out[n + 2] = limit - count; out[n + 3] = reset; out[n + 4] = 0
  else
    out[n + 1] = 0; out[n + 2] = limit - count; out[n + 3] = reset; out[n + 4] = reset
  end
end
return out
