-- Jobs read atomically.
-- KEYS: job:<id1>, hist:<id1>, job:<id2>, hist:<id2>, ...
-- -> one {hash fields, history} per id (empty fields when missing)
local out = {}
for i = 1, #KEYS, 2 do
  out[#out + 1] = {redis.call('HGETALL', KEYS[i]), redis.call('LRANGE', KEYS[i + 1], 0, -1)}
end
return out
