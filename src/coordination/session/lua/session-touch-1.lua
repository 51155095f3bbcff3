-- Renews a session (sliding expiry), optionally replacing its data; returns it, or nil when it does not exist.
-- KEYS[1] the session key
-- ARGV[1] now (epoch ms)  ARGV[2] new data (JSON), or '' to keep the data
-- Returns { userId, data, createdAt, ttlMs, indexUntil } where indexUntil > 0 asks the caller to re-score the session
-- in its user's index with that value (the session could otherwise outlive its index entry); 0 = nothing to do.
local f = redis.call('HMGET', KEYS[1], 'ttlMs', 'indexUntil')
if not f[1] then
  return false
end
local ttl = tonumber(f[1])
local now = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'data', ARGV[2])
end
redis.call('HSET', KEYS[1], 'lastActivityAt', ARGV[1])
local indexUntil = '0'
if now + ttl > tonumber(f[2] or '0') then
  indexUntil = string.format('%.0f', now + 2 * ttl)
  redis.call('HSET', KEYS[1], 'indexUntil', indexUntil)
end
redis.call('PEXPIRE', KEYS[1], ttl)
local s = redis.call('HMGET', KEYS[1], 'userId', 'data', 'createdAt')
return { s[1], s[2], s[3], f[1], indexUntil }
