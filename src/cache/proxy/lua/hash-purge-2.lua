-- Emulated per-field TTL, for the sweeper: drops expired fields of one hash and their index entries.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV none
-- Returns how many fields were purged. An index whose hash is gone is deleted (returns 0).
local h, z = KEYS[1], KEYS[2]
--- @include "hash-ttl-index"
if redis.call('EXISTS', h) == 0 then
  redis.call('DEL', z)
  return 0
end
return purge(now_ms())
