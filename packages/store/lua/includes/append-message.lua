--[[
  Stores a message from a member under the conversation's next seq and rev (the conversation's
  count of changes: messages added, edited or deleted; rev-index.lua), and records it in its
  partition's outbox: the entry (`<conversationId> <seq> <messageId> <message JSON>`) carries the
  message, so the drain publishes it without reading the history. The message JSON and the entry
  are assembled from a head and a tail around the seq and rev (message-store.ts puts `"rev":` right
  after the seq) so Lua never re-encodes the message (cjson would reorder keys and mangle numbers).
  With keep > 0 only the newest that many messages are kept, and the rev index with them.
  Then sets the partition's wake flag unless it is set: only the append that sets it has a drain
  job enqueued; until that drain runs (it clears the flag first), every later message rides on it.
  The TTL bounds how long an api that died before enqueueing can hold the flag.
  Returns { 1, seq, woke, rev } (woke: 1 when this append set the flag), or { 0, 0, 0 } when the
  author is not a member (or there is no conversation).
]]
local function appendMessage(conv, members, messages, outbox, wake, author, head, tail, entryHead, entryTail, now, keep, wakeTtlMs, revs)
  if not redis.call('ZSCORE', members, author) then return { 0, 0, 0 } end
  local seq = redis.call('HINCRBY', conv, 'seq', 1)
  local rev = redis.call('HINCRBY', conv, 'rev', 1)
  local message = head .. seq .. ',"rev":' .. rev .. tail
  redis.call('ZADD', messages, seq, message)
  indexRev(revs, rev, seq)
  if keep > 0 then
    local trimmed = redis.call('ZREMRANGEBYRANK', messages, 0, -keep - 1)
    if trimmed > 0 then unindexRevs(revs, seq - keep - trimmed + 1, seq - keep) end
  end
  redis.call('ZADD', outbox, now, entryHead .. seq .. entryTail .. ' ' .. message)
  local woke = 0
  if redis.call('SET', wake, '1', 'NX', 'PX', wakeTtlMs) then woke = 1 end
  return { 1, seq, woke, rev }
end
