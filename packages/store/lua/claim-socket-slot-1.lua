--[[
  Takes one of a user's socket slots, shared by every gateway (user-socket-slots.ts). Expired
  slots (of gateways that died without cleaning up) are dropped first.

  Input:
    KEYS[1] sockets   sorted set of the user's open sockets scored by when they expire

    ARGV[1] socketId
    ARGV[2] limit     sockets a user may hold
    ARGV[3] now       ms
    ARGV[4] ttl       ms the slot lives unless refreshed

  Output:
    1   claimed
    0   the user already holds limit sockets
]]
local key, id, limit, now, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + ttl, id)
redis.call('PEXPIRE', key, ttl)
return 1
