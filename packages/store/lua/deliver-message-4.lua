--[[
  Delivers one message accepted by a release before partitioned outboxes, in one atomic step, for
  a per-message job left in the queue after an upgrade (delivery-store.ts; drain-outbox-2.lua
  delivers everything accepted since):
  - its outbox entry says it is still owed, and its score is when the api accepted it;
  - the stored message and the conversation's current title make the event, by concatenation
    with the parts that @chat/contracts describes (deliveryEventParts; the stored JSON is never
    decoded);
  - the event names every *current* member and is published once on the conversation's channel:
    reading the members here orders the publish with membership changes (a member removed before
    it runs gets nothing; one added before it gets the message);
  - the outbox entry is cleared, so a job that runs again (stalled, retried, or re-enqueued by the
    sweeper) publishes nothing twice.
  The members are joined here (the event's middle part, see @chat/contracts deliveryEventParts).

  Input:
    KEYS[1] messages        sorted set of message JSON scored by seq
    KEYS[2] conversation    hash, its 'title' field goes into the frame
    KEYS[3] members         sorted set of member usernames
    KEYS[4] outbox          the old single outbox: sorted set of owed deliveries scored by acceptance time

    ARGV[1] seq             the message's seq
    ARGV[2] entry           its outbox entry
    ARGV[3] channel         the conversation's channel
    ARGV[4] head            the event up to the acceptance time
    ARGV[5] beforeMessage   the event from the members to the stored message
    ARGV[6] beforeTitle     the event from the stored message (less its closing brace) to the title
    ARGV[7] after           the event after the title's JSON
    ARGV[8] separator       between the acceptance time and the members
    ARGV[9] memberSeparator between two members

  Output:
    n    published, naming n members (0: nobody is a member, nothing published)
    -1   the outbox entry was already cleared: an earlier run published it
    -2   the message (trimmed from history) or its conversation no longer exists
]]
local messages, conv, members, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local seq, entry, channel = ARGV[1], ARGV[2], ARGV[3]
local head, beforeMessage, beforeTitle, after = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local acceptedAt = redis.call('ZSCORE', outbox, entry)
if not acceptedAt then return -1 end
redis.call('ZREM', outbox, entry)
local stored = redis.call('ZRANGEBYSCORE', messages, seq, seq)[1]
local title = redis.call('HGET', conv, 'title')
if not stored or not title then return -2 end
local users = redis.call('ZRANGE', members, 0, -1)
if #users == 0 then return 0 end
local event = head .. acceptedAt .. ARGV[8] .. table.concat(users, ARGV[9]) .. beforeMessage .. string.sub(stored, 1, -2) .. beforeTitle .. cjson.encode(title) .. after
redis.call('PUBLISH', channel, event)
return #users
