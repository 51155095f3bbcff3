-- Releases a refresh job's lock only while it still holds this instance's token.
-- KEYS[1] the lock key
-- ARGV[1] the token written when the lock was taken
-- Returns 1 when released, 0 when the lock had expired or belongs to another instance.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
