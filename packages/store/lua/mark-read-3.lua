--[[
  Moves a member's read cursor forward in one atomic step (conversation-store.ts): a lower seq
  leaves it where it is; a seq above the conversation's last seq changes nothing.

  Input:
    KEYS[1] conversation   hash, its 'seq' field is the last seq handed out
    KEYS[2] members        sorted set of member usernames
    KEYS[3] reads          hash of read cursors: username → seq

    ARGV[1] user
    ARGV[2] seq            read up to this seq

  Output:
    { 1, readSeq, lastSeq }    the cursor moved to readSeq
    { 0, readSeq, lastSeq }    the cursor stays at readSeq (already there or beyond)
    { -1, 0, 0 }               the user is not a member, or the conversation does not exist
    { -2, 0, lastSeq }         seq is above the last seq: nothing changed
]]
local conv, members, reads = KEYS[1], KEYS[2], KEYS[3]
local user, seq = ARGV[1], tonumber(ARGV[2])
if not redis.call('ZSCORE', members, user) then return { -1, 0, 0 } end
local lastSeq = tonumber(redis.call('HGET', conv, 'seq') or '0')
if seq > lastSeq then return { -2, 0, lastSeq } end
local current = tonumber(redis.call('HGET', reads, user) or '0')
if seq <= current then return { 0, current, lastSeq } end
redis.call('HSET', reads, user, seq)
return { 1, seq, lastSeq }
