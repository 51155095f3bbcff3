-- Creates a Lua Bloom filter's metadata unless it exists, and returns the parameters in force.
-- KEYS[1] the metadata hash (same slot as the bit array)
-- ARGV[1] bits (m)  ARGV[2] hashes (k)  ARGV[3] capacity  ARGV[4] errorRate
-- Returns { bits, hashes, capacity, errorRate, created (1/0) }
local existing = redis.call('HMGET', KEYS[1], 'bits', 'hashes', 'capacity', 'errorRate')
if existing[1] then
  return { existing[1], existing[2], existing[3], existing[4], 0 }
end
redis.call('HSET', KEYS[1], 'bits', ARGV[1], 'hashes', ARGV[2], 'capacity', ARGV[3], 'errorRate', ARGV[4])
return { ARGV[1], ARGV[2], ARGV[3], ARGV[4], 1 }
