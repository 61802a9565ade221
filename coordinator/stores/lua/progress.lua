-- Progress of a running job, only under its current lease.
-- KEYS: 1 job:<id>
-- ARGV: 1 p, 2 token, 3 progress, 4 updated_at, 5 message JSON ('' = keep)
-- -> 1 | 0
local cur = redis.call('HMGET', KEYS[1], 'status', '_lt')
if cur[1] ~= 'running' or cur[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[3], 'updated_at', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'message', ARGV[5]) end
return 1
