-- Emulated per-field TTL, for the sweeper: drops expired fields of one hash and their index entries.
-- KEYS[1] the hash; KEYS[2] its TTL index (ZSET field -> expiry epoch ms)
-- ARGV none
-- Returns how many fields were purged. An index whose hash is gone is deleted (returns 0).
local h, z = KEYS[1], KEYS[2]
if redis.call('EXISTS', h) == 0 then
  redis.call('DEL', z)
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
for i = 1, #expired, 1000 do
  redis.call('HDEL', h, unpack(expired, i, math.min(i + 999, #expired)))
end
redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
return #expired
