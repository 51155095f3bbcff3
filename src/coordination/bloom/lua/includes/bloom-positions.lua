-- Shared by the Lua Bloom filter scripts (included with `--- @include "bloom-positions"`), so adding and testing
-- always compute the same bit positions. KEYS[1] is the filter's metadata hash.
-- math.fmod, not %: Lua 5.1 computes a % b as a - floor(a/b)*b in doubles, which can go negative for large a.

-- The filter's bit count m and hash count k; nil when the filter does not exist.
local function read_filter()
  local meta = redis.call('HMGET', KEYS[1], 'bits', 'hashes')
  if not meta[1] then return nil end
  return tonumber(meta[1]), tonumber(meta[2])
end

-- Double hashing of SHA-1: the item's j-th bit is fmod(h1 + j * h2, m), j = 0 .. k-1 (see src/coordination/bloom/params.ts).
local function hashes(item, m)
  local h = redis.sha1hex(item)
  local h1 = tonumber(string.sub(h, 1, 8), 16)
  local h2 = math.fmod(tonumber(string.sub(h, 9, 16), 16), m)
  if h2 == 0 then h2 = 1 end
  return h1, h2
end
