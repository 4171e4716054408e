--[[
  Changes a conversation's title and/or members in one step, only if the caller is a member, and
  keeps every member's conversation index in step with the member set, and tells each user who
  joined or left on their channel, so gateways holding their sockets follow the conversation's
  channel (conversation-store.ts), and every member who stays that it changed (a `conversation`
  `updated` frame; one who joined gets `added` instead). The index keys and channels are built here (indexPrefix ..
  username .. indexSuffix, channelPrefix .. username) because the current member list is only
  known here: single-instance Redis, not Cluster.

  Input:
    KEYS[1] conversation     hash: 'title', 'createdAtMs' (index score), 'seq' (joined-at score)
    KEYS[2] members          sorted set of member usernames scored by the seq when they joined

    ARGV[1] caller
    ARGV[2] title            the new title; '' keeps it
    ARGV[3] replaceMembers   '1' to make the members ARGV[7..] (and the caller)
    ARGV[4] indexPrefix      a user's index is indexPrefix .. username .. indexSuffix
    ARGV[5] indexSuffix
    ARGV[6] id               the conversation's id, as its index entries hold it
    ARGV[7] channelPrefix    a user's channel is channelPrefix .. username
    ARGV[8] joinedMark       notice = mark .. id (@chat/contracts MEMBERSHIP_MARKS)
    ARGV[9] leftMark
    ARGV[10] updatedMark
    ARGV[11..] users         the new members

  Output:
    1   applied
    0   the caller is not a member, or the conversation does not exist
]]
local conv, members = KEYS[1], KEYS[2]
local caller, title, replaceMembers, indexPrefix, indexSuffix, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local channelPrefix, joinedMark, leftMark, updatedMark = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
if not redis.call('ZSCORE', members, caller) then return 0 end
if title ~= '' then redis.call('HSET', conv, 'title', title) end
local stayed = redis.call('ZRANGE', members, 0, -1)
if replaceMembers == '1' then
  local score = redis.call('HGET', conv, 'createdAtMs')
  local joinedAtSeq = redis.call('HGET', conv, 'seq')
  local wanted = { [caller] = true }
  for i = 11, #ARGV do wanted[ARGV[i]] = true end
  local current = {}
  local before = stayed
  stayed = {}
  for _, user in ipairs(before) do
    current[user] = true
    if wanted[user] then
      stayed[#stayed + 1] = user
    else
      redis.call('ZREM', members, user)
      redis.call('ZREM', indexPrefix .. user .. indexSuffix, id)
      redis.call('PUBLISH', channelPrefix .. user, leftMark .. id)
    end
  end
  for user in pairs(wanted) do
    if not current[user] then
      redis.call('ZADD', members, joinedAtSeq, user)
      redis.call('ZADD', indexPrefix .. user .. indexSuffix, score, id)
      redis.call('PUBLISH', channelPrefix .. user, joinedMark .. id)
    end
  end
end
for _, user in ipairs(stayed) do redis.call('PUBLISH', channelPrefix .. user, updatedMark .. id) end
return 1
