-- Tests items against a Lua Bloom filter (the positions of bloom-add-2.lua, from includes/bloom-positions.lua).
-- KEYS[1] the metadata hash  KEYS[2] the bit array (same slot)
-- ARGV[1..n] items
-- Returns one integer per item: 1 = may be present, 0 = certainly absent.
--- @include "bloom-positions"
local m, k = read_filter()
if not m then
  return redis.error_reply('ERR skalds bloom: the filter does not exist (deleted?)')
end
local out = {}
for i = 1, #ARGV do
  local h1, h2 = hashes(ARGV[i], m)
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
