-- Tests items against a Lua Bloom filter (same positions as bloom-add-2.lua).
-- KEYS[1] the metadata hash  KEYS[2] the bit array (same slot)
-- ARGV[1..n] items
-- math.fmod, not %: Lua 5.1 computes a % b as a - floor(a/b)*b in doubles, which can go negative for large a.
-- Returns one integer per item: 1 = may be present, 0 = certainly absent.
local meta = redis.call('HMGET', KEYS[1], 'bits', 'hashes')
if not meta[1] then
  return redis.error_reply('ERR skalds bloom: the filter does not exist (deleted?)')
end
local m = tonumber(meta[1])
local k = tonumber(meta[2])
local out = {}
for i = 1, #ARGV do
  local h = redis.sha1hex(ARGV[i])
  local h1 = tonumber(string.sub(h, 1, 8), 16)
  local h2 = math.fmod(tonumber(string.sub(h, 9, 16), 16), m)
  if h2 == 0 then h2 = 1 end
  local present = 1
  for j = 0, k - 1 do
    if redis.call('GETBIT', KEYS[2], math.fmod(h1 + j * h2, m)) == 0 then
      present = 0
      break
    end
  end
  out[i] = present
end
return out
