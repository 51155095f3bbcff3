-- Pushes values onto a list and (re)sets its TTL in one atomic step.
-- KEYS[1] the list
-- ARGV[1] 'head' (LPUSH) or 'tail' (RPUSH)
-- ARGV[2] ttl in ms (0 = leave the key's TTL as it is)
-- ARGV[3], ARGV[4], ... the values, pushed one after another
-- Returns the list's length after the push.
local key = KEYS[1]
local command = ARGV[1] == 'head' and 'LPUSH' or 'RPUSH'
local ttl = tonumber(ARGV[2])
local length = 0
for i = 3, #ARGV, 1000 do
  length = redis.call(command, key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return length
