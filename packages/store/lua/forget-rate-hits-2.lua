--[[
  Forgets a counter and takes its hits back from a second counter that counted each of them too
  (rate-limiter.ts, forget): a login that succeeds forgives the failures for its username at its
  address as well. Hits the second counter's window no longer holds (it reset since) are not taken
  back twice: it never goes below zero, and a counter emptied is deleted.

  Input:
    KEYS[1] counter    string counter to forget
    KEYS[2] total      string counter of the same hits among others (same hash tag)

  Output:
    the hits taken back from the total
]]
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('DEL', KEYS[1])
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
if hits <= 0 or total <= 0 then return 0 end
if hits >= total then
  redis.call('DEL', KEYS[2])
  return total
end
redis.call('DECRBY', KEYS[2], hits)
return hits
