/**
 * TCP sockets over IPv4 and IPv6: listen, the bind-conflict rule that lets
 * SO_REUSEADDR sockets share a port until one listens, and SOL_TCP options.
 * Connections (connect, accept queues, data) come later; until then a TCP
 * socket is CLOSE or LISTEN.
 */
import { Errno, EINVAL, ENOTCONN, EPIPE } from "../../errno";
import type { Block, ReadResult, SysRet } from "../../file";
import type { Task } from "../../task";
import {
  IPPROTO_TCP, RCV_SHUTDOWN, SOL_TCP, TCP_FASTOPEN, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_LINUX_LAST, TCP_NODELAY,
} from "../constants";
import type { Net, PortTable } from "../netns";
import { definedUpTo, putIntOption, unknownOption } from "../sockopt";
import { InetSocket, randomBelow } from "./inet";

/** net.ipv4.tcp_fastopen bits, include/net/tcp.h. */
const TFO_SERVER_ENABLE = 0x2, TFO_SERVER_WO_SOCKOPT1 = 0x400;
/** include/net/tcp.h: the TCP_KEEPIDLE/INTVL (seconds) and TCP_KEEPCNT limits. */
const MAX_TCP_KEEPIDLE = 32767, MAX_TCP_KEEPINTVL = 32767, MAX_TCP_KEEPCNT = 127;
/** TCP_CONGESTION, TCP_ULP, TCP_FASTOPEN_KEY (include/uapi/linux/tcp.h): not ints. */
const STRING_OPTIONS = new Set([13, 31, 33]);

export class TcpSocket extends InetSocket {
  /** TCP_NODELAY (tp->nonagle & TCP_NAGLE_OFF). */
  nodelay = false;
  /** TCP_FASTOPEN: the listener's fastopen queue length (fastopenq.max_qlen); 0 = off. */
  fastopenQueue = 0;
  /** TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT; 0 = the sysctl's value. */
  keepIdle = 0;
  keepIntvl = 0;
  keepCnt = 0;

  constructor(net: Net, t: Task, family: number, type: number) {
    // tcp_init_sock: the buffers start at tcp_wmem[1] / tcp_rmem[1].
    super(net, t, family, type, IPPROTO_TCP, { sndbuf: net.sysctl.tcpWmem[1], rcvbuf: net.sysctl.tcpRmem[1] });
  }

  protected override get ports(): PortTable<InetSocket> { return this.net.tcpPorts; }
  protected override get protoLevel(): number { return SOL_TCP; }

  /**
   * Linux: inet_bind_conflict as inet_csk_get_port calls it (relax and
   * reuseport_ok set for a named port, neither for the ephemeral search).
   * Two SO_REUSEADDR sockets share a port while the other one is not
   * listening; two SO_REUSEPORT sockets of one user share it always.
   */
  protected override conflictsWith(other: InetSocket, explicit: boolean): boolean {
    const sameUser = this.uid === other.uid;
    if (this.reuse && other.reuse && other.state !== "LISTEN") return !explicit;
    return !explicit || !this.reuseport || !other.reuseport || !sameUser;
  }

  /**
   * Linux: inet_csk_find_open_port — the lower half of ip_local_port_range
   * first for SO_REUSEADDR sockets, a random start, and ports of the other
   * parity than `low` before the rest (connect() keeps that parity).
   */
  protected override *ephemeralPorts(t: Task): Iterable<number> {
    const [rangeLow, rangeHigh] = this.net.sysctl.ipLocalPortRange;
    let attemptHalf = this.reuse ? 1 : 0;
    for (;;) {
      let low = rangeLow, high = rangeHigh + 1;
      if (high - low < 4) attemptHalf = 0;
      if (attemptHalf) {
        const half = low + (((high - low) >> 2) << 1);
        if (attemptHalf === 1) high = half;
        else low = half;
      }
      let remaining = high - low;
      if (remaining > 1) remaining &= ~1;
      let offset = randomBelow(t, remaining) | 1;
      for (;;) {
        let port = low + offset;
        for (let i = 0; i < remaining; i += 2, port += 2) {
          if (port >= high) port -= remaining;
          yield port;
        }
        offset--;
        if (offset & 1) break;
      }
      if (attemptHalf !== 1) return;
      attemptHalf = 2;
    }
  }

  /**
   * Implements listen(2) for TCP. Linux: inet_listen, __inet_listen_sk and
   * inet_csk_listen_start — an unbound socket gets an ephemeral port, and
   * another socket listening on the same address and port is EADDRINUSE.
   */
  override listen(t: Task, backlog: number): SysRet {
    if (this.sockState !== "UNCONNECTED") return EINVAL;
    if (this.state !== "CLOSE" && this.state !== "LISTEN") return EINVAL;
    this.backlog = backlog; // written before the port check, as Linux does
    if (this.state === "LISTEN") return 0; // only the backlog changes
    const tfo = this.net.sysctl.tcpFastopen;
    if (tfo & TFO_SERVER_WO_SOCKOPT1 && tfo & TFO_SERVER_ENABLE && !this.fastopenQueue) this.tuneFastopen(backlog);
    this.state = "LISTEN";
    const err = this.getPort(t, this.num);
    if (err) {
      this.state = "CLOSE";
      return err;
    }
    this.sport = this.num;
    return 0;
  }

  /** fastopen_queue_tune: the queue is capped by somaxconn too. */
  private tuneFastopen(len: number): void {
    this.fastopenQueue = Math.min(len >>> 0, this.net.sysctl.somaxconn);
  }

  /**
   * read(2) before a connection. Linux: tcp_recvmsg_locked — a listener is
   * ENOTCONN, then a pending error, then end-of-file once shut down for
   * reading, and ENOTCONN for a socket that never connected.
   */
  override read(_t: Task, _len: number, _nonblock: boolean): ReadResult {
    if (this.state === "LISTEN") return ENOTCONN;
    const err = this.takeError();
    if (err) return err;
    if (this.shutdownMask & RCV_SHUTDOWN) return new Uint8Array(0);
    return ENOTCONN;
  }

  /**
   * write(2) before a connection. Linux: tcp_sendmsg_locked →
   * sk_stream_wait_connect: EPIPE. Linux also raises SIGPIPE here (without
   * MSG_NOSIGNAL); that waits for signal delivery.
   */
  override write(_t: Task, _data: Uint8Array, _nonblock: boolean): number | Errno | Block {
    return this.takeError() ?? EPIPE;
  }

  /** Linux: do_tcp_setsockopt. */
  protected override setProtoOption(t: Task, optname: number, optval: number, optlen: number): SysRet {
    // The string options come before Linux's int-length check.
    if (STRING_OPTIONS.has(optname)) return unknownOption(t, this, "SOL_TCP", optname, definedUpTo(optname, TCP_LINUX_LAST));
    if (optlen < 4) return EINVAL;
    const val = t.mm.i32(optval);
    switch (optname) {
      case TCP_NODELAY: this.nodelay = val !== 0; return 0;
      case TCP_KEEPIDLE:
        if (val < 1 || val > MAX_TCP_KEEPIDLE) return EINVAL;
        this.keepIdle = val;
        return 0;
      case TCP_KEEPINTVL:
        if (val < 1 || val > MAX_TCP_KEEPINTVL) return EINVAL;
        this.keepIntvl = val;
        return 0;
      case TCP_KEEPCNT:
        if (val < 1 || val > MAX_TCP_KEEPCNT) return EINVAL;
        this.keepCnt = val;
        return 0;
      case TCP_FASTOPEN:
        if (val < 0 || (this.state !== "CLOSE" && this.state !== "LISTEN")) return EINVAL;
        this.tuneFastopen(val);
        return 0;
      default:
        return unknownOption(t, this, "SOL_TCP", optname, definedUpTo(optname, TCP_LINUX_LAST));
    }
  }

  /** Linux: do_tcp_getsockopt — a negative *optlen is EINVAL, then at most an int is copied. */
  protected override getProtoOption(t: Task, optname: number, optval: number, optlenPtr: number): SysRet {
    const len = t.mm.i32(optlenPtr);
    if (len < 0) return EINVAL;
    const sysctl = this.net.sysctl;
    let val: number;
    switch (optname) {
      case TCP_NODELAY: val = this.nodelay ? 1 : 0; break;
      case TCP_KEEPIDLE: val = this.keepIdle || sysctl.tcpKeepaliveTime; break;
      case TCP_KEEPINTVL: val = this.keepIntvl || sysctl.tcpKeepaliveIntvl; break;
      case TCP_KEEPCNT: val = this.keepCnt || sysctl.tcpKeepaliveProbes; break;
      case TCP_FASTOPEN: val = this.fastopenQueue; break;
      default: return unknownOption(t, this, "SOL_TCP", optname, definedUpTo(optname, TCP_LINUX_LAST));
    }
    return putIntOption(t, optval, optlenPtr, len, val);
  }
}
