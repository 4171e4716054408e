--[[
  Moves a member's read cursor forward in one atomic step (conversation-store.ts): a lower seq
  leaves it where it is; a seq above the conversation's last seq changes nothing. The cursor is
  the higher of the user's entry in `reads` and their last authored seq (read-cursor.ts); only the
  first is written here.

  Input:
    KEYS[1] conversation   hash, its 'seq' field is the last seq handed out, ARGV[3] the user's last authored seq
    KEYS[2] members        sorted set of member usernames
    KEYS[3] reads          hash of read cursors: username → seq

    ARGV[1] user
    ARGV[2] seq            read up to this seq
    ARGV[3] authoredField  the conversation hash's field of the user's last authored seq

  Output:
    { 1, readSeq, lastSeq }    the cursor moved to readSeq
    { 0, readSeq, lastSeq }    the cursor stays at readSeq (already there or beyond)
    { -1, 0, 0 }               the user is not a member, or the conversation does not exist
    { -2, 0, lastSeq }         seq is above the last seq: nothing changed
]]
local conv, members, reads = KEYS[1], KEYS[2], KEYS[3]
local user, seq = ARGV[1], tonumber(ARGV[2])
if not redis.call('ZSCORE', members, user) then return { -1, 0, 0 } end
local head = redis.call('HMGET', conv, 'seq', ARGV[3])
local lastSeq = tonumber(head[1] or '0')
if seq > lastSeq then return { -2, 0, lastSeq } end
local current = math.max(tonumber(redis.call('HGET', reads, user) or '0'), tonumber(head[2] or '0'))
if seq <= current then return { 0, current, lastSeq } end
redis.call('HSET', reads, user, seq)
return { 1, seq, lastSeq }
