--[[
  Gives back a closed socket's slot (user-socket-slots.ts). When it was the user's last live
  socket, records when they were last seen; whether they go offline is settled after the grace
  period (settle-presence-2.lua), so a reconnect elsewhere meanwhile is no transition.

  Input:
    KEYS[1] sockets   sorted set of the user's open sockets scored by when they expire
    KEYS[2] presence  hash: online (1/0), lastSeen (ms), ttl (ms)

    ARGV[1] socketId
    ARGV[2] now       ms

  Output: the user's live sockets left (0: settle their presence after the grace period)
]]
local key, presence = KEYS[1], KEYS[2]
local id, now = ARGV[1], tonumber(ARGV[2])
redis.call('ZREM', key, id)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
local left = redis.call('ZCARD', key)
if left == 0 and redis.call('HGET', presence, 'online') == '1' then redis.call('HSET', presence, 'lastSeen', now) end
return left
