-- Acquires a lock when free and hands out the next fencing token of the key.
-- KEYS[1] lock key (holds the owner's token, with a PX expiry)
-- KEYS[2] fencing counter of the lock, in the same slot (never expires, so tokens stay monotonic)
-- ARGV[1] owner token
-- ARGV[2] ttl in ms
-- ARGV[3] floor: the fencing token handed out is at least this (quorum mode keeps masters in step); '0' otherwise
-- Returns {1, fencingToken} when acquired, {0, remaining ttl of the holder in ms} when held by someone else.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  local floor = tonumber(ARGV[3])
  if floor > fence then
    redis.call('SET', KEYS[2], floor)
    fence = floor
  end
  return {1, fence}
end
return {0, redis.call('PTTL', KEYS[1])}
