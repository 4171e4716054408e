--[[
  append-message-8.lua, after counting the author's rate-limit hit in the same atomic step: nothing
  is stored when the limit is used up (message-store.ts).

  Input:
    KEYS[1..8]             as append-message-8.lua
    KEYS[9] counter        the author's rate-limit counter (as count-rate-hit-1.lua)

    ARGV[1..12]            as append-message-8.lua
    ARGV[13] limit         hits allowed per window
    ARGV[14] windowMs      the window's length in ms

  Output:
    as append-message-8.lua, or
    { -1, ttl, 0 }         the limit is used up; ttl is the window's remaining ms
]]
--- @include "includes/rate-hit"
--- @include "includes/rev-index"
--- @include "includes/append-message"
local count, ttl = rateHit(KEYS[9], tonumber(ARGV[14]), tonumber(ARGV[13]))
if count > tonumber(ARGV[13]) then return { -1, ttl, 0 } end
return appendMessage(KEYS, ARGV)
