-- Emulated per-field TTL: HGET that treats an expired field as absent and purges it on the way.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV[1] the field
-- Returns the value, or nil when the field is absent or expired.
local h, z, field = KEYS[1], KEYS[2], ARGV[1]
--- @include "hash-ttl-index"
local at = redis.call('ZSCORE', z, field)
if at then
  if tonumber(at) <= now_ms() then
    redis.call('HDEL', h, field)
    redis.call('ZREM', z, field)
    return false
  end
end
return redis.call('HGET', h, field)
