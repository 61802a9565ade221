/**
 * Redis durability against a real redis-server: the coordinator refuses to start on a Redis
 * without an append-only file (Debian's default), naming the fix; require_aof: false only
 * warns; a Redis that loses the farm's data while running is reported. Regression: a Redis
 * kill -9 lost 200 accepted jobs silently.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis, type ServerHandle } from "../../deploy/servers/infra.ts";
import { assertRedisDurable, redisHasAof, RedisLossWatcher } from "../../coordinator/stores/redis-durability.ts";
import { buildConfig } from "../../core/config/load.ts";
import { startFarm } from "../../mesh/roles.ts";
import { silentLogger, type Logger } from "../../core/logger.ts";
import { FarmError } from "../../core/errors.ts";

let server: ServerHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

function capture(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const logger: Logger = {
    debug: (msg) => lines.push({ level: "debug", msg }),
    info: (msg) => lines.push({ level: "info", msg }),
    warn: (msg) => lines.push({ level: "warn", msg }),
    error: (msg) => lines.push({ level: "error", msg }),
    child: () => logger,
  };
  return { logger, lines };
}

test("with appendonly yes the check passes", async () => {
  await redis.config("SET", "appendonly", "yes");
  assert.equal(await redisHasAof(redis), true);
  await assertRedisDurable(redis, { url: server.url, requireAof: true, logger: silentLogger });
});

test("without AOF the coordinator refuses to start, naming the fix; require_aof: false only warns", async () => {
  await redis.config("SET", "appendonly", "no");
  assert.equal(await redisHasAof(redis), false);
  const cfg = buildConfig({
    mode: "distributed",
    log_level: "silent",
    redis: { url: server.url, prefix: "durability:" },
    artifacts: { kind: "fs" },
    paths: { data_dir: server.dir },
    mesh: { transporter: "nats://127.0.0.1:1" },
  });
  await assert.rejects(startFarm(cfg, ["coordinator"], { logger: silentLogger }), (e: unknown) => {
    assert.ok(e instanceof FarmError);
    assert.equal(e.details?.field, "redis.url");
    assert.match(e.message, /appendonly no/);
    assert.match(e.message, /appendonly yes/);
    assert.match(e.message, /require_aof: false/);
    return true;
  });
  const { logger, lines } = capture();
  await assertRedisDurable(redis, { url: server.url, requireAof: false, logger });
  assert.ok(
    lines.some((l) => l.level === "warn" && /lose every queued and running job/.test(l.msg)),
    JSON.stringify(lines),
  );
  await redis.config("SET", "appendonly", "yes");
});

test("a Redis that loses its data while the farm runs is reported once, as an error", async () => {
  const { logger, lines } = capture();
  const watcher = new RedisLossWatcher(redis, "loss:", logger);
  await watcher.start(60_000);
  assert.equal(await watcher.check(), true);
  await redis.flushall();
  assert.equal(await watcher.check(), false);
  assert.equal(lines.filter((l) => l.level === "error" && /lost the farm's job data/.test(l.msg)).length, 1);
  assert.equal(await watcher.check(), true, "reported once, then watching again");
  watcher.stop();
});
