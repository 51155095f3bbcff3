-- Emulated per-field TTL (servers without HPEXPIRE): sets hash fields and records or clears their expiry.
-- KEYS[1] the hash; KEYS[2] its TTL index (a ZSET field -> expiry epoch ms, same slot as the hash)
-- ARGV[1] ttl in ms (0 = no TTL: like HSET on Redis >= 7.4, it clears a TTL the field had)
-- ARGV[2], ARGV[3], ... field, value pairs
-- Returns the number of fields that did not exist (live) before, as HSET does.
local h, z = KEYS[1], KEYS[2]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Expired fields are gone for every reader: drop them from the hash and the index.
local function purge(now)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #expired == 0 then return 0 end
  for i = 1, #expired, 1000 do
    redis.call('HDEL', h, unpack(expired, i, math.min(i + 999, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  return #expired
end

-- The index lives exactly as long as the hash: while every field of the hash has a TTL, both get the latest field
-- expiry as key expiry (the hash vanishes when its last field expires, as a native hash does); otherwise neither
-- expires (an expired entry must stay in the index until its field is purged, else the field would come back).
local function settle(dropped)
  local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if #last == 0 then
    if dropped then redis.call('PERSIST', h) end
    return
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
end

local now = now_ms()
purge(now)
local ttl = tonumber(ARGV[1])
local added = 0
for i = 2, #ARGV, 2 do
  added = added + redis.call('HSET', h, ARGV[i], ARGV[i + 1])
end
local dropped = false
if ttl > 0 then
  local at = now + ttl
  for i = 2, #ARGV, 2 do redis.call('ZADD', z, at, ARGV[i]) end
else
  for i = 2, #ARGV, 2 do
    if redis.call('ZREM', z, ARGV[i]) == 1 then dropped = true end
  end
end
if ttl > 0 or dropped or added > 0 then settle(dropped) end
return added
