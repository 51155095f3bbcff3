-- Writes a new session hash with its TTL.
-- KEYS[1] the session key (sess:<sha256 of the id>)
-- ARGV[1] userId  ARGV[2] data (JSON)  ARGV[3] now (epoch ms)  ARGV[4] ttl (ms)
-- `indexUntil` records how long the user's index set is known to live, so renewals extend it only when needed.
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'data', ARGV[2], 'createdAt', ARGV[3], 'lastActivityAt', ARGV[3],
  'ttlMs', ARGV[4], 'indexUntil', string.format('%.0f', now + 2 * ttl))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
