--[[
  A member is typing (typing-relay.ts): checks membership, throttles per user and conversation
  across every gateway, and publishes one event on the conversation's channel naming the other
  members as read here (@chat/contracts typingEventParts). Nothing is stored but the throttle.
  Both keys, and the channel, are the one conversation's.

  Input:
    KEYS[1] members   the conversation's members
    KEYS[2] throttle  set while this user's typing in it is throttled

    ARGV[1] user
    ARGV[2] throttleMs
    ARGV[3] channel          the conversation's channel
    ARGV[4] mark             the event is mark .. members joined by memberSeparator ..
    ARGV[5] memberSeparator    separator .. frame
    ARGV[6] separator
    ARGV[7] frame
    ARGV[8] publishCommand   'PUBLISH', or 'SPUBLISH' on Redis Cluster (the channel is in the conversation's slot)

  Output:
    1    relayed (or nobody else to tell)
    0    throttled: dropped
    -1   not a member (or no such conversation)
]]
local members, throttle = KEYS[1], KEYS[2]
local user = ARGV[1]
if not redis.call('ZSCORE', members, user) then return -1 end
if not redis.call('SET', throttle, '1', 'NX', 'PX', ARGV[2]) then return 0 end
local others = {}
for _, member in ipairs(redis.call('ZRANGE', members, 0, -1)) do
  if member ~= user then others[#others + 1] = member end
end
if #others > 0 then
  redis.call(ARGV[8], ARGV[3], ARGV[4] .. table.concat(others, ARGV[5]) .. ARGV[6] .. ARGV[7])
end
return 1
