-- Shared helpers, prepended to the scripts that move jobs between statuses (create.lua,
-- transition.lua). The pending zset's score is the dispatch order (coordinator/dispatch-order.ts):
-- higher priority first, then older first.
local function pscore(prio, created)
  return string.format('%.0f', (100 - tonumber(prio)) * 1e13 + tonumber(created))
end
-- Status index keys depend on the status the job has inside the script, so they are built
-- from the prefix (ARGV[1]) rather than declared: a caller cannot know a job's current status.
local function index(p, id, status, typ, created, prio)
  redis.call('ZADD', p..'s:'..status, created, id)
  redis.call('ZADD', p..'st:'..status..':'..typ, created, id)
  if status == 'pending' then redis.call('ZADD', p..'pending', pscore(prio, created), id) end
end
local function unindex(p, id, status, typ)
  redis.call('ZREM', p..'s:'..status, id)
  redis.call('ZREM', p..'st:'..status..':'..typ, id)
  if status == 'pending' then redis.call('ZREM', p..'pending', id) end
end
