/**
 * Socket addresses: sockaddr_in / sockaddr_in6 layouts (include/uapi/linux/
 * in.h, in6.h) and how the sandbox's namespace classifies addresses. Ports
 * and addresses are in network byte order in the structs; here IPv4
 * addresses are host-order numbers and IPv6 ones 16-byte arrays.
 */
import { AF_INET, AF_INET6, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE } from "./constants";

export const INADDR_ANY = 0;
/** LOOPBACK4_IPV6 (include/net/ipv6.h, 127.0.0.6): the IPv4 face of an AF_INET6 socket bound to a v6-only address. */
export const LOOPBACK4_IPV6 = 0x7f000006;
export const IN6ADDR_ANY: Readonly<Uint8Array> = new Uint8Array(16);
/** lo's index: the only interface, so the only valid sin6_scope_id. */
export const LOOPBACK_IFINDEX = 1;

export function familyOf(addr: Uint8Array): number {
  return addr[0] | (addr[1] << 8);
}

/** sin_port / sin6_port. */
export function portOf(addr: Uint8Array): number {
  return (addr[2] << 8) | addr[3];
}

/** sin_addr.s_addr as a host-order number. */
export function ipv4Of(addr: Uint8Array): number {
  return ((addr[4] << 24) | (addr[5] << 16) | (addr[6] << 8) | addr[7]) >>> 0;
}

export function ipv6Of(addr: Uint8Array): Uint8Array {
  return addr.slice(8, 24);
}

export function scopeIdOf(addr: Uint8Array): number {
  return new DataView(addr.buffer, addr.byteOffset).getUint32(24, true);
}

export function sockaddrIn(port: number, ip: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN_SIZE), d = new DataView(b.buffer);
  d.setUint16(0, AF_INET, true);
  d.setUint16(2, port, false);
  d.setUint32(4, ip, false);
  return b;
}

export function sockaddrIn6(port: number, ip: Uint8Array, scopeId: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN6_SIZE), d = new DataView(b.buffer);
  d.setUint16(0, AF_INET6, true);
  d.setUint16(2, port, false);
  b.set(ip, 8);
  d.setUint32(24, scopeId, true);
  return b;
}

/**
 * What inet_addr_type_table says about an IPv4 address in a namespace whose
 * only interface is lo (127.0.0.1/8): 0.0.0.0/8 other than INADDR_ANY is
 * plain unicast there.
 */
export type Ipv4Type = "any" | "local" | "multicast" | "broadcast" | "unicast";

export function ipv4Type(ip: number): Ipv4Type {
  if (ip === INADDR_ANY) return "any";
  if (ip >>> 24 === 127) return "local";
  if (ip >>> 28 === 0xe) return "multicast";
  if (ip === 0xffffffff) return "broadcast";
  return "unicast";
}

/** The IPv6 address classes Linux's ipv6_addr_type distinguishes that bind cares about. */
export type Ipv6Type = "any" | "loopback" | "mapped" | "multicast" | "linklocal" | "unicast";

export function ipv6Type(a: Uint8Array): Ipv6Type {
  if (a[0] === 0xff) return "multicast";
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) return "linklocal";
  if (a.subarray(0, 10).every((b) => b === 0)) {
    if (a[10] === 0xff && a[11] === 0xff) return "mapped";
    if (a.subarray(10, 15).every((b) => b === 0) && a[15] <= 1) return a[15] === 0 ? "any" : "loopback";
  }
  return "unicast";
}

/**
 * __ipv6_addr_needs_scope_id: link-local unicast, and multicast scoped to an
 * interface or link (scope nibble 1 or 2).
 */
export function ipv6NeedsScopeId(a: Uint8Array): boolean {
  const type = ipv6Type(a);
  return type === "linklocal" || (type === "multicast" && ((a[1] & 0xf) === 1 || (a[1] & 0xf) === 2));
}

/** The IPv4 address inside ::ffff:a.b.c.d. */
export function mappedIpv4(a: Uint8Array): number {
  return ((a[12] << 24) | (a[13] << 16) | (a[14] << 8) | a[15]) >>> 0;
}

export function sameIpv6(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const IN6ADDR_LOOPBACK: Readonly<Uint8Array> = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
export const INADDR_LOOPBACK = 0x7f000001;

/** ::ffff:a.b.c.d for an IPv4 address (host order). */
export function v4mapped(ip: number): Uint8Array {
  const a = new Uint8Array(16);
  a[10] = 0xff;
  a[11] = 0xff;
  new DataView(a.buffer).setUint32(12, ip >>> 0, false);
  return a;
}

export function isV4mapped(a: Uint8Array): boolean {
  return ipv6Type(a) === "mapped";
}

/** RFC 5952 text: the longest run of zero words as `::`, v4-mapped addresses with a dotted tail. */
export function ipv6Text(b: Uint8Array): string {
  const w = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
  }
  const hexes = w.map((x) => x.toString(16));
  if (best < 0) return hexes.join(":");
  return hexes.slice(0, best).join(":") + "::" + hexes.slice(best + bestLen).join(":");
}

