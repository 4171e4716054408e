--[[
  Changes a conversation's title and/or members, only if the caller is a member: the
  conversation's side, in one atomic step. The members' side (their conversation indexes and the
  notices on their channels) lives in their own slots on Redis Cluster, so conversation-store.ts
  writes it around this script: for users it expects to add, before (a gateway follows the
  conversation a little early, harmless: events name their members); for those removed (and any
  added that it did not expect), after, from what this returns; and after, the members who stay
  are told it changed (a `conversation` `updated` frame; one who joined gets `added` instead).
  The delivery header (the drain's cache of title and members, keys.ts deliveryHeader) is deleted
  here, in the same step as the change, so no event published after it names a removed member or
  the old title; deleted first, before any other write, so that a script failing on a key that
  already moved (a slot migrating) has changed nothing the header still says.

  Input:
    KEYS[1] conversation     hash: 'title', 'seq' (joined-at score)
    KEYS[2] members          sorted set of member usernames scored by the seq when they joined
    KEYS[3] deliveryHeader   string: the drain's cache of the title and members, deleted

    ARGV[1] caller
    ARGV[2] title            the new title; '' keeps it
    ARGV[3] replaceMembers   '1' to make the members ARGV[4..] (and the caller)
    ARGV[4..] users          the new members

  Output:
    { 1, joined, left, user…, user…, user… }   applied: `joined` users that joined, then `left`
                                              users that left, then every member now
    { 0 }                        the caller is not a member, or the conversation does not exist
]]
local conv, members, deliveryHeader = KEYS[1], KEYS[2], KEYS[3]
local caller, title, replaceMembers = ARGV[1], ARGV[2], ARGV[3]
if not redis.call('ZSCORE', members, caller) then return { 0 } end
redis.call('DEL', deliveryHeader)
if title ~= '' then redis.call('HSET', conv, 'title', title) end
local joined, left = {}, {}
if replaceMembers == '1' then
  local joinedAtSeq = redis.call('HGET', conv, 'seq')
  local wanted = { [caller] = true }
  for i = 4, #ARGV do wanted[ARGV[i]] = true end
  local current = {}
  for _, user in ipairs(redis.call('ZRANGE', members, 0, -1)) do
    current[user] = true
    if not wanted[user] then
      redis.call('ZREM', members, user)
      left[#left + 1] = user
    end
  end
  for user in pairs(wanted) do
    if not current[user] then
      redis.call('ZADD', members, joinedAtSeq, user)
      joined[#joined + 1] = user
    end
  end
end
local reply = { 1, #joined, #left }
for _, user in ipairs(joined) do reply[#reply + 1] = user end
for _, user in ipairs(left) do reply[#reply + 1] = user end
for _, user in ipairs(redis.call('ZRANGE', members, 0, -1)) do reply[#reply + 1] = user end
return reply
