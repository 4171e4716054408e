--[[
  A member leaves a conversation, in one atomic step (conversation-store.ts): they are removed from
  its members and their conversation index, and told on their channel, as update-conversation-2.lua
  tells a removed member, so gateways holding their sockets stop following it; each member who
  stays is told the members changed (channels built here, as update-conversation-2.lua does). A delivery published
  after this reads the members without them and does not name them.
  Their read cursor stays (as for a member removed by update-conversation-2.lua): a member added
  again reads on from it.
  When they were the last member, the conversation and its history are deleted with them: its
  outbox entries still waiting are counted as gone by the drain (drain-outbox-2.lua finds no
  conversation), and nobody could post meanwhile (appending needs a member).

  Input:
    KEYS[1] conversation   hash of the conversation
    KEYS[2] members        sorted set of member usernames
    KEYS[3] messages       sorted set of message JSON scored by seq
    KEYS[4] index          the user's conversation index: sorted set of conversation ids
    KEYS[5] reads          hash of read cursors, deleted with the conversation
    KEYS[6] revs           the conversation's rev index (deleted with its history)

    ARGV[1] user           who leaves
    ARGV[2] id             the conversation's id, as the index holds it
    ARGV[3] channel        the user's channel
    ARGV[4] leftMark       notice = leftMark .. id (@chat/contracts MEMBERSHIP_MARKS)
    ARGV[5] channelPrefix  another member's channel is channelPrefix .. username
    ARGV[6] updatedMark    each member who stays is told the members changed: updatedMark .. id

  Output:
    1   left; other members remain
    2   left as the last member: the conversation is deleted
    0   the user is not a member, or the conversation does not exist: nothing changed
]]
local conv, members, messages, index, reads, revs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local user, id, channel, leftMark, channelPrefix, updatedMark = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not redis.call('ZSCORE', members, user) then return 0 end
redis.call('ZREM', members, user)
redis.call('ZREM', index, id)
redis.call('PUBLISH', channel, leftMark .. id)
local stayed = redis.call('ZRANGE', members, 0, -1)
if #stayed > 0 then
  for _, member in ipairs(stayed) do redis.call('PUBLISH', channelPrefix .. member, updatedMark .. id) end
  return 1
end
redis.call('DEL', conv, members, messages, reads, revs)
return 2
