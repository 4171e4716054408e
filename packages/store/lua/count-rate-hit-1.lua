--[[
  Counts one hit on a fixed-window rate-limit counter (rate-limiter.ts).

  Input:
    KEYS[1] counter    string counter of the window

    ARGV[1] windowMs   the window's length in ms, set when the window opens

  Output:
    { count, ttl }     the hits counted in this window so far, and its remaining ms
]]
--- @include "includes/rate-hit"
return { rateHit(KEYS[1], tonumber(ARGV[1])) }
