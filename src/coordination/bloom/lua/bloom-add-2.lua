-- Adds items to a Lua Bloom filter: k positions per item by double hashing of SHA-1 (includes/bloom-positions.lua).
-- KEYS[1] the metadata hash  KEYS[2] the bit array (same slot)
-- ARGV[1..n] items
-- Returns one integer per item: 1 when at least one of its bits was 0 (newly added), 0 when it may have been present.
--- @include "bloom-positions"
local m, k = read_filter()
if not m then
  return redis.error_reply('ERR skalds bloom: the filter does not exist (deleted?)')
end
local out = {}
for i = 1, #ARGV do
  local h1, h2 = hashes(ARGV[i], m)
  local added = 0
  for j = 0, k - 1 do
    if redis.call('SETBIT', KEYS[2], math.fmod(h1 + j * h2, m), 1) == 0 then added = 1 end
  end
  out[i] = added
end
return out
