-- Emulated per-field TTL: HDEL of fields and their index entries.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV[1], ARGV[2], ... the fields
-- Returns how many live (unexpired) fields were deleted, as HDEL on a native server does.
local h, z = KEYS[1], KEYS[2]
--- @include "hash-ttl-index"
purge(now_ms())
local deleted, dropped = 0, 0
for i = 1, #ARGV, 1000 do
  local j = math.min(i + 999, #ARGV)
  deleted = deleted + redis.call('HDEL', h, unpack(ARGV, i, j))
  dropped = dropped + redis.call('ZREM', z, unpack(ARGV, i, j))
end
-- Deleting a field without TTL may leave every remaining field with one: then the hash and its index get the
-- latest field expiry as key expiry; otherwise neither expires (see settle in includes/hash-ttl-index.lua).
settle(dropped > 0)
return deleted
