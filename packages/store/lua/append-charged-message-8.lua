--[[
  append-message-7.lua, after counting the author's rate-limit hit in the same atomic step: nothing
  is stored when the limit is used up (message-store.ts).

  Input:
    KEYS[1..7]             as append-message-7.lua
    KEYS[8] counter        the author's rate-limit counter (as count-rate-hit-1.lua)

    ARGV[1..13]            as append-message-7.lua
    ARGV[14] limit         hits allowed per window
    ARGV[15] windowMs      the window's length in ms

  Output:
    as append-message-7.lua, or
    { -1, ttl, 0 }         the limit is used up; ttl is the window's remaining ms
]]
--- @include "includes/rate-hit"
--- @include "includes/rev-index"
--- @include "includes/append-message"
local count, ttl = rateHit(KEYS[8], tonumber(ARGV[15]), tonumber(ARGV[14]))
if count > tonumber(ARGV[14]) then return { -1, ttl, 0 } end
return appendMessage(KEYS, ARGV)
