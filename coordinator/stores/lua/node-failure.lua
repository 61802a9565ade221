-- One more failure of a node for a job type, with its reason.
-- KEYS: 1 nfc (counts), 2 nfr (last reasons)
-- ARGV: 1 p, 2 field (node NUL type), 3 {last_reason, at} JSON
-- -> the new count
local n = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return n
