--[[
  Stores a message from a member under the conversation's next seq, and records it in its
  partition's outbox: the entry (`<conversationId> <seq> <messageId> <message JSON>`) carries the
  message, so the drain publishes it without reading the history. The message JSON and the entry
  are assembled from a head and a tail around the seq so Lua never re-encodes the message (cjson
  would reorder keys and mangle numbers).
  With keep > 0 only the newest that many messages are kept.
  Then sets the partition's wake flag unless it is set: only the append that sets it has a drain
  job enqueued; until that drain runs (it clears the flag first), every later message rides on it.
  The TTL bounds how long an api that died before enqueueing can hold the flag.
  Returns { 1, seq, woke } (woke: 1 when this append set the flag), or { 0, 0, 0 } when the
  author is not a member (or there is no conversation).
]]
local function appendMessage(conv, members, messages, outbox, wake, author, head, tail, entryHead, entryTail, now, keep, wakeTtlMs)
  if not redis.call('ZSCORE', members, author) then return { 0, 0, 0 } end
  local seq = redis.call('HINCRBY', conv, 'seq', 1)
  local message = head .. seq .. tail
  redis.call('ZADD', messages, seq, message)
  if keep > 0 then redis.call('ZREMRANGEBYRANK', messages, 0, -keep - 1) end
  redis.call('ZADD', outbox, now, entryHead .. seq .. entryTail .. ' ' .. message)
  local woke = 0
  if redis.call('SET', wake, '1', 'NX', 'PX', wakeTtlMs) then woke = 1 end
  return { 1, seq, woke }
end
