/**
 * UDP sockets over IPv4 and IPv6 on loopback: datagrams delivered to the
 * socket bound at their destination (udp4_lib_lookup's scoring), connected
 * sockets with their default destination and source filter, and the
 * ECONNREFUSED a connected sender gets when nobody is there.
 */
import {
  Errno, EAFNOSUPPORT, EAGAIN, ECONNREFUSED, EDESTADDRREQ, EINVAL, EMSGSIZE, EOPNOTSUPP, EPIPE,
} from "../../errno";
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM, type SysRet } from "../../file";
import type { Task } from "../../task";
import {
  AF_INET, AF_INET6, AF_UNSPEC, IPPROTO_UDP, MSG_ERRQUEUE, MSG_OOB, MSG_PEEK, MSG_TRUNC, RCV_SHUTDOWN, SEND_SHUTDOWN,
  SHUTDOWN_MASK, SOL_UDP,
} from "../constants";
import type { Net, PortTable } from "../netns";
import { familyOf, INADDR_ANY, ipv6Type, mappedIpv4, sameIpv6, sockaddrIn, sockaddrIn6 } from "../sockaddr";
import {
  SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, skbTruesize, type Owner, type RecvResult, type SendRequest, type SendResult,
} from "../socket";
import { unknownOption } from "../sockopt";
import { InetSocket, randomBelow } from "./inet";
import { destination, sourceFor, type Dest } from "./route";

/** The largest UDP payload over IPv4 udp_sendmsg accepts (0xFFFF). */
const UDP_MAX_LEN = 0xffff;
/** What fits in one datagram: 65535 minus the IPv4 and UDP headers; IPv6's payload length excludes its header. */
const UDP_MAX_PAYLOAD4 = 65507, UDP_MAX_PAYLOAD6 = 65527;
/** Headroom ip_append_data reserves (link, IP and UDP headers), for the receive buffer's accounting. */
const UDP_HEADROOM = 64;

interface Datagram { data: Uint8Array; from: Uint8Array; port: number; truesize: number }

/**
 * The socket a datagram to `dest` from (`source`, `sport`) reaches. Linux:
 * __udp4_lib_lookup / __udp6_lib_lookup — an exact local address before a
 * wildcard; connected sockets only take their peer's datagrams and score
 * higher; AF_INET beats a dual-stack AF_INET6 socket for IPv4.
 */
function lookupUdp(net: Net, dest: Dest, source: Uint8Array, sport: number): UdpSocket | undefined {
  let best: UdpSocket[] = [];
  let bestScore = 0;
  for (const s of net.udpPorts.owners(dest.port)) {
    if (!(s instanceof UdpSocket)) continue;
    let score: number;
    if (dest.v4) {
      if (s.family === AF_INET6 && s.ipv6only) continue;
      const d = mappedIpv4(dest.addr);
      if (s.family === AF_INET6 && ipv6Type(s.rcvSaddr6) !== "any" && ipv6Type(s.rcvSaddr6) !== "mapped") continue;
      if (s.rcvSaddr !== d && s.rcvSaddr !== INADDR_ANY) continue;
      score = (s.rcvSaddr === d ? 16 : 0) + (s.family === AF_INET ? 2 : 1);
    } else {
      if (s.family !== AF_INET6) continue;
      const type = ipv6Type(s.rcvSaddr6);
      if (type !== "any" && !sameIpv6(s.rcvSaddr6, dest.addr)) continue;
      score = (type === "any" ? 0 : 16) + 2;
    }
    if (s.dport) {
      if (s.dport !== sport || !sameIpv6(s.daddr6, source)) continue;
      score += 8;
    }
    if (score > bestScore) {
      best = [s];
      bestScore = score;
    } else if (score === bestScore) {
      best.push(s);
    }
  }
  if (best.length <= 1 || !best.every((s) => s.reuseport)) return best[0];
  return best[sport % best.length];
}
/** SOL_UDP options include/uapi/linux/udp.h defines: UDP_CORK, and UDP_ENCAP (100) to UDP_GRO (104). */
const linuxHasUdpOption = (optname: number): boolean => optname === 1 || (optname >= 100 && optname <= 104);

export class UdpSocket extends InetSocket {
  private queue: Datagram[] = [];
  /** sk_rmem_alloc: the receive queue's accounted size. */
  private rmem = 0;

  constructor(net: Net, owner: Owner, family: number, type: number) {
    super(net, owner, family, type, IPPROTO_UDP, { sndbuf: net.sysctl.wmemDefault, rcvbuf: net.sysctl.rmemDefault });
  }

  protected override get ports(): PortTable<InetSocket> { return this.net.udpPorts; }
  protected override get protoLevel(): number { return SOL_UDP; }

  /**
   * Linux: udp_lib_lport_inuse — the port is shared only when both sockets
   * set SO_REUSEADDR, or both SO_REUSEPORT with one owner. Listening does not
   * exist for UDP, so the same rule serves named and ephemeral ports.
   */
  protected override conflictsWith(other: InetSocket, _explicit: boolean): boolean {
    if (this.reuse && other.reuse) return false;
    return !(this.reuseport && other.reuseport && this.uid === other.uid);
  }

  /**
   * Linux: udp_lib_get_port picks a random port in ip_local_port_range and
   * walks its hash chain; here, a random start and then every port in turn.
   */
  protected override *ephemeralPorts(t: Task): Iterable<number> {
    const [low, high] = this.net.sysctl.ipLocalPortRange;
    const remaining = high - low + 1;
    const first = randomBelow(t, remaining);
    for (let i = 0; i < remaining; i++) yield low + ((first + i) % remaining);
  }

  /** Datagram sockets do not listen (inet_dgram_ops: sock_no_listen). */
  override listen(_t: Task, _backlog: number): SysRet {
    return EOPNOTSUPP;
  }

  /** A connected UDP socket is "ESTABLISHED" (it has a default destination). */
  private get connected(): boolean { return this.state === "ESTABLISHED"; }

  /**
   * Implements connect(2) for UDP. Linux: inet_dgram_connect (AF_UNSPEC
   * disconnects; an unbound socket is bound first) and ip4_datagram_connect /
   * ip6_datagram_connect: the destination becomes the default one and the
   * only one datagrams are accepted from; the source address is fixed.
   */
  override connect(t: Task, addr: Uint8Array, addrlen: number, _nonblock: boolean): SysRet {
    if (addrlen < 2) return EINVAL;
    if (familyOf(addr) === AF_UNSPEC) {
      this.udpDisconnect();
      return 0;
    }
    if (!this.num) {
      if (this.getPort(t, 0)) return EAGAIN;
      this.sport = this.num;
    }
    if (this.family === AF_INET6 && familyOf(addr) === AF_INET && this.ipv6only) return EAFNOSUPPORT;
    const dest = destination(this, addr, addrlen, familyOf(addr) === AF_INET && this.family === AF_INET6 ? "udp-send" : "udp-connect");
    if (dest instanceof Errno) return dest;
    if (this.rcvSaddr === INADDR_ANY && (this.family === AF_INET || ipv6Type(this.rcvSaddr6) === "any")) this.setLocal(sourceFor(this, dest));
    this.daddr6 = dest.addr;
    this.dport = dest.port;
    this.state = "ESTABLISHED";
    this.changed();
    return 0;
  }

  /** Linux: __udp_disconnect — the address goes unless bind named it, the port too (inet_sport with it). */
  private udpDisconnect(): void {
    this.state = "CLOSE";
    this.daddr6 = new Uint8Array(16);
    this.dport = 0;
    if (!(this.userlocks & SOCK_BINDADDR_LOCK)) this.resetSaddr();
    if (!(this.userlocks & SOCK_BINDPORT_LOCK)) {
      this.putPort();
      this.sport = 0;
    }
    this.changed();
  }

  /**
   * Implements sendmsg(2) for UDP. Linux: udp_sendmsg / udpv6_sendmsg — the
   * length, the destination (msg_name, else the connected one, else
   * EDESTADDRREQ), the route, a pending error, then delivery to the socket
   * bound there. Nobody there: the ICMP port-unreachable that comes back
   * sets ECONNREFUSED on a connected sender, for its next call.
   */
  override sendmsg(t: Task, req: SendRequest, _nonblock: boolean): SendResult {
    const len = req.data.length;
    if (this.family === AF_INET && len > UDP_MAX_LEN) return EMSGSIZE;
    if (req.flags & MSG_OOB) return EOPNOTSUPP;
    let dest: Dest;
    const unspec6 = this.family === AF_INET6 && req.addr && req.addrlen >= 2 && familyOf(req.addr) === AF_UNSPEC;
    if (req.addr && !unspec6) {
      if (req.addrlen < 2) return EINVAL;
      const d = destination(this, req.addr, req.addrlen, "udp-send");
      if (d instanceof Errno) return d;
      if (d.port === 0) return EINVAL;
      dest = d;
    } else {
      if (!this.connected) return EDESTADDRREQ;
      dest = { addr: this.daddr6, port: this.dport, v4: ipv6Type(this.daddr6) === "mapped" };
    }
    if (req.cmsgError) return req.cmsgError;
    if (len > (dest.v4 ? UDP_MAX_PAYLOAD4 : UDP_MAX_PAYLOAD6)) return EMSGSIZE;
    if (!this.num) {
      // inet_send_prepare: an unbound socket is bound to an ephemeral port first.
      if (this.getPort(t, 0)) return EAGAIN;
      this.sport = this.num;
    }
    const e = this.takeError();
    if (e) return e;
    if (this.shutdownMask & SEND_SHUTDOWN) return EPIPE;
    const source = this.rcvSaddr !== INADDR_ANY || this.family === AF_INET6 && ipv6Type(this.rcvSaddr6) !== "any"
      ? this.localAddr6() : sourceFor(this, dest);
    const to = lookupUdp(this.net, dest, source, this.sport);
    if (!to) {
      if (this.connected) {
        this.err = ECONNREFUSED;
        this.changed(POLLERR);
      }
      return len;
    }
    to.enqueue(req.data, source, this.sport);
    return len;
  }

  /** A datagram arrives: queued unless the receive buffer is over sk_rcvbuf (then dropped, as Linux does). */
  enqueue(data: Uint8Array, from: Uint8Array, port: number): void {
    if (this.rmem > this.rcvbuf) return;
    const truesize = skbTruesize(data.length, UDP_HEADROOM);
    this.rmem += truesize;
    this.queue.push({ data: data.slice(), from, port, truesize });
    this.changed(POLLIN | POLLRDNORM);
  }

  /** The sender's address as this socket's family shows it. */
  private sourceAddr(from: Uint8Array, port: number): Uint8Array {
    if (this.family === AF_INET) return sockaddrIn(port, mappedIpv4(from));
    return sockaddrIn6(port, from, 0);
  }

  /**
   * Implements recvmsg(2) for UDP. Linux: udp_recvmsg / __skb_recv_udp — a
   * pending error first, then the oldest datagram: a short buffer truncates
   * it (MSG_TRUNC in msg_flags, and the full length returned with the
   * MSG_TRUNC flag); MSG_PEEK leaves it queued.
   */
  override recvmsg(t: Task, len: number, flags: number, nonblock: boolean): RecvResult {
    if (flags & MSG_ERRQUEUE) return EAGAIN;
    const err = this.takeError();
    if (err) return err;
    const d = this.queue[0];
    if (!d) {
      if (!nonblock && this.rcvtimeo !== 0n && this.shutdownMask & RCV_SHUTDOWN) return { data: new Uint8Array(0), result: 0, flags: 0 };
      return this.sleepForData(nonblock, () => this.recvmsg(t, len, flags, nonblock));
    }
    if (!(flags & MSG_PEEK)) {
      this.queue.shift();
      this.rmem -= d.truesize;
    }
    const n = Math.min(len, d.data.length);
    return {
      data: d.data.subarray(0, n), result: flags & MSG_TRUNC ? d.data.length : n,
      addr: this.sourceAddr(d.from, d.port), flags: n < d.data.length ? MSG_TRUNC : 0,
    };
  }

  /** SIOCINQ on UDP: the size of the next datagram. */
  override inq(): number { return this.queue[0]?.data.length ?? 0; }

  /** Linux: udp_poll → datagram_poll (always writable: loopback delivery never waits). */
  override poll(): number {
    let mask = 0;
    if (this.err) mask |= POLLERR;
    if (this.shutdownMask & RCV_SHUTDOWN) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.shutdownMask === SHUTDOWN_MASK) mask |= POLLHUP;
    if (this.queue.length) mask |= POLLIN | POLLRDNORM;
    return mask | POLLOUT | POLLWRNORM | POLLWRBAND;
  }

  override release(): void {
    this.queue = [];
    super.release();
  }

  /** Linux: udp_lib_setsockopt — an int is required; no UDP_* option is implemented yet. */
  protected override setProtoOption(t: Task, optname: number, optval: number, optlen: number): SysRet {
    if (optlen < 4) return EINVAL;
    t.mm.i32(optval);
    return unknownOption(t, this, "SOL_UDP", optname, linuxHasUdpOption(optname));
  }

  /** Linux: udp_lib_getsockopt. */
  protected override getProtoOption(t: Task, optname: number, _optval: number, optlenPtr: number): SysRet {
    if (t.mm.i32(optlenPtr) < 0) return EINVAL;
    return unknownOption(t, this, "SOL_UDP", optname, linuxHasUdpOption(optname));
  }
}
