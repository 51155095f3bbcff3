-- Deletes a key only while it still holds the expected value (lock release, compare-and-delete).
-- KEYS[1]: the key
-- ARGV[1]: the expected value
-- Returns 1 when deleted, 0 when the key is missing or holds another value.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('UNLINK', KEYS[1])
end
return 0
