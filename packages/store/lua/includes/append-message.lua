--[[
  Stores a message from a member under the conversation's next seq, and records it in the outbox.
  The message JSON and the outbox entry are assembled from a head and a tail around the seq so
  Lua never re-encodes the message (cjson would reorder keys and mangle numbers). With keep > 0
  only the newest that many messages are kept.
  Returns { 1, seq }, or { 0, 0 } when the author is not a member (or there is no conversation).
]]
local function appendMessage(conv, members, messages, outbox, author, head, tail, entryHead, entryTail, now, keep)
  if not redis.call('ZSCORE', members, author) then return { 0, 0 } end
  local seq = redis.call('HINCRBY', conv, 'seq', 1)
  redis.call('ZADD', messages, seq, head .. seq .. tail)
  if keep > 0 then redis.call('ZREMRANGEBYRANK', messages, 0, -keep - 1) end
  redis.call('ZADD', outbox, now, entryHead .. seq .. entryTail)
  return { 1, seq }
end
