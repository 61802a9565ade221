/**
 * Where a webhook may go: the same address rules as URL inputs (api/inputs/safe-fetch.ts),
 * checked when the job is submitted (a 400 naming `webhook_url`, nothing connected to) and
 * again before every delivery, which then connects to the address that was checked (a DNS
 * answer that changes in between cannot point it at the LAN). Private, loopback and
 * link-local addresses are refused unless `webhooks.allow_private_addresses`.
 */
import dns from "node:dns";
import net from "node:net";
import { FarmError } from "../../core/errors.ts";
import { isNonPublicAddress, type HostLookup } from "../../core/net/address-policy.ts";

export const WEBHOOK_FIELD = "webhook_url";
const MAX_URL = 2048;

const invalid = (constraint: string, message: string) =>
  new FarmError("VALIDATION_ERROR", `${WEBHOOK_FIELD}: ${message}`, { field: WEBHOOK_FIELD, constraint });

export function parseWebhookUrl(raw: unknown): URL {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_URL) throw invalid("url", `must be an http(s) URL of at most ${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid("url", "not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("url scheme", `URL scheme '${url.protocol}' is not allowed (http and https only)`);
  if (url.username || url.password) throw invalid("url", "credentials in the URL are not allowed (the request is signed instead)");
  return url;
}

const defaultLookup: HostLookup = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/**
 * Resolve the host and return the address to connect to. Every address the host has must be
 * public unless private addresses are allowed: one private answer is enough to refuse.
 * Throws VALIDATION_ERROR naming webhook_url.
 */
export async function vetWebhookTarget(
  url: URL,
  opts: { allow_private_addresses: boolean; lookup?: HostLookup },
): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addrs: { address: string; family: number }[];
  if (net.isIP(host)) addrs = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addrs = await (opts.lookup ?? defaultLookup)(host);
    } catch {
      addrs = [];
    }
    if (addrs.length === 0) throw invalid("resolvable host", `host '${host}' cannot be resolved`);
  }
  if (!opts.allow_private_addresses) {
    const bad = addrs.find((a) => isNonPublicAddress(a.address));
    if (bad) throw invalid("public address", `host '${host}' resolves to a non-public address (${bad.address}); refused (webhooks.allow_private_addresses)`);
  }
  return addrs[0]!;
}
