-- Adds to an integer counter; the TTL is set only when this call creates the counter, so an existing
-- counter keeps its window and a new one never lives forever by accident.
-- KEYS[1]: the counter
-- ARGV[1]: the integer to add
-- ARGV[2]: TTL in ms for a counter created by this call, or '' for none
-- Returns the new value.
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
