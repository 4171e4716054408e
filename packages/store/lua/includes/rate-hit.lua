--[[
  Counts one hit on a fixed-window counter: returns the count and, when it is over `limit`, the
  window's remaining ms (a refusal's Retry-After); within the limit, windowMs (not read: the
  caller only needs the wait when it refuses, and PTTL would cost a command on every hit).
  A function, so a script that writes (the message append) can charge a limit in the same round
  trip and atomic step as its write.
]]
local function rateHit(key, windowMs, limit)
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, windowMs) end
  if count <= limit then return count, windowMs end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    -- A counter without a TTL would refuse for ever: give it its window.
    redis.call('PEXPIRE', key, windowMs)
    ttl = windowMs
  end
  return count, ttl
end
