/**
 * Which network addresses a URL input may reach. Without `allow_private_addresses` the
 * farm only fetches from the public internet: a URL must not turn the API into a proxy
 * to the loopback interface, the LAN, or a cloud metadata service (SSRF). Shared by URL
 * inputs (api/inputs/safe-fetch.ts) and webhook targets (coordinator/webhooks/target.ts),
 * so it lives in core/: the coordinator does not import api/.
 */
import net from "node:net";

/** Resolve a host name to every address it has (the shape of dns.promises.lookup with all: true). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

// Two lists: Node's BlockList matches IPv4 addresses against IPv6 rules through their
// IPv4-mapped form, so one list holding ::ffff:0:0/96 would block every IPv4 address.
const blocked4 = new net.BlockList();
const blocked6 = new net.BlockList();
const mapped = new net.BlockList();
mapped.addSubnet("::ffff:0:0", 96, "ipv6");
// IPv4: "this network", private (RFC 1918), CGNAT, loopback, link-local (includes the
// 169.254.169.254 metadata service), IETF protocol assignments, benchmarking,
// documentation nets, multicast, reserved and broadcast.
for (const [net4, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked4.addSubnet(net4, bits, "ipv4");
// IPv6: unspecified, loopback, NAT64 (reaches v4 space through a gateway),
// discard, documentation, unique-local (fc00::/7, includes AWS's fd00:ec2::254),
// link-local, site-local (deprecated) and multicast.
blocked6.addAddress("::", "ipv6");
blocked6.addAddress("::1", "ipv6");
for (const [net6, bits] of [
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  blocked6.addSubnet(net6, bits, "ipv6");

/** True when the address is not a public unicast address. Non-IP strings count as blocked. */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked4.check(address, "ipv4");
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
  if (mapped.check(address, "ipv6")) return isNonPublicAddress(mappedToV4(address));
  return blocked6.check(address, "ipv6");
}

function mappedToV4(address: string): string {
  const tail = address.slice(address.lastIndexOf(":") + 1);
  if (tail.includes(".")) return tail;
  // Hex form ::ffff:7f00:1 — the last two groups are the IPv4 address.
  const groups = address.split(":");
  const hi = parseInt(groups[groups.length - 2] || "0", 16);
  const lo = parseInt(groups[groups.length - 1] || "0", 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}
