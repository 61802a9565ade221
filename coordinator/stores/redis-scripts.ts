/**
 * The Lua scripts behind RedisJobStore. Each job state move is one script, so the
 * status check, the fencing-token check, the write and the index updates happen
 * atomically inside Redis. Keys are built from the prefix passed in ARGV[1].
 *
 * Layout (P = prefix):
 *   P job:<id>        hash: one field per JobRecord field (JSON), `status`/`type` raw,
 *                     lease as `_ln` (node) `_lt` (token) `_le` (expiry), `_seq` last token
 *   P hist:<id>       list of history entries (JSON)
 *   P idem:<key>      string: job id
 *   P all / P s:<status> / P t:<type> / P st:<status>:<type>   zsets scored by created_at
 *   P o:<owner>       zset scored by created_at: the jobs of one owner (API key name)
 *   P uo              zset scored by created_at: the jobs without an owner
 *   P ov              string, set once the owner index covers every job (see BACKFILL_OWNERS)
 *   P tmp:list        scratch zset of LIST_OWNED, created and deleted inside one script call
 *   P types           set of job types seen
 *   P pending         zset scored (100 - priority) * 1e13 + created_at (ascending = dispatch order)
 */

/** Shared Lua helpers (prepended to the scripts that move jobs between statuses). */
const MOVE = `
local function pscore(prio, created)
  return string.format('%.0f', (100 - tonumber(prio)) * 1e13 + tonumber(created))
end
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
`;

/** Key (without prefix) of the owner index for `owner` ('' = the unowned set). */
const OWNER_KEY = `
local function ownerkey(owner)
  if owner == '' then return 'uo' end
  return 'o:'..owner
end
`;

/**
 * ARGV: p, id, idem ('' = none), type, status, created_at, priority, owner ('' = none),
 * nHist, hist..., field/value pairs... -> {created(0|1), id}
 */
export const CREATE = `${MOVE}${OWNER_KEY}
local p, id, idem, typ, status, created, prio, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if idem ~= '' then
  local existing = redis.call('GET', p..'idem:'..idem)
  if existing then return {0, existing} end
end
local key = p..'job:'..id
if redis.call('EXISTS', key) == 1 then return {0, id} end
local nh = tonumber(ARGV[9])
local i = 10
for _ = 1, nh do redis.call('RPUSH', p..'hist:'..id, ARGV[i]); i = i + 1 end
local fields = {}
while i <= #ARGV do fields[#fields + 1] = ARGV[i]; i = i + 1 end
redis.call('HSET', key, unpack(fields))
if idem ~= '' then redis.call('SET', p..'idem:'..idem, id) end
redis.call('ZADD', p..'all', created, id)
redis.call('ZADD', p..'t:'..typ, created, id)
redis.call('ZADD', p..ownerkey(owner), created, id)
redis.call('SADD', p..'types', typ)
index(p, id, status, typ, created, prio)
return {1, id}
`;

/**
 * ARGV: p, id, from (",a,b,"), leaseToken ('' = unchecked), grantNode ('' = no grant),
 * grantExpires, history JSON ('' = none), nUnset, unset fields..., set field/value pairs...
 * -> {hash fields, history} or false when a precondition failed.
 */
export const TRANSITION = `${MOVE}
local p, id = ARGV[1], ARGV[2]
local key = p..'job:'..id
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
if ARGV[7] ~= '' then redis.call('RPUSH', p..'hist:'..id, ARGV[7]) end
local now = redis.call('HGET', key, 'status')
if now ~= cur[1] then
  unindex(p, id, cur[1], cur[3])
  index(p, id, now, cur[3], cur[4], cur[5])
end
return {redis.call('HGETALL', key), redis.call('LRANGE', p..'hist:'..id, 0, -1)}
`;

/** ARGV: p, id, token, progress, updated_at, message JSON ('' = keep) -> 1 | 0 */
export const PROGRESS = `
local key = ARGV[1]..'job:'..ARGV[2]
local cur = redis.call('HMGET', key, 'status', '_lt')
if cur[1] ~= 'running' or cur[2] ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'progress', ARGV[4], 'updated_at', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', key, 'message', ARGV[6]) end
return 1
`;

/** ARGV: p, id, token, expires_at -> 1 | 0 */
export const RENEW = `
local key = ARGV[1]..'job:'..ARGV[2]
local cur = redis.call('HMGET', key, 'status', '_lt')
if cur[1] ~= 'running' or cur[2] ~= ARGV[3] then return 0 end
redis.call('HSET', key, '_le', ARGV[4])
return 1
`;

/** ARGV: p, ids... -> one {hash fields, history} per id (empty fields when missing), read atomically. */
export const GET_MANY = `
local p = ARGV[1]
local out = {}
for i = 2, #ARGV do
  out[#out + 1] = {redis.call('HGETALL', p..'job:'..ARGV[i]), redis.call('LRANGE', p..'hist:'..ARGV[i], 0, -1)}
end
return out
`;

/** ARGV: p, field (node NUL type), {last_reason, at} JSON -> new count */
export const NODE_FAILURE = `
local n = redis.call('HINCRBY', ARGV[1]..'nfc', ARGV[2], 1)
redis.call('HSET', ARGV[1]..'nfr', ARGV[2], ARGV[3])
return n
`;

/** ARGV: p, before (created_at), batch limit -> number of finished jobs deleted (call again while it returns the limit). */
export const PURGE = `${OWNER_KEY}
local p, before, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = 0
for _, status in ipairs({'completed', 'failed', 'cancelled'}) do
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
`;

/**
 * One owner-filtered page, read atomically. ARGV: p, owner index key (see ownerkey: 'o:<name>'
 * or 'uo'), second index key ('' = none; 's:<status>', 't:<type>' or 'st:<status>:<type>'),
 * start, stop (ZREVRANGE ranks) -> {ids newest first, total}.
 *
 * With a second index the two zsets are intersected into a scratch key (ZINTERSTORE walks
 * the smaller input, so the cost follows min(owner's jobs, status/type matches); WEIGHTS 1 0
 * keeps the created_at score), read, and deleted in the same call; the short PEXPIRE only
 * guards against a script aborted between the store and the delete. Exact totals come for
 * free from ZCARD, which filtering one set page by page could not give without a full scan.
 */
export const LIST_OWNED = `
local p, okey, other, start, stop = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if other == '' then
  return {redis.call('ZREVRANGE', p..okey, start, stop), redis.call('ZCARD', p..okey)}
end
local tmp = p..'tmp:list'
redis.call('ZINTERSTORE', tmp, 2, p..okey, p..other, 'WEIGHTS', 1, 0)
redis.call('PEXPIRE', tmp, 10000)
local ids = redis.call('ZREVRANGE', tmp, start, stop)
local n = redis.call('ZCARD', tmp)
redis.call('DEL', tmp)
return {ids, n}
`;

/**
 * Index jobs created before the owner index existed (idempotent). ARGV: p, ids... -> how
 * many of the ids still exist. A job purged meanwhile is skipped (its hash is gone), so
 * the backfill never re-adds a deleted job to an owner set.
 */
export const BACKFILL_OWNERS = `${OWNER_KEY}
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
`;
