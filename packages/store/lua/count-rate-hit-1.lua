--[[
  Counts one hit on a fixed-window rate-limit counter (rate-limiter.ts).

  Input:
    KEYS[1] counter    string counter of the window

    ARGV[1] windowMs   the window's length in ms, set when the window opens
    ARGV[2] limit      hits allowed per window

  Output:
    { count, ttl }     the hits counted in this window so far, and when count > limit the
                       window's remaining ms (else windowMs)
]]
--- @include "includes/rate-hit"
return { rateHit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])) }
