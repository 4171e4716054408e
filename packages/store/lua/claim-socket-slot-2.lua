--[[
  Takes one of a user's socket slots, shared by every gateway (user-socket-slots.ts), and marks the
  user online when this is their first live socket and they were not online already (a socket
  that comes back within the offline grace period is no transition). Expired slots (of gateways
  that died without cleaning up) are dropped first. Both keys are the one user's.

  Input:
    KEYS[1] sockets   sorted set of the user's open sockets scored by when they expire
    KEYS[2] presence  hash: online (1/0), lastSeen (ms), ttl (ms)

    ARGV[1] socketId
    ARGV[2] limit     sockets a user may hold
    ARGV[3] now       ms
    ARGV[4] ttl       ms the slot lives unless refreshed

  Output:
    2   claimed, and the user came online (announce it)
    1   claimed
    0   the user already holds limit sockets
]]
local key, presence = KEYS[1], KEYS[2]
local id, limit, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + ttl, id)
redis.call('PEXPIRE', key, ttl)
if redis.call('HGET', presence, 'online') == '1' then return 1 end
redis.call('HSET', presence, 'online', '1', 'lastSeen', now, 'ttl', ttl)
return 2
