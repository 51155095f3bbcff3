-- Emulated per-field TTL: HDEL of fields and their index entries.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV[1], ARGV[2], ... the fields
-- Returns how many live (unexpired) fields were deleted, as HDEL on a native server does.
local h, z = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
for i = 1, #expired, 1000 do
  redis.call('HDEL', h, unpack(expired, i, math.min(i + 999, #expired)))
end
redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
local deleted, dropped = 0, 0
for i = 1, #ARGV, 1000 do
  local j = math.min(i + 999, #ARGV)
  deleted = deleted + redis.call('HDEL', h, unpack(ARGV, i, j))
  dropped = dropped + redis.call('ZREM', z, unpack(ARGV, i, j))
end
-- Deleting a field without TTL may leave every remaining field with one: then the hash and its index get the
-- latest field expiry as key expiry; otherwise neither expires (see hset-ttl-2.lua).
local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
if #last == 0 then
  if dropped > 0 then redis.call('PERSIST', h) end
  return deleted
end
local fields = redis.call('HLEN', h)
local covered = fields > 0 and redis.call('ZCARD', z) >= fields
if covered then
  for _, field in ipairs(redis.call('HKEYS', h)) do
    if not redis.call('ZSCORE', z, field) then
      covered = false
      break
    end
  end
end
if covered then
  redis.call('PEXPIREAT', h, last[2])
  redis.call('PEXPIREAT', z, last[2])
else
  redis.call('PERSIST', h)
  redis.call('PERSIST', z)
end
return deleted
