--[[
  A conversation's rev index (keys.ts revs()): member seq, score the rev of that message's latest
  change, so a gateway finds what changed after a rev (a reconnect's `revs`, a gap in live events)
  without reading the history. Every message of this release is in it; its entries go with the
  messages when the history is trimmed.
]]
local function indexRev(revs, rev, seq)
  redis.call('ZADD', revs, rev, seq)
end

-- Messages are stored under consecutive seqs and trimmed oldest first, so a trim removed exactly
-- the seqs first..last.
local function unindexRevs(revs, first, last)
  local batch = {}
  for seq = math.max(first, 1), last do
    batch[#batch + 1] = seq
    if #batch == 1000 then
      redis.call('ZREM', revs, unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('ZREM', revs, unpack(batch)) end
end
