-- Emulated per-field TTL: deletes a key together with its hash TTL index, atomically.
-- KEYS[1] the key; KEYS[2] its TTL index
-- ARGV none
-- Returns 1 when the key existed, else 0 (the index does not count).
local deleted = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
return deleted
