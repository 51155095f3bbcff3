-- Emulated per-field TTL (servers without HPEXPIRE): sets hash fields and records or clears their expiry.
-- KEYS[1] the hash; KEYS[2] its TTL index (a ZSET field -> expiry epoch ms, same slot as the hash)
-- ARGV[1] ttl in ms (0 = no TTL: like HSET on Redis >= 7.4, it clears a TTL the field had)
-- ARGV[2], ARGV[3], ... field, value pairs
-- Returns the number of fields that did not exist (live) before, as HSET does.
local h, z = KEYS[1], KEYS[2]

--- @include "hash-ttl-index"

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
