--[[
  Drops settled users from the presence sweep's index (presence-store.ts), each only while its
  score is still in the past: a user who connected again since the sweep read it has a score in
  the future (ZADD GT) and must stay, or a replica that dies holding them would leave them online.

  Input:
    KEYS[1] expiries  sorted set of users scored by when their last socket lease runs out

    ARGV[1] now       ms
    ARGV[2..] users

  Output: users dropped
]]
local key, now = KEYS[1], tonumber(ARGV[1])
local dropped = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', key, ARGV[i])
  if score and tonumber(score) <= now then
    redis.call('ZREM', key, ARGV[i])
    dropped = dropped + 1
  end
end
return dropped
