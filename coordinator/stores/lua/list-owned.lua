-- One owner-filtered page, read atomically.
-- KEYS: 1 the owner index (o:<name> or uo), 2 a second index to intersect with (s:<status>,
--       t:<type> or st:<status>:<type>; ignored when ARGV[1] is ''), 3 tmp:list (scratch)
-- ARGV: 1 '1' to intersect with KEYS[2], '' not to; 2 start, 3 stop (ZREVRANGE ranks)
-- -> {ids newest first, total}
--
-- With a second index the two zsets are intersected into the scratch key (ZINTERSTORE walks
-- the smaller input, so the cost follows min(owner's jobs, status/type matches); WEIGHTS 1 0
-- keeps the created_at score), read, and deleted in the same call; the short PEXPIRE only
-- guards against a script aborted between the store and the delete. Exact totals come for
-- free from ZCARD, which filtering one set page by page could not give without a full scan.
local start, stop = ARGV[2], ARGV[3]
if ARGV[1] == '' then
  return {redis.call('ZREVRANGE', KEYS[1], start, stop), redis.call('ZCARD', KEYS[1])}
end
redis.call('ZINTERSTORE', KEYS[3], 2, KEYS[1], KEYS[2], 'WEIGHTS', 1, 0)
redis.call('PEXPIRE', KEYS[3], 10000)
local ids = redis.call('ZREVRANGE', KEYS[3], start, stop)
local n = redis.call('ZCARD', KEYS[3])
redis.call('DEL', KEYS[3])
return {ids, n}
