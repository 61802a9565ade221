-- Finished jobs created before a time, deleted with their index entries, a batch at a time.
-- The keys are those of the jobs found in the status indexes, so they are built from the
-- prefix (ARGV[1]) here: no caller could declare them.
-- ARGV: 1 p, 2 before (created_at), 3 batch limit, 4.. the terminal statuses (core/job.ts)
-- -> number of jobs deleted (call again while it returns the limit)
local p, before, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = 0
for s = 4, #ARGV do
  local status = ARGV[s]
  local ids = redis.call('ZRANGEBYSCORE', p..'s:'..status, '-inf', '('..before, 'LIMIT', 0, limit - n)
  for _, id in ipairs(ids) do
    local key = p..'job:'..id
    local f = redis.call('HMGET', key, 'type', 'idempotency_key', 'owner')
    local typ = f[1] or ''
    local owner = ''
    if f[3] then owner = cjson.decode(f[3]) end
    if type(owner) ~= 'string' then owner = '' end
    if f[2] then
      local ik = p..'idem:'..cjson.decode(f[2])
      if redis.call('GET', ik) == id then redis.call('DEL', ik) end
    end
    redis.call('DEL', key, p..'hist:'..id, p..'dec:'..id)
    redis.call('ZREM', p..'s:'..status, id)
    redis.call('ZREM', p..'st:'..status..':'..typ, id)
    redis.call('ZREM', p..'t:'..typ, id)
    redis.call('ZREM', p..'all', id)
    redis.call('ZREM', p..ownerkey(owner), id)
    n = n + 1
  end
  if n >= limit then break end
end
return n
