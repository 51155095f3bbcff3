-- Appends to a bounded list (a task's log): RPUSH, keep the newest entries, refresh the TTL, in one atomic step.
-- KEYS[1] the list
-- ARGV[1] most entries kept (> 0)
-- ARGV[2] ttl in ms (0 = leave the TTL alone)
-- ARGV[3], ARGV[4], ... values, oldest first
-- Returns the list's length after trimming.
local key = KEYS[1]
local keep = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
for i = 3, #ARGV, 1000 do
  redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('LTRIM', key, -keep, -1)
if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return redis.call('LLEN', key)
