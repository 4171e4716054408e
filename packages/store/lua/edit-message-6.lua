--[[
  Replaces a message by its edited version or its tombstone, in one atomic step
  (message-store.ts): checks that the author is still a member and that the message is still the
  version the caller read (it decided from that version that the change is allowed), takes the
  conversation's next rev, stores the new version under the same seq, indexes its rev, and records
  the change in the partition's outbox as an update entry (outbox.ts): the same drain publishes it,
  after the entries before it, as a `message_updated` event. Wakes the partition as
  append-message-7.lua does.
  The new version is assembled from a head and a tail around its rev, so Lua never re-encodes it.

  Input:
    KEYS[1] conversation   hash, its 'rev' field is the last rev handed out
    KEYS[2] members        sorted set of member usernames
    KEYS[3] messages       sorted set of message JSON scored by seq
    KEYS[4] revs           sorted set of seqs scored by the rev of their latest change
    KEYS[5] outbox         the partition's sorted set of owed deliveries scored by acceptance time
    KEYS[6] wake           the partition's wake flag: set while a drain job is pending

    ARGV[1] author
    ARGV[2] seq
    ARGV[3] expected       the stored JSON the caller read
    ARGV[4] messageHead    the new version's JSON up to its rev
    ARGV[5] messageTail    the new version's JSON after its rev
    ARGV[6] entryHead      the outbox entry before the message JSON
    ARGV[7] acceptedAtMs   the outbox entry's score
    ARGV[8] wakeTtlMs      how long the wake flag lives unless a drain clears it

  Output:
    { 1, rev, woke }   stored; woke is 1 when the caller must enqueue a drain job
    { 0, 0, 0 }        the author is not a member, or the conversation does not exist
    { -1, 0, 0 }       the message changed (or went) since the caller read it: read again
]]
--- @include "includes/rev-index"
local conv, members, messages, revs, outbox, wake = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local author, seq, expected = ARGV[1], ARGV[2], ARGV[3]
if not redis.call('ZSCORE', members, author) then return { 0, 0, 0 } end
if redis.call('ZRANGEBYSCORE', messages, seq, seq)[1] ~= expected then return { -1, 0, 0 } end
local rev = redis.call('HINCRBY', conv, 'rev', 1)
local message = ARGV[4] .. rev .. ARGV[5]
redis.call('ZREMRANGEBYSCORE', messages, seq, seq)
redis.call('ZADD', messages, seq, message)
indexRev(revs, rev, seq)
redis.call('ZADD', outbox, ARGV[7], ARGV[6] .. message)
local woke = 0
if redis.call('SET', wake, '1', 'NX', 'PX', ARGV[8]) then woke = 1 end
return { 1, rev, woke }
