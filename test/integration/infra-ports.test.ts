/**
 * The test servers (deploy/servers/infra.ts) are handed over only once the child we spawned
 * holds its port. A port that merely opens is not enough: freePort() releases the port it
 * found, and another test file's server (two files run at once) may take it before ours
 * binds; ours then exits, and a connect-only check handed the caller the other file's server
 * (a FLUSHALL there wipes this file's data). Here a port held by this process stands in for
 * the other file's server.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import { infraAvailable, listenedBy, startNats, startRedis, startS3 } from "../../deploy/servers/infra.ts";

const skip = !infraAvailable();

describe.skipIf(skip)("test servers and their ports", () => {
  let holder: net.Server;
  let held = 0;
  beforeAll(async () => {
    holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    held = (holder.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => holder.close(r));
  });

  test("listenedBy names the process that holds a listening port, and no other", () => {
    assert.equal(listenedBy(process.pid, held), true);
    assert.equal(listenedBy(1, held), false, "pid 1 does not hold our port");
  });

  test("redis-server, nats-server and s3rver started on fresh ports hold them themselves", async () => {
    const [redis, nats, s3] = await Promise.all([startRedis(), startNats(), startS3()]);
    try {
      assert.equal(listenedBy(redis.pid, redis.port), true);
      assert.equal(listenedBy(nats.pid, nats.port), true);
      assert.equal(listenedBy(nats.pid, nats.monitorPort), true);
      assert.equal(listenedBy(s3.pid, s3.port), true);
    } finally {
      await Promise.all([redis.stop(), nats.stop(), s3.stop()]);
    }
  });

  test("a named port another process holds is refused, not handed over as ours", async () => {
    await assert.rejects(startRedis({ port: held }), /redis-server meant for port \d+ exited|held by another process/);
    await assert.rejects(startS3({ port: held }), /s3rver meant for port \d+ exited|held by another process/);
    await assert.rejects(startNats({ port: held, monitorPort: held }), /nats-server|held by another process|exited before it listened/);
    // Our holder still answers: nothing took the port from it.
    assert.equal(listenedBy(process.pid, held), true);
  });
});
