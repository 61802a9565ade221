/**
 * The NATS connection options of a farm process, from `mesh.auth` and `mesh.tls`.
 *
 * Why here and not in the URL: credentials in `nats://user:pass@host` end up in logs and
 * `ps`; config keeps them in one validated place (and in FARM_MESH__AUTH__* variables).
 * The options are handed to Moleculer's NATS transporter, which passes them to the `nats`
 * client unchanged (moleculer/src/transporters/nats.js, v2 branch).
 */
import { nkeyAuthenticator, usernamePasswordAuthenticator } from "nats";
import type { FarmConfig } from "../core/config/schema.ts";

type MeshSecurity = Pick<FarmConfig["mesh"], "auth" | "tls">;

export interface NatsSecurityOptions {
  token?: string;
  authenticator?: ReturnType<typeof nkeyAuthenticator>;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** The auth and TLS part of the `nats` connect options (empty for an open mesh). */
export function natsSecurityOptions(mesh: MeshSecurity): NatsSecurityOptions {
  const out: NatsSecurityOptions = {};
  const a = mesh.auth;
  if (a.token !== undefined) out.token = a.token;
  // An authenticator, not `user`/`pass`: Moleculer 0.14 overwrites those two options with
  // the URL's (absent) userinfo before connecting, so they never reached the server.
  if (a.user !== undefined) out.authenticator = usernamePasswordAuthenticator(a.user, a.password);
  if (a.nkey_seed !== undefined) out.authenticator = nkeyAuthenticator(new TextEncoder().encode(a.nkey_seed));
  if (mesh.tls.enabled) {
    // An object (even empty) tells the client to refuse a connection that is not TLS.
    const tls: NonNullable<NatsSecurityOptions["tls"]> = {};
    if (mesh.tls.ca_file !== undefined) tls.caFile = mesh.tls.ca_file;
    if (mesh.tls.cert_file !== undefined) tls.certFile = mesh.tls.cert_file;
    if (mesh.tls.key_file !== undefined) tls.keyFile = mesh.tls.key_file;
    out.tls = tls;
  }
  return out;
}

/** True when the mesh connection carries credentials (start-up warns when it does not). */
export const meshHasCredentials = (mesh: MeshSecurity): boolean =>
  mesh.auth.token !== undefined || mesh.auth.user !== undefined || mesh.auth.nkey_seed !== undefined;

/**
 * How soon a farm process tries NATS again after losing it. The `nats` client's defaults
 * (2 s between tries, 100 ms jitter) are made for any network; on a farm's LAN a try is one
 * TCP connect, refused at once while the server is down. 2 s was most of a NATS restart's
 * recovery (measured 3.4 s for a 0.6 s outage, bench/chaos). 500 ms + up to 250 ms jitter
 * (so a farm's agents do not all knock in the same millisecond) is at most 2 tries a
 * second per process during an outage.
 */
export const NATS_RECONNECT = { reconnectTimeWait: 500, reconnectJitter: 250 } as const;
