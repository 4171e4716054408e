--[[
  A member leaves a conversation: the conversation's side, in one atomic step (conversation-store.ts
  then removes it from their conversation index and tells their channel, so gateways holding their
  sockets stop following it, and tells the members who stay that it changed). A delivery published
  after this reads the members without them and does not name them: the delivery header (the
  drain's cache of title and members, keys.ts deliveryHeader) is deleted here, first, before any
  other write (a script failing on a key that already moved, a slot migrating, has then changed
  nothing the header still says), and the drain reads the members anew.
  When they were the last member, the conversation, its history, read cursors and rev index are
  deleted with them, and a tombstone is left for a while: its outbox entries still waiting are
  counted as gone by the drain (drain-outbox-2.lua finds no header, no conversation but the
  tombstone; without one it would wait, as for a conversation whose keys are moving to another
  cluster node), and nobody could post meanwhile (appending needs a member).

  Input:
    KEYS[1] conversation   hash of the conversation
    KEYS[2] members        sorted set of member usernames
    KEYS[3] messages       sorted set of message JSON scored by seq
    KEYS[4] reads          hash of read cursors
    KEYS[5] revs           the conversation's rev index
    KEYS[6] tombstone      set when the conversation is deleted
    KEYS[7] deliveryHeader the drain's cache of the title and members, deleted

    ARGV[1] user           who leaves
    ARGV[2] tombstoneTtlMs how long the tombstone lives (longer than any entry waits in an outbox)

  Output:
    { 1, member… }   left; the members who remain
    { 2 }            left as the last member: the conversation is deleted
    { 0 }            the user is not a member, or the conversation does not exist: nothing changed
]]
local conv, members, messages, reads, revs, tombstone, deliveryHeader = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local user = ARGV[1]
if not redis.call('ZSCORE', members, user) then return { 0 } end
redis.call('DEL', deliveryHeader)
redis.call('ZREM', members, user)
local stayed = redis.call('ZRANGE', members, 0, -1)
if #stayed > 0 then
  local reply = { 1 }
  for _, member in ipairs(stayed) do reply[#reply + 1] = member end
  return reply
end
redis.call('DEL', conv, members, messages, reads, revs)
redis.call('SET', tombstone, '1', 'PX', ARGV[2])
return { 2 }
