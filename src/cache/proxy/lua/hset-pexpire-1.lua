-- Native per-field TTL (Redis >= 7.4, Valkey >= 9): HSET then HPEXPIRE in one atomic step, so a field never
-- exists without its TTL.
-- KEYS[1] the hash
-- ARGV[1] ttl in ms (> 0)
-- ARGV[2], ARGV[3], ... field, value pairs
-- Returns the number of new fields, as HSET does.
local h, ttl = KEYS[1], ARGV[1]
local added = 0
local fields = {}
for i = 2, #ARGV, 2 do
  added = added + redis.call('HSET', h, ARGV[i], ARGV[i + 1])
  fields[#fields + 1] = ARGV[i]
end
for i = 1, #fields, 1000 do
  local j = math.min(i + 999, #fields)
  redis.call('HPEXPIRE', h, ttl, 'FIELDS', j - i + 1, unpack(fields, i, j))
end
return added
