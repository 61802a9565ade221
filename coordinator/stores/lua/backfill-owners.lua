-- Index jobs created before the owner index existed (idempotent). A job purged meanwhile is
-- skipped (its hash is gone), so the backfill never re-adds a deleted job to an owner set.
-- The owner index keys follow each job's stored owner, so they are built from the prefix.
-- ARGV: 1 p, 2.. job ids
-- -> how many of the ids still exist
local p = ARGV[1]
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', p..'job:'..id, 'owner', 'created_at')
  if f[2] then
    local owner = ''
    if f[1] then owner = cjson.decode(f[1]) end
    if type(owner) ~= 'string' then owner = '' end
    redis.call('ZADD', p..ownerkey(owner), f[2], id)
    n = n + 1
  end
end
return n
