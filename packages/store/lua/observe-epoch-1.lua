--[[
  Reads the store's epoch, and starts a new one when history may have gone backwards: the epoch
  is gone, or Redis restarted (another run_id) while it does not fsync every write (store-epoch.ts).

  Input:
    KEYS[1] epoch     hash: 'id' and the 'runId' it was last seen with

    ARGV[1] runId     this Redis's run_id
    ARGV[2] durable   '1' when every write is fsynced
    ARGV[3] fresh     an epoch id to start with, if one is needed

  Output:
    the current epoch id
]]
local key, runId, durable, fresh = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HMGET', key, 'id', 'runId')
local id, seenRunId = current[1], current[2]
if not id or (seenRunId ~= runId and durable ~= '1') then
  id = fresh
end
redis.call('HSET', key, 'id', id, 'runId', runId)
return id
