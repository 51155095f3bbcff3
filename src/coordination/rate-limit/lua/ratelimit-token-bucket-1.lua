-- Token bucket rate limit: `limit` tokens of capacity, refilled evenly at limit per window. Server time. Batched:
-- one or more checks, each on its own key (the 1 in the name is the keys per check); all keys of one call share a
-- cluster slot.
-- KEYS[i]    state hash of check i: t = tokens (may be fractional), ts = time of that count (ms)
-- ARGV[3i-2] capacity (tokens)
-- ARGV[3i-1] window in ms: the time to refill a whole bucket
-- ARGV[3i]   cost of this check (tokens)
-- Returns a flat array, per check: allowed 0|1, remaining (whole tokens), resetMs (until the bucket is full),
-- retryAfterMs.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local capacity, window, cost = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local rate = capacity / window
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    tokens = capacity
  elseif now > ts then
    tokens = math.min(capacity, tokens + (now - ts) * rate)
  end
  local allowed, retry = 0, 0
  if tokens >= cost - 1e-9 then
    tokens = math.max(0, tokens - cost)
    allowed = 1
  else
    retry = math.ceil((cost - tokens) / rate)
  end
  local reset = math.ceil((capacity - tokens) / rate)
  if allowed == 1 then
    -- %.17g keeps the fraction exactly; the key goes away once the bucket would be full again.
    redis.call('HSET', key, 't', string.format('%.17g', tokens), 'ts', now)
    redis.call('PEXPIRE', key, reset + 1)
  end
  local n = #out
  out[n + 1] = allowed; out[n + 2] = math.floor(tokens); out[n + 3] = reset; out[n + 4] = retry
end
return out
