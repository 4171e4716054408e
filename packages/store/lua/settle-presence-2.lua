--[[
  Takes a user offline when they have no live socket left on any gateway (presence-store.ts):
  after the grace period that follows their last socket's close, or when the presence sweep finds
  their last lease ran out (a gateway that died). Atomic, so of several gateways or sweeps that
  settle the same user at once only one announces it. Both keys are the one user's.

  lastSeen: when their last socket closed (release-socket-slot-2.lua wrote it), or, for leases that
  ran out, the last time a gateway refreshed one (its expiry minus the ttl), whichever is later.

  Input:
    KEYS[1] sockets   sorted set of the user's open sockets scored by when they expire
    KEYS[2] presence  hash: online (1/0), lastSeen (ms), ttl (ms)

    ARGV[1] now       ms

  Output:
    { 1, lastSeen }   the user went offline (announce it)
    { 0, 0 }          still online elsewhere, or already offline
]]
local key, presence = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'WITHSCORES')
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) > 0 then return { 0, 0 } end
local state = redis.call('HMGET', presence, 'online', 'lastSeen', 'ttl')
if state[1] ~= '1' then return { 0, 0 } end
local lastSeen = tonumber(state[2]) or 0
local ttl = tonumber(state[3]) or 0
for i = 2, #expired, 2 do
  local refreshed = tonumber(expired[i]) - ttl
  if refreshed > lastSeen then lastSeen = refreshed end
end
if lastSeen > now then lastSeen = now end
redis.call('HSET', presence, 'online', '0', 'lastSeen', lastSeen)
return { 1, lastSeen }
