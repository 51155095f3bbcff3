-- Sliding window counter rate limit: the previous aligned window's count, weighted by how much of it still
-- overlaps the sliding window, plus the current window's count. Server time.
-- KEYS[1] state hash: w = current window start (ms), c = current count, p = previous window's count
-- ARGV[1] limit (units per window)
-- ARGV[2] window length in ms
-- ARGV[3] cost of this call (units)
-- Returns {allowed 0|1, remaining, resetMs (until the current window ends), retryAfterMs}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local start = now - (now % window)
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
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
if estimate + cost <= limit + 1e-9 then
  cur = cur + cost
  redis.call('HSET', KEYS[1], 'w', start, 'c', cur, 'p', prev)
  redis.call('PEXPIRE', KEYS[1], reset + window)
  return {1, math.max(0, math.floor(limit - estimate - cost + 1e-9)), reset, 0}
end
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
local remaining = math.floor(limit - estimate)
if remaining < 0 then remaining = 0 end
return {0, remaining, reset, retry}
