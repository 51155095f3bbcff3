-- Deletes a session and returns its userId (so the caller can drop it from the user's index), or nil.
-- KEYS[1] the session key
local userId = redis.call('HGET', KEYS[1], 'userId')
if not userId then
  return false
end
redis.call('DEL', KEYS[1])
return userId
