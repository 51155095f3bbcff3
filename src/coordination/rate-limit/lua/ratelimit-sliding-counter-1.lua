-- Sliding window counter rate limit: the previous aligned window's count, weighted by how much of it still
-- overlaps the sliding window, plus the current window's count. Server time. Batched: one or more checks, each on
-- its own key (the 1 in the name is the keys per check); all keys of one call share a cluster slot.
-- KEYS[i]    state hash of check i: w = current window start (ms), c = current count, p = previous window's count
-- ARGV[3i-2] limit (units per window)
-- ARGV[3i-1] window length in ms
-- ARGV[3i]   cost of this check (units)
-- Returns a flat array, per check: allowed 0|1, remaining, resetMs (until the current window ends), retryAfterMs.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local limit, window, cost = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local start = now - (now % window)
  local state = redis.call('HMGET', key, 'w', 'c', 'p')
  local stored = tonumber(state[1])
  local cur, prev = 0, 0
  if stored == start then
    cur = tonumber(state[2]); prev = tonumber(state[3])
  elseif stored == start - window then
    prev = tonumber(state[2])
  end
  local elapsed = now - start
  local estimate = prev * (window - elapsed) / window + cur
  local reset = window - elapsed
  local n = #out
  if estimate + cost <= limit + 1e-9 then
    cur = cur + cost
    redis.call('HSET', key, 'w', start, 'c', cur, 'p', prev)
    redis.call('PEXPIRE', key, reset + window)
    out[n + 1] = 1; out[n + 2] = math.max(0, math.floor(limit - estimate - cost + 1e-9)); out[n + 3] = reset; out[n + 4] = 0
  else
    local retry
    if cur + cost <= limit then
      -- The weighted previous count must shrink: at elapsed e, prev*(window-e)/window + cur + cost <= limit.
      retry = math.ceil(window - (limit - cur - cost) * window / prev) - elapsed
    else
      -- Only the next window can fit it, once this window's count has decayed enough.
      local into = 0
      if cur > 0 then into = math.ceil(window - (limit - cost) * window / cur) end
      if into < 0 then into = 0 end
      retry = reset + into
    end
    if retry < 1 then retry = 1 end
    out[n + 1] = 0; out[n + 2] = math.max(0, math.floor(limit - estimate)); out[n + 3] = reset; out[n + 4] = retry
  end
end
return out
