--[[
  Counts one hit on each of two fixed-window counters, but only when neither is full yet: the
  attempt counts on both or on none (rate-limiter.ts, hitBothIfRoom). Counting before the work and
  in one step means concurrent attempts cannot all pass a check made before any of them counted.

  Input:
    KEYS[1] first      string counter of the window
    KEYS[2] second     string counter of the window (same hash tag as the first)

    ARGV[1] firstLimit    hits the first counter allows per window
    ARGV[2] firstWindow   its window's length in ms, set when the window opens
    ARGV[3] secondLimit
    ARGV[4] secondWindow

  Output:
    { 1, 0 }           counted on both
    { 0, ttl }         counted on neither: a counter is full; ttl is the ms until the later of the
                       full counters' windows resets
]]
--- @include "includes/rate-hit"
local waitMs = 0
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      -- A full counter without an expiry would refuse for ever: give it its window.
      ttl = tonumber(ARGV[2 * i])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
    if ttl > waitMs then waitMs = ttl end
  end
end
if waitMs > 0 then return { 0, waitMs } end
rateHit(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[1]))
rateHit(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[3]))
return { 1, 0 }
