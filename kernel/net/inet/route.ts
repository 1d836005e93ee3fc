/**
 * Where an inet packet can go in a namespace whose only interface is lo:
 * destination checks of connect/sendto (tcp_v4_connect, tcp_v6_connect,
 * ip4_datagram_connect, udp_sendmsg, udpv6_sendmsg) and the routing
 * answer — 127.0.0.0/8 and ::1 are local, everything else is unreachable,
 * as it is in a container whose network has no route out.
 *
 * Addresses travel as 16 bytes: IPv4 ones as ::ffff:a.b.c.d.
 */
import { Errno, EACCES, EAFNOSUPPORT, EINVAL, ENETUNREACH } from "../../errno";
import { AF_INET, AF_INET6, AF_UNSPEC, SIN6_LEN_RFC2133, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE } from "../constants";
import {
  familyOf, IN6ADDR_LOOPBACK, INADDR_ANY, INADDR_LOOPBACK, ipv4Of, ipv4Type, ipv6NeedsScopeId, ipv6Of, ipv6Type, mappedIpv4,
  portOf, scopeIdOf, v4mapped,
} from "../sockaddr";
import type { InetSocket } from "./inet";

/** A checked destination: the address (v4 mapped), the port, and whether the packet is IPv4. */
export interface Dest {
  addr: Uint8Array;
  port: number;
  v4: boolean;
}

export type DestUse = "tcp-connect" | "udp-connect" | "udp-send";

/**
 * The destination in `addr` for `sock`, or the errno Linux gives. `use`
 * selects the protocol's own checks (UDP accepts AF_UNSPEC as AF_INET when
 * sending; TCP refuses multicast and broadcast).
 */
export function destination(sock: InetSocket, addr: Uint8Array, addrlen: number, use: DestUse): Dest | Errno {
  const family = familyOf(addr);
  if (sock.family === AF_INET || (use === "udp-send" && family === AF_INET)) {
    if (addrlen < SOCKADDR_IN_SIZE) return EINVAL;
    if (family !== AF_INET && !(use === "udp-send" && family === AF_UNSPEC)) return EAFNOSUPPORT;
    if (sock.family === AF_INET6 && sock.ipv6only) return ENETUNREACH;
    return routeV4(sock, ipv4Of(addr), portOf(addr), use);
  }
  if (addrlen < SIN6_LEN_RFC2133) return EINVAL;
  if (family !== AF_INET6) return use === "udp-send" ? EINVAL : EAFNOSUPPORT;
  let ip6 = ipv6Of(addr);
  const port = portOf(addr);
  let type = ipv6Type(ip6);
  if (type === "any") {
    // "connect() to INADDR_ANY means loopback (BSD'ism)", in the bound address's own family.
    ip6 = ipv6Type(sock.rcvSaddr6) === "mapped" ? v4mapped(INADDR_LOOPBACK) : IN6ADDR_LOOPBACK.slice();
    type = ipv6Type(ip6);
  }
  if (type === "mapped") {
    if (sock.ipv6only) return ENETUNREACH;
    return routeV4(sock, mappedIpv4(ip6), port, use);
  }
  if (type === "multicast" && use === "tcp-connect") return ENETUNREACH;
  if (ipv6NeedsScopeId(ip6)) {
    const scope = addrlen >= SOCKADDR_IN6_SIZE ? scopeIdOf(addr) : 0;
    if (!scope && !sock.boundDevIf) return EINVAL;
  }
  if (type !== "loopback") return ENETUNREACH;
  return { addr: ip6, port, v4: false };
}

/** ip_route_connect / ip_route_output for an IPv4 destination. */
function routeV4(sock: InetSocket, ip: number, port: number, use: DestUse): Dest | Errno {
  let dst = ip;
  // No destination means this host: the bound address, else 127.0.0.1.
  if (dst === INADDR_ANY) dst = sock.rcvSaddr || INADDR_LOOPBACK;
  const type = ipv4Type(dst);
  if (type === "broadcast") {
    if (use !== "tcp-connect" && !sock.broadcast) return EACCES;
    return ENETUNREACH;
  }
  if (type !== "local") return ENETUNREACH;
  return { addr: v4mapped(dst), port, v4: true };
}

/** The source address a packet to `dest` leaves with: the bound address, else lo's (127.0.0.1 or ::1). */
export function sourceFor(sock: InetSocket, dest: Dest): Uint8Array {
  if (dest.v4) return v4mapped(sock.rcvSaddr !== INADDR_ANY ? sock.rcvSaddr : INADDR_LOOPBACK);
  return IN6ADDR_LOOPBACK.slice();
}
