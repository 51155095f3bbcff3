-- Releases locks, each only for its owner. Batched: one or more locks (the 1 in the name is the keys per lock);
-- all keys of one call share a cluster slot.
-- KEYS[i] lock key i
-- ARGV[i] owner token of lock i
-- Returns a flat array, per lock: 1 when released, 0 when the key is gone or held by another owner.
local out = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    out[i] = redis.call('DEL', KEYS[i])
  else
    out[i] = 0
  end
end
return out
