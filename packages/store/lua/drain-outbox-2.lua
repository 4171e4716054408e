--[[
  Delivers the oldest messages (and edits and deletions) one delivery partition owes, in one atomic
  step (delivery-store.ts). For each message it does what deliver-message-4.lua does for one: the outbox entry says it is
  still owed (its score is when the api accepted it) and carries the message as stored (entries of
  releases before that are read from the history); the event is made from that message,
  the conversation's current title and its *current* members, read here (from its delivery
  header when it has one, see below), by concatenation with
  the parts @chat/contracts describes (batchDeliveryEventParts; the stored JSON is never decoded);
  it is published once, on the conversation's channel, naming those members: a member removed
  before this runs is not named and gets nothing. The entry is removed here, so a drain that runs
  again (a second job, a stalled or retried one, a sweeper's) publishes nothing twice.
  - The wake flag is cleared: a message appended after this script sets it again, and its api
    enqueues a new drain. Every entry is thus either taken here or has a drain pending. With
    awakeTtlMs ~= 0 and entries taken, the flag is kept instead (> 0: for awakeTtlMs from now;
    < 0: as it is, the caller having renewed it recently): the caller promises to run this script
    again soon, and what is appended meanwhile waits for that run rather than enqueueing a job of
    its own (a busy partition's drains linger). With idleAwake, the flag is kept so even when no
    entry was taken, if it is still set: the caller lingers through a short quiet spell rather than
    have the next message pay for a new job.
  - The oldest entries are read, and those published (or gone) removed; a full batch says more
    may be owed (if none are, the caller's next round finds nothing).
  - An entry whose conversation is not found, without the tombstone its deletion leaves
    (leave-conversation-7.lua), stays for a later drain: on Redis Cluster its keys may be moving
    to another node. Older than goneAfterMs, it is counted gone.
  - Entries are grouped by conversation and published in rev order (acceptance times of one
    conversation can tie, or even go backwards across api clocks); a conversation's title and
    members are read once per batch. The rev is the message's `"rev":N` (written by this release
    right after the seq; the first such field of the JSON, as text values escape their quotes),
    and the event carries it after the members; entries of earlier releases have none and go
    first, in seq order, in events without it.
  - The title and members come from the conversation's delivery header (keys.ts deliveryHeader:
    `<cjson-encoded title>\n<members joined by memberSeparator>`): one GET, whatever the room's
    size. Without one (data of earlier releases; and it is deleted with every change of the title
    or members, and with the conversation, in the same atomic step as the change:
    update-conversation-3.lua, leave-conversation-7.lua, conversation-store.ts create), the
    hash's title and the members are read as before, and when the conversation is present the
    header is written, after everything else (the publishes included), so the next batch finds
    it. A header that cannot be read (on a cluster, a key that already moved away while its slot
    migrates) is read around, and not written.
  - An update entry (`<conversationId> <seq> <messageId> u <message>`, an edit or deletion of
    message seq) is published the same way, as a `message_updated` frame (beforeUpdated).
  Keys not in KEYS: each conversation's hash, members, messages, tombstone and delivery header
  (conversationPrefix .. id .. suffix) and its channel (channelPrefix .. id) are only known from
  the entries read here. On Redis Cluster they carry the partition's hash tag (keys.ts), so they
  share the outbox's slot, and the event goes out with SPUBLISH (publishCommand), which a script
  may send on a channel of its slot.

  Input:
    KEYS[1] outbox               the partition's sorted set of owed deliveries scored by acceptance time
    KEYS[2] wake                 the partition's wake flag

    ARGV[1] limit                entries taken at most
    ARGV[2] conversationPrefix   a conversation's hash is conversationPrefix .. id
    ARGV[3] membersSuffix        its members: conversationPrefix .. id .. membersSuffix
    ARGV[4] messagesSuffix       its messages: conversationPrefix .. id .. messagesSuffix
    ARGV[5] channelPrefix        a conversation's channel is channelPrefix .. id
    ARGV[6] separator            the event is conversationId .. separator .. seq .. separator ..
    ARGV[7] beforeMessage          acceptedAt .. separator .. members joined by memberSeparator ..
    ARGV[8] beforeTitle            beforeMessage .. stored-without-its-closing-brace ..
    ARGV[9] after                  beforeTitle .. JSON(title) .. after
    ARGV[10] awakeTtlMs          0: clear the wake flag; when entries were taken, > 0: keep it that
                                 long, < 0: keep it as it is
    ARGV[11] memberSeparator
    ARGV[12] publishCommand      'PUBLISH', or 'SPUBLISH' on Redis Cluster
    ARGV[13] goneSuffix          a deleted conversation's tombstone: conversationPrefix .. id .. goneSuffix
    ARGV[14] nowMs
    ARGV[15] goneAfterMs         an entry older than this whose conversation is not found is gone
    ARGV[16] beforeUpdated       beforeMessage of an update entry's event
    ARGV[17] report              '1': also return every event published (offline notifications
                                 need them); anything else: nothing more (no cost)
    ARGV[18] deliveryHeaderSuffix  a conversation's delivery header (string, see above):
                                 conversationPrefix .. id .. deliveryHeaderSuffix
    ARGV[19] idleAwake           '1': keep the wake flag (as awakeTtlMs says) also when nothing was
                                 taken, if it is set

  Output:
    { delivered, recipients, gone, malformed, more, awake, waiting[, events] }
      delivered   messages published (one event each)
      recipients  members the events named, summed
      gone        entries whose conversation (or, for an entry without its message, whose stored
                  message) no longer exists, or that has no member left
      malformed   entries that were not `<conversationId> <seq> <messageId>[ <message>]`, dropped
      more        1 when the batch was full: more may be owed
      awake       1 when the wake flag was kept: the caller must run the script again
      waiting     entries left in the outbox: their conversation is not found here (and not deleted)
      events      with report: the events published, in order
]]
local outbox, wake = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[1])
local conversationPrefix, membersSuffix, messagesSuffix, channelPrefix = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local separator, beforeMessage, beforeTitle, after = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local awakeTtlMs = tonumber(ARGV[10])
local memberSeparator = ARGV[11]
local publishCommand = ARGV[12]
local goneSuffix, nowMs, goneAfterMs = ARGV[13], tonumber(ARGV[14]), tonumber(ARGV[15])
local beforeUpdated = ARGV[16]
local report = ARGV[17] == '1'
local headerSuffix = ARGV[18]
local idleAwake = ARGV[19] == '1'
-- memberSeparator as a pattern matching itself, to count the members a header names.
local memberPattern = string.gsub(memberSeparator, '%W', '%%%0')

-- Every read comes before any write: on Redis Cluster, while a slot migrates, reading a key that
-- already moved fails the script, and a script that failed has kept the writes it made before.
local rows = redis.call('ZRANGE', outbox, 0, limit - 1, 'WITHSCORES')
-- An idle round keeps only a flag that is still set: one that lapsed or was cleared may already
-- have been set again by an append that enqueued a drain of its own.
local flagHeld = idleAwake and awakeTtlMs ~= 0 and redis.call('EXISTS', wake) == 1

local order, groups = {}, {}
local taken = {}
local delivered, recipients, gone, malformed, waiting = 0, 0, 0, 0, 0
for i = 1, #rows, 2 do
  local entry = rows[i]
  local id, seq, message = string.match(entry, '^(%S+) ([1-9]%d*) %S+ ?(.*)$')
  if id then
    local group = groups[id]
    if not group then
      group = {}
      groups[id] = group
      order[#order + 1] = id
    end
    local updated = string.sub(message, 1, 2) == 'u '
    if updated then message = string.sub(message, 3) end
    local rev = message ~= '' and string.match(message, '"rev":(%d+)') or nil
    group[#group + 1] = {
      entry = entry, seq = tonumber(seq), seqText = seq, rev = rev and tonumber(rev) or 0, revText = rev, updated = updated,
      acceptedAt = rows[i + 1], message = message ~= '' and message or nil,
    }
  else
    malformed = malformed + 1
    taken[#taken + 1] = entry
  end
end

local events = {}
-- Delivery headers missed and to write: key, value, key, value…
local headers = {}
local function byRev(a, b)
  if a.rev ~= b.rev then return a.rev < b.rev end
  return a.seq < b.seq
end
for _, id in ipairs(order) do
  local group = groups[id]
  table.sort(group, byRev)
  local conv = conversationPrefix .. id
  local headerKey = conv .. headerSuffix
  -- pcall: on a cluster, a header that already moved away (its slot migrating) is an error here;
  -- read around it as without one (the hash and members then fail the script if they moved too).
  local header = redis.pcall('GET', headerKey)
  local cut = type(header) == 'string' and string.find(header, '\n', 1, true)
  local present, deleted, encodedTitle, joined, count
  if cut then
    -- Written only for a present conversation (a title, a member at least), and deleted with it.
    present = true
    encodedTitle = string.sub(header, 1, cut - 1)
    joined = string.sub(header, cut + 1)
    count = select(2, string.gsub(joined, memberPattern, '')) + 1
  else
    local title = redis.call('HGET', conv, 'title')
    local users = title and redis.call('ZRANGE', conv .. membersSuffix, 0, -1) or {}
    -- A conversation has members until it is deleted, and its deletion leaves a tombstone. Without
    -- either, its keys are elsewhere: a slot being migrated (the script may run on the node that
    -- imports it via ASK). Its entries wait for a later drain, unless they are older than any
    -- migration (conversations deleted before tombstones existed).
    deleted = not title and redis.call('EXISTS', conv .. goneSuffix) == 1
    present = title and #users > 0
    if present then
      encodedTitle = cjson.encode(title)
      joined = table.concat(users, memberSeparator)
      count = #users
      if type(header) ~= 'table' then
        headers[#headers + 1] = headerKey
        headers[#headers + 1] = encodedTitle .. '\n' .. joined
      end
    end
  end
  local stored = {}
  local unread = {}
  for _, item in ipairs(group) do
    if not item.message then unread[#unread + 1] = item end
  end
  if present and #unread > 0 then
    -- Entries written before they carried their message: read it from the history.
    local messages = conv .. messagesSuffix
    local first, last = unread[1].seq, unread[#unread].seq
    if last - first < 2 * #unread then
      -- Dense: one read for the whole run of seqs, at most twice the entries.
      local found = redis.call('ZRANGEBYSCORE', messages, first, last, 'WITHSCORES')
      for j = 1, #found, 2 do stored[tonumber(found[j + 1])] = found[j] end
    else
      for _, item in ipairs(unread) do stored[item.seq] = redis.call('ZRANGEBYSCORE', messages, item.seq, item.seq)[1] end
    end
  end
  local named = present and (separator .. joined)
  local channel = channelPrefix .. id
  for _, item in ipairs(group) do
    local message = item.message or stored[item.seq]
    if present and message then
      local revText = item.revText or (not item.message and string.match(message, '"rev":(%d+)'))
      local rev = revText and (separator .. revText) or ''
      local opening = item.updated and beforeUpdated or beforeMessage
      events[#events + 1] = channel
      events[#events + 1] = id .. separator .. item.seqText .. separator .. item.acceptedAt .. named .. rev .. opening .. string.sub(message, 1, -2) .. beforeTitle .. encodedTitle .. after
      delivered = delivered + 1
      recipients = recipients + count
      taken[#taken + 1] = item.entry
    elseif present or deleted or tonumber(item.acceptedAt) < nowMs - goneAfterMs then
      gone = gone + 1
      taken[#taken + 1] = item.entry
    else
      waiting = waiting + 1
    end
  end
end

-- Writes. Only what was taken leaves the outbox; a batch that took nothing says no more (a drain
-- now would find the same waiting entries), and the next append or the sweeper tries again.
for i = 1, #taken, 1000 do redis.call('ZREM', outbox, unpack(taken, i, math.min(i + 999, #taken))) end
local more = (#rows == 2 * limit and #taken > 0) and 1 or 0
local awake = 0
if awakeTtlMs ~= 0 and (#taken > 0 or flagHeld) then
  if awakeTtlMs > 0 then redis.call('SET', wake, '1', 'PX', awakeTtlMs) end
  awake = 1
else
  redis.call('DEL', wake)
end
for i = 1, #events, 2 do redis.call(publishCommand, events[i], events[i + 1]) end
-- Last: a header that cannot be written costs the next batch a read, never a publish. pcall: it
-- must not fail a script whose entries are already removed and published.
for i = 1, #headers, 2 do redis.pcall('SET', headers[i], headers[i + 1]) end
if report then
  local published = {}
  for i = 2, #events, 2 do published[#published + 1] = events[i] end
  return { delivered, recipients, gone, malformed, more, awake, waiting, published }
end
return { delivered, recipients, gone, malformed, more, awake, waiting }
