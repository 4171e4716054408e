--[[
  The messages of one conversation whose latest change has a rev in (after, until], in rev order,
  in their current version: what a gateway replays for a reconnect's `revs` or to close a gap in
  live events (message-store.ts). Read-only; the conversation's title, rev and seq are read in the
  same step, so every message changed after that rev shows up with its higher rev.

  Input:
    KEYS[1] conversation   hash: title, rev, seq
    KEYS[2] messages       sorted set of message JSON scored by seq
    KEYS[3] revs           sorted set of seqs scored by the rev of their latest change

    ARGV[1] after          exclusive lower bound of the revs
    ARGV[2] until          inclusive upper bound, or +inf
    ARGV[3] maxSeq         only messages with seq <= maxSeq (+inf: all)
    ARGV[4] limit          index entries looked at, at most

  Output:
    { title or false, rev, lastSeq, scanned, lastScannedRev, rev1, message1, rev2, message2, … }
      scanned          index entries looked at (limit: more may follow lastScannedRev)
      lastScannedRev   the rev of the last one looked at (after, when none)
      a message trimmed from history meanwhile is left out
]]
local conv, messages, revs = KEYS[1], KEYS[2], KEYS[3]
local maxSeq = ARGV[3] == '+inf' and math.huge or tonumber(ARGV[3])
local head = redis.call('HMGET', conv, 'title', 'rev', 'seq')
local found = redis.call('ZRANGEBYSCORE', revs, '(' .. ARGV[1], ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[4]))
local out = { head[1] or false, head[2] or '0', head[3] or '0', #found / 2, #found > 0 and found[#found] or ARGV[1] }
for i = 1, #found, 2 do
  if tonumber(found[i]) <= maxSeq then
    local message = redis.call('ZRANGEBYSCORE', messages, found[i], found[i])[1]
    if message then
      out[#out + 1] = found[i + 1]
      out[#out + 1] = message
    end
  end
end
return out
