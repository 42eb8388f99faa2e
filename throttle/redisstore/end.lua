-- End an attempt: see endScript in redisstore.go.
local outcome = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local id = ARGV[3]
local n = #KEYS / 3
for i = 0, n - 1 do
  local cur, prev, fl = KEYS[3*i+1], KEYS[3*i+2], KEYS[3*i+3]
  local held = redis.call('ZREM', fl, id)
  if outcome == 1 and held == 1 then
    -- Failed, and still in flight: a lease that passed was counted already.
    redis.call('INCR', cur)
    redis.call('PEXPIRE', cur, 2 * window)
  elseif outcome == 2 and ARGV[4 + i] == '1' then
    redis.call('DEL', cur, prev)
  end
end
return 0
