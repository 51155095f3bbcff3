-- Emulated per-field TTL: HGETALL without the expired fields, which are purged first.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV none
-- Returns the live fields as HGETALL does (field, value, field, value, ...).
local h, z = KEYS[1], KEYS[2]
--- @include "hash-ttl-index"
purge(now_ms())
return redis.call('HGETALL', h)
