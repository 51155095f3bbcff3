-- Emulated per-field TTL: HPTTL for one field.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV[1] the field
-- Returns -2 when the field is absent or expired (purging it), -1 when it has no TTL, else the ms left.
local h, z, field = KEYS[1], KEYS[2], ARGV[1]
--- @include "hash-ttl-index"
local now = now_ms()
local at = redis.call('ZSCORE', z, field)
if at and tonumber(at) <= now then
  redis.call('HDEL', h, field)
  redis.call('ZREM', z, field)
  return -2
end
if redis.call('HEXISTS', h, field) == 0 then return -2 end
if not at then return -1 end
return tonumber(at) - now
