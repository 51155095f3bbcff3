-- Replaces a list's content in one atomic step (readers see the old list or the new one, never an empty one).
-- KEYS[1] the list
-- ARGV[1] ttl in ms (0 = no TTL)
-- ARGV[2], ARGV[3], ... the new values, head first (none = the key is deleted)
-- Returns the list's new length.
local key = KEYS[1]
local ttl = tonumber(ARGV[1])
redis.call('DEL', key)
local length = 0
for i = 2, #ARGV, 1000 do
  length = redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if ttl > 0 and length > 0 then redis.call('PEXPIRE', key, ttl) end
return length
