-- A new job, indexed, or the existing one for its idempotency key.
-- KEYS: 1 job:<id>, 2 hist:<id>, 3 idem:<key> (untouched when ARGV[3] is ''), 4 all,
--       5 t:<type>, 6 owner index (o:<owner> or uo), 7 types
-- ARGV: 1 p, 2 id, 3 idem ('' = none), 4 type, 5 status, 6 created_at, 7 priority,
--       8 nHist, hist entries..., field/value pairs...
-- -> {created (0|1), id}
local p, id, idem, typ, status, created, prio = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if idem ~= '' then
  local existing = redis.call('GET', KEYS[3])
  if existing then return {0, existing} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, id} end
local nh = tonumber(ARGV[8])
local i = 9
for _ = 1, nh do redis.call('RPUSH', KEYS[2], ARGV[i]); i = i + 1 end
local fields = {}
while i <= #ARGV do fields[#fields + 1] = ARGV[i]; i = i + 1 end
redis.call('HSET', KEYS[1], unpack(fields))
if idem ~= '' then redis.call('SET', KEYS[3], id) end
redis.call('ZADD', KEYS[4], created, id)
redis.call('ZADD', KEYS[5], created, id)
redis.call('ZADD', KEYS[6], created, id)
redis.call('SADD', KEYS[7], typ)
index(p, id, status, typ, created, prio)
return {1, id}
