/**
 * Which forwarding headers the dashboard believes. `X-Forwarded-For`, `-Host`, `-Proto` (and `X-Real-IP`,
 * `Forwarded`) are only statements by whoever sent the request; with no proxy in front (the default) that is
 * the client itself, who could then pick its own address for login throttling, or its own host for the CSRF
 * origin check. So the dashboard server's edge (lib/web/http/dashboardServer.ts) calls trustForwarding on every request
 * before anything reads a header: the forwarding headers survive only when the TCP peer is one of the
 * operator's TRUSTED_PROXIES, and the client's address is always written into CLIENT_ADDRESS_HEADER,
 * overwriting whatever the client sent under that name.
 */
import { BlockList, isIP } from "node:net";
import { parseProxyEntry } from "../../runtime/env";

/** CLIENT_ADDRESS_HEADER: the client address the edge resolved (login throttling reads it). */
export const CLIENT_ADDRESS_HEADER = "x-moe-client-address";

/** FORWARDING_HEADERS: dropped from requests that did not come through a trusted proxy. */
export const FORWARDING_HEADERS = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip", "forwarded"] as const;

/** TrustedProxies: the addresses whose forwarding headers are believed. */
export interface TrustedProxies {
  /** trusts tells whether `address` (an IP, IPv4-mapped IPv6 included) is a trusted proxy. */
  trusts(address: string): boolean;
  /** size is the number of entries configured (0: no proxy in front). */
  readonly size: number;
}

/** unmapped turns an IPv4-mapped IPv6 address ("::ffff:10.0.0.5", what a dual-stack socket reports) into the IPv4 one. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1] : address;
}

/** trustedProxies builds the matcher for a list of entries already checked by parseProxyEntry (env.ts). */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const e of entries) {
    const p = parseProxyEntry(e);
    if (!p) throw new Error(`TRUSTED_PROXIES: "${e}" is not an IP address or CIDR range`);
    if (p.prefix === null) list.addAddress(p.address, p.family);
    else list.addSubnet(p.address, p.prefix, p.family);
  }
  return {
    size: entries.length,
    trusts(address: string): boolean {
      if (entries.length === 0) return false;
      const a = unmapped(address.trim());
      const v = isIP(a);
      return v !== 0 && list.check(a, v === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** Incoming: the parts of node's IncomingMessage the edge reads and rewrites. */
export interface Incoming {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined };
}

/**
 * trustForwarding rewrites one request's headers in place: without a trusted peer every forwarding header is
 * dropped and the client is the socket's address; behind trusted proxies the client is the nearest
 * X-Forwarded-For hop that is not itself a trusted proxy (the hops to its left were written by the client and
 * prove nothing). Returns the client address it recorded.
 */
export function trustForwarding(req: Incoming, proxies: TrustedProxies): string {
  const peer = unmapped(req.socket.remoteAddress ?? "") || "unknown";
  let client = peer;
  if (proxies.trusts(peer)) {
    const raw = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(raw) ? raw.join(",") : (raw ?? "")).split(",").map((s) => unmapped(s.trim())).filter(Boolean);
    while (hops.length > 0 && proxies.trusts(hops[hops.length - 1])) hops.pop();
    // Every hop a trusted proxy (a proxy's own health check): the peer is the best we know.
    client = hops[hops.length - 1] ?? peer;
  } else {
    for (const name of FORWARDING_HEADERS) delete req.headers[name];
  }
  req.headers[CLIENT_ADDRESS_HEADER] = client;
  return client;
}
