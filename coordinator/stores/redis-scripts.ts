/**
 * The Lua scripts behind RedisJobStore, one `.lua` file each under ./lua (each file's
 * header declares its KEYS and ARGV). Each job state move is one script, so the status
 * check, the fencing-token check, the write and the index updates happen atomically inside
 * Redis. Keys a caller can name are declared as KEYS (`numberOfKeys` here); keys that follow
 * from what a script reads inside Redis (the status indexes of a job's current status, the
 * jobs a purge finds) are built from the prefix, ARGV[1], which every script takes first
 * (the leader fence reads it too: redis-fence.ts).
 *
 * Layout (P = prefix):
 *   P job:<id>        hash: one field per JobRecord field (JSON), `status`/`type` raw,
 *                     lease as `_ln` (node) `_lt` (token) `_le` (expiry), `_seq` last token
 *   P hist:<id>       list of history entries (JSON)
 *   P idem:<key>      string: job id
 *   P all / P s:<status> / P t:<type> / P st:<status>:<type>   zsets scored by created_at
 *   P o:<owner>       zset scored by created_at: the jobs of one owner (API key name)
 *   P uo              zset scored by created_at: the jobs without an owner
 *   P ov              string, set once the owner index covers every job (see backfill-owners.lua)
 *   P tmp:list        scratch zset of list-owned.lua, created and deleted inside one script call
 *   P types           set of job types seen
 *   P pending         zset scored (100 - priority) * 1e13 + created_at (ascending = dispatch order)
 *   P nfc / P nfr     hashes: failures per node and job type, and the last reason
 */
import fs from "node:fs";
import path from "node:path";

const DIR = path.join(import.meta.dirname, "lua");
const read = (name: string) => fs.readFileSync(path.join(DIR, name), "utf8");

const MOVE = read("move.lua");
const OWNER_KEY = read("owner-key.lua");

/** A script and how many KEYS it declares (undefined: the caller passes the count first). */
export interface ScriptDef {
  lua: string;
  keys: number | undefined;
}

export const CREATE: ScriptDef = { lua: MOVE + read("create.lua"), keys: 7 };
export const TRANSITION: ScriptDef = { lua: MOVE + read("transition.lua"), keys: 2 };
export const PROGRESS: ScriptDef = { lua: read("progress.lua"), keys: 1 };
export const RENEW: ScriptDef = { lua: read("renew.lua"), keys: 1 };
export const GET_MANY: ScriptDef = { lua: read("get-many.lua"), keys: undefined };
export const NODE_FAILURE: ScriptDef = { lua: read("node-failure.lua"), keys: 2 };
export const PURGE: ScriptDef = { lua: OWNER_KEY + read("purge.lua"), keys: 0 };
export const LIST_OWNED: ScriptDef = { lua: read("list-owned.lua"), keys: 3 };
export const BACKFILL_OWNERS: ScriptDef = { lua: OWNER_KEY + read("backfill-owners.lua"), keys: 0 };
