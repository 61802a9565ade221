-- Compare-and-set of one job: status in `from`, lease token (when given), then the patch,
-- an optional lease grant (token = last + 1, attempts + 1) and history entry, and the
-- status indexes moved (their keys follow the statuses read here: see move.lua).
-- KEYS: 1 job:<id>, 2 hist:<id>
-- ARGV: 1 p, 2 id, 3 from (",a,b,"), 4 leaseToken ('' = unchecked), 5 grantNode ('' = no grant),
--       6 grantExpires, 7 history JSON ('' = none), 8 nUnset, unset fields..., set field/value pairs...
-- -> {hash fields, history} or false when a precondition failed.
local p, id = ARGV[1], ARGV[2]
local key = KEYS[1]
local cur = redis.call('HMGET', key, 'status', '_lt', 'type', 'created_at', 'priority')
if not cur[1] then return false end
if not string.find(ARGV[3], ','..cur[1]..',', 1, true) then return false end
if ARGV[4] ~= '' and cur[2] ~= ARGV[4] then return false end
local nu = tonumber(ARGV[8])
local i = 9
local sets = {}
local unsets = {}
for _ = 1, nu do unsets[#unsets + 1] = ARGV[i]; i = i + 1 end
while i <= #ARGV do sets[#sets + 1] = ARGV[i]; i = i + 1 end
if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
if #unsets > 0 then redis.call('HDEL', key, unpack(unsets)) end
if ARGV[5] ~= '' then
  local t = redis.call('HINCRBY', key, '_seq', 1)
  redis.call('HSET', key, '_ln', ARGV[5], '_lt', tostring(t), '_le', ARGV[6])
  redis.call('HINCRBY', key, 'attempts', 1)
end
if ARGV[7] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[7]) end
local now = redis.call('HGET', key, 'status')
if now ~= cur[1] then
  unindex(p, id, cur[1], cur[3])
  index(p, id, now, cur[3], cur[4], cur[5])
end
return {redis.call('HGETALL', key), redis.call('LRANGE', KEYS[2], 0, -1)}
