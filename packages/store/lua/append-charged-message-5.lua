--[[
  append-message-4.lua, after counting the author's rate-limit hit in the same atomic step: nothing
  is stored when the limit is used up (message-store.ts).

  Input:
    KEYS[1..4]             as append-message-4.lua
    KEYS[5] counter        the author's rate-limit counter (as count-rate-hit-1.lua)

    ARGV[1..7]             as append-message-4.lua
    ARGV[8] limit          hits allowed per window
    ARGV[9] windowMs       the window's length in ms

  Output:
    { 1, seq }             stored
    { 0, 0 }               the author is not a member, or the conversation does not exist
    { -1, ttl }            the limit is used up; ttl is the window's remaining ms
]]
--- @include "includes/rate-hit"
--- @include "includes/append-message"
local count, ttl = rateHit(KEYS[5], tonumber(ARGV[9]))
if count > tonumber(ARGV[8]) then return { -1, ttl } end
return appendMessage(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]))
