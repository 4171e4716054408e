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
  In the same step, in the same HSET as the seq: the conversation's lastMessageAt, and the seq of
  the author's last message here (read-cursor.ts: their read cursor is at least that).
  With a clientId (1.1, sending exactly once): a message the author already posted here with it
  is answered instead of storing anything (its current version: edits show, a tombstone is a
  conflict); its key (`<seq> <fingerprint of the text>`) expires on its own after clientIdTtlMs.
  Atomic, so concurrent repeats store one message.

  KEYS and ARGV as append-message-7.lua states them (append-charged-message-8.lua has the same
  first ones).
  Returns { 1, seq, woke, rev } (woke: 1 when this append set the flag), { 0, 0, 0 } when the
  author is not a member (or there is no conversation), { 2, seq, 0, message JSON } for a repeat
  of a clientId, { 3, 0, 0 } for its repeat with another text or of a deleted message, { 4, seq, 0 }
  for a repeat whose message is no longer stored (retention trimmed it).
]]
local function appendMessage(keys, argv)
  local conv, members, messages, outbox, wake, clientIdKey, revs = keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7]
  local author, head, tail, entryHead, entryTail, now = argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]
  local keep, wakeTtlMs, createdAt = tonumber(argv[7]), argv[8], argv[9]
  local clientId, fingerprint, clientIdTtlMs, authoredField = argv[10], argv[11], argv[12], argv[13]
  if not redis.call('ZSCORE', members, author) then return { 0, 0, 0 } end
  if clientId ~= '' then
    local known = redis.call('GET', clientIdKey)
    if known then
      local knownSeq, knownFingerprint = string.match(known, '^(%d+) (.*)$')
      if knownFingerprint ~= fingerprint then return { 3, 0, 0 } end
      local stored = redis.call('ZRANGEBYSCORE', messages, knownSeq, knownSeq)[1]
      if not stored then return { 4, tonumber(knownSeq), 0 } end
      if string.find(stored, '"deletedAt":', 1, true) then return { 3, 0, 0 } end
      return { 2, tonumber(knownSeq), 0, stored }
    end
  end
  -- One read and one write of the conversation's hash for its seq, rev, lastMessageAt and the
  -- author's last seq (rather than two HINCRBYs, an HSET and a write to the reads hash): every
  -- command here is paid per message.
  local counters = redis.call('HMGET', conv, 'seq', 'rev')
  local seq = (tonumber(counters[1]) or 0) + 1
  local rev = (tonumber(counters[2]) or 0) + 1
  redis.call('HSET', conv, 'seq', seq, 'rev', rev, 'lastMessageAt', createdAt, authoredField, seq)
  local message = head .. seq .. ',"rev":' .. rev .. tail
  redis.call('ZADD', messages, seq, message)
  indexRev(revs, rev, seq)
  if keep > 0 then
    local trimmed = redis.call('ZREMRANGEBYRANK', messages, 0, -keep - 1)
    if trimmed > 0 then unindexRevs(revs, seq - keep - trimmed + 1, seq - keep) end
  end
  if clientId ~= '' then redis.call('SET', clientIdKey, seq .. ' ' .. fingerprint, 'PX', clientIdTtlMs) end
  redis.call('ZADD', outbox, now, entryHead .. seq .. entryTail .. ' ' .. message)
  local woke = 0
  if redis.call('SET', wake, '1', 'NX', 'PX', wakeTtlMs) then woke = 1 end
  return { 1, seq, woke, rev }
end
