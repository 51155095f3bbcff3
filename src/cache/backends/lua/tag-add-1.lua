-- Records a member in a tag set and keeps the set alive at least as long as the member: the set's TTL only
-- grows, and a member without expiry makes the set persistent.
-- KEYS[1]: the tag set
-- ARGV[1]: the member (a complete cache key)
-- ARGV[2]: the member's TTL in ms, or '' for none
-- Returns 1.
local existed = redis.call('EXISTS', KEYS[1]) == 1
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
  return 1
end
local ttl = tonumber(ARGV[2])
local current = redis.call('PTTL', KEYS[1])
if not existed or (current >= 0 and current < ttl) then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
