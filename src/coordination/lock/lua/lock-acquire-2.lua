-- Acquires locks when free and hands out the next fencing token of each. Batched: takes one or more locks, each
-- handled on its own (the 2 in the name is the keys per lock); all keys of one call share a cluster slot.
-- KEYS[2i-1] lock key i (holds the owner's token, with a PX expiry)
-- KEYS[2i]   fencing counter of lock i, in the same slot (never expires, so tokens stay monotonic)
-- ARGV[3i-2] owner token of lock i
-- ARGV[3i-1] ttl of lock i in ms
-- ARGV[3i]   floor: lock i's fencing token is at least this (quorum mode keeps masters in step); '0' otherwise
-- Returns a flat array, per lock: 1, fencingToken when acquired; 0, remaining ttl of the holder (ms) otherwise.
local out = {}
for i = 1, #KEYS / 2 do
  local lock, fence = KEYS[2 * i - 1], KEYS[2 * i]
  if redis.call('SET', lock, ARGV[3 * i - 2], 'NX', 'PX', ARGV[3 * i - 1]) then
    local token = redis.call('INCR', fence)
    local floor = tonumber(ARGV[3 * i])
    if floor > token then
      redis.call('SET', fence, floor)
      token = floor
    end
    out[#out + 1] = 1
    out[#out + 1] = token
  else
    out[#out + 1] = 0
    out[#out + 1] = redis.call('PTTL', lock)
  end
end
return out
