-- Admit an attempt: see admitScript in redisstore.go.
local now = tonumber(ARGV[1])
local overlap = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local id = ARGV[4]
local lease = tonumber(ARGV[5])
local n = #KEYS / 3
local out = {0}
local refused, busy = false, false
for i = 0, n - 1 do
  local cur, prev, fl = KEYS[3*i+1], KEYS[3*i+2], KEYS[3*i+3]
  -- An attempt whose lease passed was never reported: one failure.
  local lapsed = redis.call('ZREMRANGEBYSCORE', fl, '-inf', now)
  if lapsed > 0 then
    redis.call('INCRBY', cur, lapsed)
    redis.call('PEXPIRE', cur, 2 * window)
  end
  local c = tonumber(redis.call('GET', cur) or '0')
  local p = tonumber(redis.call('GET', prev) or '0')
  local f = redis.call('ZCARD', fl)
  local limit = tonumber(ARGV[6 + i])
  local est = c + p * overlap
  if est >= limit then
    refused = true
  elseif est + f >= limit then
    busy = true
  end
  out[#out + 1] = c
  out[#out + 1] = p
  out[#out + 1] = f
end
if refused then
  out[1] = 1
  return out
end
if busy then
  out[1] = 2
  return out
end
for i = 0, n - 1 do
  local fl = KEYS[3*i+3]
  redis.call('ZADD', fl, lease, id)
  redis.call('PEXPIRE', fl, lease - now + 2 * window)
end
return out
