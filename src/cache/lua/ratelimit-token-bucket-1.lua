-- Token bucket rate limit: `limit` tokens of capacity, refilled evenly at limit per window. Server time.
-- KEYS[1] state hash: t = tokens (may be fractional), ts = time of that count (ms)
-- ARGV[1] capacity (tokens)
-- ARGV[2] window in ms: the time to refill a whole bucket
-- ARGV[3] cost of this call (tokens)
-- Returns {allowed 0|1, remaining (whole tokens), resetMs (until the bucket is full), retryAfterMs}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local rate = capacity / window
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
else
  if now > ts then tokens = math.min(capacity, tokens + (now - ts) * rate) end
end
local allowed = 0
local retry = 0
if tokens >= cost - 1e-9 then
  tokens = math.max(0, tokens - cost)
  allowed = 1
else
  retry = math.ceil((cost - tokens) / rate)
end
local reset = math.ceil((capacity - tokens) / rate)
if allowed == 1 then
  -- %.17g keeps the fraction exactly; the key goes away once the bucket would be full again.
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], reset + 1)
end
return {allowed, math.floor(tokens), reset, retry}
