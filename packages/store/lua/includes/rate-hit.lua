--[[
  Counts one hit on a fixed-window counter: returns the count and the window's remaining ms.
  A function, so a script that writes (the message append) can charge a limit in the same round
  trip and atomic step as its write.
]]
local function rateHit(key, windowMs)
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, windowMs) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, windowMs)
    ttl = windowMs
  end
  return count, ttl
end
