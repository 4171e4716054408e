--[[
  append-message-6.lua, after counting the author's rate-limit hit in the same atomic step: nothing
  is stored when the limit is used up (message-store.ts).

  Input:
    KEYS[1..5]             as append-message-6.lua
    KEYS[6] counter        the author's rate-limit counter (as count-rate-hit-1.lua)
    KEYS[7] revs           as append-message-6.lua's KEYS[6]

    ARGV[1..8]             as append-message-6.lua
    ARGV[9] limit          hits allowed per window
    ARGV[10] windowMs      the window's length in ms

  Output:
    { 1, seq, woke, rev }  stored (as append-message-6.lua)
    { 0, 0, 0 }            the author is not a member, or the conversation does not exist
    { -1, ttl, 0 }         the limit is used up; ttl is the window's remaining ms
]]
--- @include "includes/rate-hit"
--- @include "includes/rev-index"
--- @include "includes/append-message"
local count, ttl = rateHit(KEYS[6], tonumber(ARGV[10]), tonumber(ARGV[9]))
if count > tonumber(ARGV[9]) then return { -1, ttl, 0 } end
return appendMessage(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], KEYS[7])
