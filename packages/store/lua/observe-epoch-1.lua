--[[
  Reads the store's epoch, and starts a new one when history may have gone backwards: the epoch
  is gone, or Redis restarted (another run_id) while it does not fsync every write (store-epoch.ts).
  On a cluster, a run_id that is not this node's but still a live master's means the slot moved
  here with its keys (resharding), not that history was lost: the epoch is kept.

  Input:
    KEYS[1] epoch     hash: 'id' and the 'runId' it was last seen with

    ARGV[1] runId     this Redis's run_id
    ARGV[2] durable   '1' when every write is fsynced
    ARGV[3] fresh     an epoch id to start with, if one is needed
    ARGV[4..] alive   on a cluster, the run_id of every master now

  Output:
    the current epoch id
]]
local key, runId, durable, fresh = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HMGET', key, 'id', 'runId')
local id, seenRunId = current[1], current[2]
local moved = false
for i = 4, #ARGV do
  if ARGV[i] == seenRunId then moved = true end
end
if not id or (seenRunId ~= runId and durable ~= '1' and not moved) then
  id = fresh
end
redis.call('HSET', key, 'id', id, 'runId', runId)
return id
