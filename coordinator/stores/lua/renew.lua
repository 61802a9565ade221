-- A later lease expiry for a running job, only under its current lease.
-- KEYS: 1 job:<id>
-- ARGV: 1 p, 2 token, 3 expires_at
-- -> 1 | 0
local cur = redis.call('HMGET', KEYS[1], 'status', '_lt')
if cur[1] ~= 'running' or cur[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], '_le', ARGV[3])
return 1
