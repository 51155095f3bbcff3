-- Records a session in its user's index (a sorted set scored by how long the session can live at most), drops
-- entries whose score has passed, and keeps the set alive at least as long as its newest score.
-- KEYS[1] the user's index (sess:user:<userId>)
-- ARGV[1] the session hash  ARGV[2] its score: epoch ms the session cannot outlive  ARGV[3] now (epoch ms)
-- Returns the number of live entries.
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local want = tonumber(ARGV[2]) - tonumber(ARGV[3])
local current = redis.call('PTTL', KEYS[1])
if want > 0 and current < want then
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', want))
end
return redis.call('ZCARD', KEYS[1])
