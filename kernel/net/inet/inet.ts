/**
 * What TCP and UDP share over IPv4 and IPv6: binding (addresses, ports and
 * their conflicts), names, shutdown, and the IP-level options. One class
 * serves AF_INET and AF_INET6; the family only changes address handling.
 */
import {
  Errno, EACCES, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EINVAL, ENODEV, ENOPROTOOPT, ENOTCONN, EOPNOTSUPP,
} from "../../errno";
import type { SysRet } from "../../file";
import type { Task } from "../../task";
import {
  AF_INET, AF_INET6, AF_UNSPEC, IP_LINUX_LAST, IPV6_LINUX_LAST, IPV6_V6ONLY, RCV_SHUTDOWN, SHUTDOWN_MASK,
  SIN6_LEN_RFC2133, SOCK_STREAM, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE, SOL_IP, SOL_IPV6,
} from "../constants";
import type { Net, PortTable } from "../netns";
import {
  familyOf, IN6ADDR_ANY, INADDR_ANY, ipv4Of, ipv4Type, ipv6NeedsScopeId, ipv6Of, ipv6Type, LOOPBACK4_IPV6, LOOPBACK_IFINDEX,
  mappedIpv4, portOf, sameIpv6, scopeIdOf, sockaddrIn, sockaddrIn6, v4mapped,
} from "../sockaddr";
import { SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, Socket, type Owner } from "../socket";
import { definedUpTo, putIntOption, unknownOption } from "../sockopt";

/** Root in the sandbox holds every capability (CAP_NET_BIND_SERVICE included); other users none. */
const capable = (t: Task): boolean => t.proc.euid === 0;

/** get_random_u32_below(n) from the sandbox's random source. */
export function randomBelow(t: Task, n: number): number {
  const b = new Uint8Array(4);
  t.proc.random(b);
  return Math.floor((new DataView(b.buffer).getUint32(0, true) / 2 ** 32) * n);
}

export abstract class InetSocket extends Socket {
  /** inet_num: the local port this socket holds in the port table, 0 when none. */
  num = 0;
  /** inet_sport: the port getsockname reports; it outlives a dropped binding, as Linux's does. */
  sport = 0;
  /**
   * inet_rcv_saddr, host order. For AF_INET6 sockets its IPv4 face: 0 for ::,
   * the address inside ::ffff:a.b.c.d, LOOPBACK4_IPV6 for v6-only addresses.
   */
  rcvSaddr = INADDR_ANY;
  /** sk_v6_rcv_saddr (AF_INET6 only). */
  rcvSaddr6: Uint8Array = IN6ADDR_ANY.slice();
  /** sk_ipv6only (IPV6_V6ONLY). */
  ipv6only: boolean;
  /** sk_bound_dev_if: set by a scoped IPv6 bind; sockets on different devices never conflict. */
  boundDevIf = 0;
  /** inet_daddr / sk_v6_daddr (16 bytes, IPv4 mapped) and inet_dport of a connected socket; dport 0: none. */
  daddr6: Uint8Array = IN6ADDR_ANY.slice();
  dport = 0;

  constructor(net: Net, owner: Owner, family: number, type: number, protocol: number, buffers: { sndbuf: number; rcvbuf: number }) {
    super(net, owner, family, type, protocol, buffers);
    this.ipv6only = family === AF_INET6 && net.sysctl.bindv6only !== 0;
  }

  override get isInet(): boolean { return true; }

  /** The protocol's port table (TCP's or UDP's). */
  protected abstract get ports(): PortTable<InetSocket>;
  /** The protocol's SOL_TCP / SOL_UDP. */
  protected abstract get protoLevel(): number;

  /**
   * Whether `other`, already holding the port at an overlapping address,
   * keeps this socket off it. `explicit`: a port the caller named (bind with
   * a port, listen on a bound socket) rather than an ephemeral-port search.
   */
  protected abstract conflictsWith(other: InetSocket, explicit: boolean): boolean;
  /** Ephemeral ports in the order the protocol tries them. */
  protected abstract ephemeralPorts(t: Task): Iterable<number>;

  // --- addresses and ports -----------------------------------------------------

  /**
   * Whether the two sockets' bound addresses overlap, wildcards included.
   * Linux: inet_rcv_saddr_equal (ipv4_rcv_saddr_equal / ipv6_rcv_saddr_equal)
   * with match_wildcard.
   */
  addressesOverlap(other: InetSocket): boolean {
    if (this.family !== AF_INET6) {
      if (other.ipv6only) return false;
      return this.rcvSaddr === other.rcvSaddr || this.rcvSaddr === INADDR_ANY || other.rcvSaddr === INADDR_ANY;
    }
    const type1 = ipv6Type(this.rcvSaddr6);
    const type2 = other.family === AF_INET6 ? ipv6Type(other.rcvSaddr6) : "mapped";
    if (type1 === "mapped" && type2 === "mapped") {
      if (other.ipv6only) return false;
      return this.rcvSaddr === other.rcvSaddr || this.rcvSaddr === INADDR_ANY || other.rcvSaddr === INADDR_ANY;
    }
    if (type1 === "any" && type2 === "any") return true;
    if (type2 === "any" && !(other.ipv6only && type1 === "mapped")) return true;
    if (type1 === "any" && !(this.ipv6only && type2 === "mapped")) return true;
    return other.family === AF_INET6 && sameIpv6(this.rcvSaddr6, other.rcvSaddr6);
  }

  private blockedBy(other: InetSocket, explicit: boolean): boolean {
    if (other === this) return false;
    const devicesMeet = !this.boundDevIf || !other.boundDevIf || this.boundDevIf === other.boundDevIf;
    return devicesMeet && this.addressesOverlap(other) && this.conflictsWith(other, explicit);
  }

  /**
   * Take port `snum`, or an ephemeral one when it is 0. Linux: the protocol's
   * get_port (inet_csk_get_port, udp_lib_get_port).
   */
  getPort(t: Task, snum: number): 0 | Errno {
    if (snum === 0) {
      for (const port of this.ephemeralPorts(t)) {
        if (![...this.ports.owners(port)].some((o) => this.blockedBy(o, false))) return this.hashPort(port);
      }
      return EADDRINUSE;
    }
    for (const o of this.ports.owners(snum)) if (this.blockedBy(o, true)) return EADDRINUSE;
    return this.hashPort(snum);
  }

  private hashPort(port: number): 0 {
    if (this.num !== port) {
      if (this.num) this.ports.remove(this.num, this);
      this.ports.add(port, this);
      this.num = port;
    }
    return 0;
  }

  /** inet_put_port: give the port back (inet_sport keeps reporting it). */
  protected putPort(): void {
    if (!this.num) return;
    this.ports.remove(this.num, this);
    this.num = 0;
  }

  /** The bound or chosen local address as 16 bytes (IPv4 mapped). */
  localAddr6(): Uint8Array {
    if (this.family === AF_INET) return v4mapped(this.rcvSaddr);
    return this.rcvSaddr6.slice();
  }

  /** Take `addr` (16 bytes) as the local address, as a connect's source selection does. */
  setLocal(addr: Uint8Array): void {
    if (this.family === AF_INET) {
      this.rcvSaddr = mappedIpv4(addr);
      return;
    }
    this.rcvSaddr6 = addr.slice();
    this.rcvSaddr = ipv6Type(addr) === "mapped" ? mappedIpv4(addr) : LOOPBACK4_IPV6;
  }

  /** inet_reset_saddr. */
  protected resetSaddr(): void {
    this.rcvSaddr = INADDR_ANY;
    this.rcvSaddr6 = IN6ADDR_ANY.slice();
  }

  override release(): void {
    this.putPort();
  }

  // --- bind ----------------------------------------------------------------------

  override bind(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    return this.family === AF_INET6 ? this.bind6(t, addr, addrlen) : this.bind4(t, addr, addrlen);
  }

  /** Linux: net/ipv4/af_inet.c inet_bind_sk and __inet_bind. */
  private bind4(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    if (addrlen < SOCKADDR_IN_SIZE) return EINVAL;
    const ip = ipv4Of(addr);
    // "Compatibility games": AF_UNSPEC passes as AF_INET only with INADDR_ANY.
    if (familyOf(addr) !== AF_INET && !(familyOf(addr) === AF_UNSPEC && ip === INADDR_ANY)) return EAFNOSUPPORT;
    if (ipv4Type(ip) === "unicast") return EADDRNOTAVAIL; // not ours (no ip_nonlocal_bind / IP_FREEBIND yet)
    const snum = portOf(addr);
    if (snum && snum < this.net.sysctl.ipUnprivilegedPortStart && !capable(t)) return EACCES;
    if (this.state !== "CLOSE" || this.num) return EINVAL;
    this.rcvSaddr = ip;
    const err = this.getPort(t, snum);
    if (err) {
      this.rcvSaddr = INADDR_ANY;
      return err;
    }
    if (ip !== INADDR_ANY) this.userlocks |= SOCK_BINDADDR_LOCK;
    if (snum) this.userlocks |= SOCK_BINDPORT_LOCK;
    this.sport = this.num;
    return 0;
  }

  /** Linux: net/ipv6/af_inet6.c inet6_bind_sk and __inet6_bind; the checks come in a different order than IPv4's. */
  private bind6(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    if (addrlen < SIN6_LEN_RFC2133) return EINVAL;
    if (familyOf(addr) !== AF_INET6) return EAFNOSUPPORT;
    const ip6 = ipv6Of(addr), type = ipv6Type(ip6);
    if (type === "multicast" && this.type === SOCK_STREAM) return EINVAL;
    const snum = portOf(addr);
    if (snum && snum < this.net.sysctl.ipUnprivilegedPortStart && !capable(t)) return EACCES;
    if (this.state !== "CLOSE" || this.num) return EINVAL;

    let v4 = INADDR_ANY;
    if (type === "mapped") {
      // "Binding to v4-mapped address on a v6-only socket makes no sense"; then the AF_INET checks.
      if (this.ipv6only) return EINVAL;
      v4 = mappedIpv4(ip6);
      if (ipv4Type(v4) === "unicast") return EADDRNOTAVAIL;
    } else if (type !== "any") {
      if (ipv6NeedsScopeId(ip6)) {
        const scope = addrlen >= SOCKADDR_IN6_SIZE ? scopeIdOf(addr) : 0;
        if (scope) this.boundDevIf = scope;
        if (!this.boundDevIf) return EINVAL; // a link-local address needs an interface
      }
      if (this.boundDevIf && this.boundDevIf !== LOOPBACK_IFINDEX) return ENODEV;
      v4 = LOOPBACK4_IPV6;
      // ipv6_chk_addr: the only local IPv6 address is ::1 (lo carries no link-local one).
      if (type !== "multicast" && type !== "loopback") return EADDRNOTAVAIL;
    }

    this.rcvSaddr = v4;
    this.rcvSaddr6 = ip6;
    const savedV6only = this.ipv6only;
    if (type !== "any" && type !== "mapped") this.ipv6only = true;
    const err = this.getPort(t, snum);
    if (err) {
      this.ipv6only = savedV6only;
      this.resetSaddr();
      return err;
    }
    if (type !== "any") this.userlocks |= SOCK_BINDADDR_LOCK;
    if (snum) this.userlocks |= SOCK_BINDPORT_LOCK;
    this.sport = this.num;
    return 0;
  }

  // --- names, shutdown -------------------------------------------------------------

  /** Whether getpeername has a peer to show (inet_getname: a port, and for TCP a state past SYN_SENT). */
  protected get hasPeer(): boolean { return this.dport !== 0; }

  /** Linux: inet_getname / inet6_getname; accept() asks without the state check (peer == 2). */
  override getname(peer: boolean, strict = true): Uint8Array | Errno {
    if (peer) {
      if (!this.dport || (strict && !this.hasPeer)) return ENOTCONN;
      if (this.family === AF_INET) return sockaddrIn(this.dport, mappedIpv4(this.daddr6));
      return sockaddrIn6(this.dport, this.daddr6, 0);
    }
    if (this.family === AF_INET) return sockaddrIn(this.sport, this.rcvSaddr);
    const scope = ipv6NeedsScopeId(this.rcvSaddr6) ? this.boundDevIf : 0; // ipv6_iface_scope_id
    return sockaddrIn6(this.sport, this.rcvSaddr6, scope);
  }

  /**
   * Implements shutdown(2) for inet sockets. Linux: inet_shutdown — an
   * unconnected socket answers ENOTCONN yet keeps the shutdown bits (so a
   * later read sees end-of-file); a listener shut down for reading stops
   * listening (tcp_disconnect).
   */
  override shutdown(how: number): SysRet {
    const mask = (how + 1) | 0; // SHUT_RD → RCV_SHUTDOWN, SHUT_WR → SEND_SHUTDOWN, SHUT_RDWR → both
    if (mask & ~SHUTDOWN_MASK || !mask) return EINVAL;
    switch (this.state) {
      case "LISTEN":
        if (mask & RCV_SHUTDOWN) this.disconnect();
        break;
      case "CLOSE":
        this.shutdownMask |= mask;
        this.changed();
        return ENOTCONN;
      default:
        this.shutdownMask |= mask;
        break;
    }
    this.changed();
    return 0;
  }

  /**
   * Back to CLOSE. Linux: tcp_disconnect + tcp_set_state(TCP_CLOSE) — the
   * port goes back unless bind named it, the address unless bind named one.
   */
  protected disconnect(): void {
    this.state = "CLOSE";
    this.sockState = "UNCONNECTED";
    this.shutdownMask = 0;
    this.dport = 0;
    this.daddr6 = IN6ADDR_ANY.slice();
    if (!(this.userlocks & SOCK_BINDPORT_LOCK)) this.putPort();
    if (!(this.userlocks & SOCK_BINDADDR_LOCK)) this.resetSaddr();
  }

  // --- options ---------------------------------------------------------------------

  /** The protocol's own level (SOL_TCP / SOL_UDP). */
  protected abstract setProtoOption(t: Task, optname: number, optval: number, optlen: number): SysRet;
  protected abstract getProtoOption(t: Task, optname: number, optval: number, optlenPtr: number): SysRet;

  /** Linux: tcp_setsockopt / udp_setsockopt, else the family's (icsk_af_ops) setsockopt. */
  override setsockopt(t: Task, level: number, optname: number, optval: number, optlen: number): SysRet {
    if (level === this.protoLevel) return this.setProtoOption(t, optname, optval, optlen);
    if (this.family === AF_INET6 && level !== SOL_IP) return this.setIpv6Option(t, level, optname, optval, optlen);
    return this.setIpOption(t, level, optname);
  }

  override getsockopt(t: Task, level: number, optname: number, optval: number, optlenPtr: number): SysRet {
    if (level === this.protoLevel) return this.getProtoOption(t, optname, optval, optlenPtr);
    if (this.family === AF_INET6 && level !== SOL_IP) return this.getIpv6Option(t, level, optname, optval, optlenPtr);
    return this.getIpOption(t, level, optname, optlenPtr);
  }

  /** Linux: ip_setsockopt — another level is ENOPROTOOPT; no IP_* option is implemented yet. */
  private setIpOption(t: Task, level: number, optname: number): SysRet {
    if (level !== SOL_IP) return unknownProtocolLevel();
    return unknownOption(t, this, "SOL_IP", optname, definedUpTo(optname, IP_LINUX_LAST));
  }

  /** Linux: do_ip_getsockopt — another level is EOPNOTSUPP here, unlike the setter. */
  private getIpOption(t: Task, level: number, optname: number, optlenPtr: number): SysRet {
    if (level !== SOL_IP) return EOPNOTSUPP;
    if (t.mm.i32(optlenPtr) < 0) return EINVAL;
    return unknownOption(t, this, "SOL_IP", optname, definedUpTo(optname, IP_LINUX_LAST));
  }

  /** Linux: ipv6_setsockopt / do_ipv6_setsockopt. */
  private setIpv6Option(t: Task, level: number, optname: number, optval: number, optlen: number): SysRet {
    if (level !== SOL_IPV6) return unknownProtocolLevel();
    // An int option shorter than an int reads as 0.
    const val = optlen >= 4 ? t.mm.i32(optval) : 0;
    switch (optname) {
      case IPV6_V6ONLY:
        if (optlen < 4 || this.num) return EINVAL; // fixed once bound
        this.ipv6only = val !== 0;
        return 0;
      default:
        return unknownOption(t, this, "SOL_IPV6", optname, definedUpTo(optname, IPV6_LINUX_LAST));
    }
  }

  /** Linux: ipv6_getsockopt / do_ipv6_getsockopt. */
  private getIpv6Option(t: Task, level: number, optname: number, optval: number, optlenPtr: number): SysRet {
    if (level !== SOL_IPV6) return unknownProtocolLevel();
    const len = t.mm.i32(optlenPtr);
    switch (optname) {
      case IPV6_V6ONLY: return putIntOption(t, optval, optlenPtr, len, this.ipv6only ? 1 : 0);
      default: return unknownOption(t, this, "SOL_IPV6", optname, definedUpTo(optname, IPV6_LINUX_LAST));
    }
  }
}

/** A level no inet protocol knows (e.g. SOL_TCP on a UDP socket): ENOPROTOOPT, nothing to warn about. */
function unknownProtocolLevel(): Errno {
  return ENOPROTOOPT;
}
