-- Renews a partition lease of the Redis Streams event bus if the caller still holds it.
-- KEYS[1] lease key (string holding the owner's consumer id)
-- ARGV[1] consumer id of the caller
-- ARGV[2] lease time in ms
-- Returns 1 when renewed, 0 when the lease is gone or held by another consumer.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
