-- Quorum mode: raises a fencing counter to at least a value, so a later majority that overlaps this one
-- hands out a larger token.
-- KEYS[1] fencing counter key
-- ARGV[1] the value the counter must reach
-- Returns the counter after the call.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local target = tonumber(ARGV[1])
if target > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return target
end
return current
