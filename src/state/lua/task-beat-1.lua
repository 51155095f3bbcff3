-- Running task heartbeats, batched: one key per task (the 1 in the name is the keys per entry); on a cluster every
-- key of one call shares a slot.
-- KEYS[i]   task i's heartbeat key (task:{id}:heartbeat)
-- ARGV[1]   ttl of a running heartbeat in ms
-- ARGV[i+1] the value proposed for task i, 0..199
-- A key holding a terminal code (200 / -1 / -2) is left alone: a late running write never hides how a run ended
-- (a new run of the task id clears the code with a plain SET first). A proposed value equal to the stored one is
-- bumped by one (mod 200), so every accepted write changes the value the controller samples.
-- Returns an array, per key: 1 written, 0 refused.
local out = {}
local ttl = ARGV[1]
for i = 1, #KEYS do
  local current = redis.call('GET', KEYS[i])
  if current == '200' or current == '-1' or current == '-2' then
    out[i] = 0
  else
    local value = ARGV[i + 1]
    if current == value then value = tostring((tonumber(value) + 1) % 200) end
    redis.call('SET', KEYS[i], value, 'PX', ttl)
    out[i] = 1
  end
end
return out
