-- Releases a partition lease of the Redis Streams event bus if the caller holds it.
-- KEYS[1] lease key (string holding the owner's consumer id)
-- ARGV[1] consumer id of the caller
-- Returns 1 when released, 0 when it was not the caller's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
