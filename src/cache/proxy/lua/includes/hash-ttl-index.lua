-- Shared by the emulated per-field TTL scripts (included with `--- @include "hash-ttl-index"`).
-- Every including script binds `h` (the hash) and `z` (its TTL index: a ZSET field -> expiry epoch ms, same slot).

-- The server's clock in epoch ms: every instance of the emulation agrees on it, whatever the clients' clocks say.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Expired fields are gone for every reader: drop them from the hash and the index. Returns how many went.
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
-- `dropped`: this call removed index entries, so a key expiry set earlier may no longer be right.
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
