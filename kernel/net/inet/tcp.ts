/**
 * TCP over IPv4 and IPv6, on loopback: listen and its accept queue, connect
 * with Linux's handshake outcomes, data with flow control, orderly release
 * (FIN) and aborts (RST), and TCP Fast Open.
 *
 * A connection is two TcpSockets, each the other's TcpPeer: a write lands in
 * the peer's receive queue at once, bounded by the room that queue has. A
 * host connection (--publish) is a TcpPeer too.
 *
 * The accept queue follows Linux's own test (sk_acceptq_is_full: pending >
 * backlog), so backlog+1 connections complete. A SYN that finds the queue
 * full is dropped and retransmitted after 1, 2, 4... seconds, as Linux's
 * client does (tcp_syn_retries = 6, then ETIMEDOUT), so a slot that frees
 * is only taken at the next retransmission — exactly what a program sees on
 * Linux. net.ipv4.tcp_abort_on_overflow=1 answers such a SYN with a reset
 * (ECONNREFUSED) instead; Linux only resets on overflow at the handshake's
 * last ACK, which loopback makes indistinguishable.
 */
import {
  Errno, EAFNOSUPPORT, EAGAIN, EALREADY, ECONNABORTED, ECONNREFUSED, ECONNRESET, EINPROGRESS, EINVAL, EISCONN, ENOTCONN, EOPNOTSUPP,
  EPIPE, ETIMEDOUT,
} from "../../errno";
import { Block, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM, type SysRet } from "../../file";
import { sendSigpipe } from "../../pipe";
import type { Task } from "../../task";
import {
  AF_INET, AF_INET6, AF_UNSPEC, IPPROTO_TCP, MSG_ERRQUEUE, MSG_FASTOPEN, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC,
  MSG_WAITALL, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK, SOCK_STREAM, SOL_TCP, TCP_FASTOPEN, TCP_FASTOPEN_CONNECT,
  TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_LINUX_LAST, TCP_NODELAY,
} from "../constants";
import type { Net, PortTable } from "../netns";
import { familyOf, ipv6Type, mappedIpv4, sameIpv6 } from "../sockaddr";
import {
  SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, type AcceptResult, type Owner, type Received, type RecvResult, type SendRequest, type SendResult,
} from "../socket";
import { definedUpTo, putIntOption, unknownOption } from "../sockopt";
import { InetSocket, randomBelow } from "./inet";
import { destination, sourceFor, type Dest } from "./route";

/** net.ipv4.tcp_fastopen bits, include/net/tcp.h. */
const TFO_CLIENT_ENABLE = 0x1, TFO_SERVER_ENABLE = 0x2, TFO_SERVER_WO_SOCKOPT1 = 0x400;
/** include/net/tcp.h: the TCP_KEEPIDLE/INTVL (seconds) and TCP_KEEPCNT limits. */
const MAX_TCP_KEEPIDLE = 32767, MAX_TCP_KEEPINTVL = 32767, MAX_TCP_KEEPCNT = 127;
/** TCP_CONGESTION, TCP_ULP, TCP_FASTOPEN_KEY (include/uapi/linux/tcp.h): not ints. */
const STRING_OPTIONS = new Set([13, 31, 33]);
/** TCP_TIMEOUT_INIT (1 s): the first SYN retransmission; each later one waits twice as long. */
const TCP_TIMEOUT_INIT_MS = 1000;
/** net.ipv4.tcp_syn_retries' default: a connect gives up after this many retransmissions. */
const TCP_SYN_RETRIES = 6;
/** TCP_TIMEWAIT_LEN: how long the side that closed first keeps its port (60 s). */
const TCP_TIMEWAIT_LEN_MS = 60_000;

/**
 * The far end of an established connection, as a sender sees it: another
 * guest socket, or a host connection bridged in by --publish.
 */
export interface TcpPeer {
  /** Bytes it can take now. */
  rxSpace(): number;
  /** Whether a writer should be told it may write (sk_stream_is_writeable). */
  rxWritable(): boolean;
  /** Data arrives. */
  deliver(data: Uint8Array): void;
  /** A FIN arrives: the sender will send nothing more. */
  deliverFin(): void;
  /** A reset arrives. */
  deliverRst(): void;
  /** The receiver took data out of its queue: there is room again for the sender. */
  peerConsumed(): void;
  /** Its address and port (16 bytes, IPv4 mapped), for getpeername and accept. */
  readonly endpoint: { addr: Uint8Array; port: number };
  /** Its creator, for SO_PEERCRED (a host connection has none). */
  readonly owner?: Owner;
}

/** The open connections a listener can be reached by: host --publish registers here too. */
export function findListener(net: Net, dest: Dest): TcpSocket | undefined {
  let best: TcpSocket[] = [];
  let bestScore = 0;
  for (const s of net.tcpPorts.owners(dest.port)) {
    if (!(s instanceof TcpSocket) || s.state !== "LISTEN") continue;
    const score = listenerScore(s, dest);
    if (score > bestScore) {
      best = [s];
      bestScore = score;
    } else if (score === bestScore && score > 0) {
      best.push(s);
    }
  }
  if (best.length <= 1) return best[0];
  // SO_REUSEPORT: Linux picks one of the group by a hash of the connection.
  const group = best.filter((s) => s.reuseport);
  if (group.length !== best.length) return best[0];
  return group[dest.port % group.length];
}

/**
 * How well a listener matches (compute_score, and the exact-address lookup
 * before the wildcard one): an exact address beats a wildcard, and for an
 * IPv4 packet an AF_INET socket beats a dual-stack AF_INET6 one.
 */
function listenerScore(s: TcpSocket, dest: Dest): number {
  if (dest.v4) {
    const d = mappedIpv4(dest.addr);
    if (s.family === AF_INET) return s.rcvSaddr === d ? 5 : s.rcvSaddr === 0 ? 3 : 0;
    if (s.ipv6only) return 0;
    const type = ipv6Type(s.rcvSaddr6);
    if (type === "mapped") return s.rcvSaddr === d ? 4 : 0;
    return type === "any" ? 2 : 0;
  }
  if (s.family !== AF_INET6) return 0;
  if (sameIpv6(s.rcvSaddr6, dest.addr)) return 4;
  return ipv6Type(s.rcvSaddr6) === "any" ? 2 : 0;
}

const cookieKey = (d: Dest): string => `${Buffer.from(d.addr).toString("hex")}:${d.port}`;

export class TcpSocket extends InetSocket implements TcpPeer {
  /** TCP_NODELAY (tp->nonagle & TCP_NAGLE_OFF). */
  nodelay = false;
  /** TCP_FASTOPEN: the listener's fastopen queue length (fastopenq.max_qlen); 0 = off. */
  fastopenQueue = 0;
  /** TCP_FASTOPEN_CONNECT (tp->fastopen_connect). */
  fastopenConnect = false;
  /** DEFER_CONNECT: connect() returned 0 and the SYN leaves with the first write. */
  private deferConnect = false;
  /** TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT; 0 = the sysctl's value. */
  keepIdle = 0;
  keepIntvl = 0;
  keepCnt = 0;

  /** The other end while connected (also after our close, to answer late data with a reset). */
  peer: TcpPeer | undefined;
  /** The receive queue. */
  private rx: Uint8Array[] = [];
  private rxBytes = 0;
  /** SOCK_DONE: a FIN arrived. */
  private finReceived = false;
  /** Our FIN went out (shutdown SHUT_WR or close). */
  private finSent = false;
  /** Closed by its owner; the connection lingers only to answer the peer. */
  private orphaned = false;
  /** A listener's established connections not yet accepted (icsk_accept_queue). */
  readonly acceptQueue: TcpSocket[] = [];
  /** Told when accept() makes room in a listener's queue (host connections waiting to get in). */
  readonly acceptRoom = new Set<() => void>();
  /** A connecting socket's destination and SYN retransmission state. */
  private connecting: { dest: Dest; retries: number; timer?: NodeJS.Timeout; synData?: Uint8Array } | undefined;

  constructor(net: Net, owner: Owner, family: number, type: number) {
    // tcp_init_sock: the buffers start at tcp_wmem[1] / tcp_rmem[1].
    super(net, owner, family, type, IPPROTO_TCP, { sndbuf: net.sysctl.tcpWmem[1], rcvbuf: net.sysctl.tcpRmem[1] });
  }

  protected override get ports(): PortTable<InetSocket> { return this.net.tcpPorts; }
  protected override get protoLevel(): number { return SOL_TCP; }

  /** inet_getname: a TCP socket has a peer once past SYN_SENT and until closed. */
  protected override get hasPeer(): boolean {
    return this.dport !== 0 && this.state !== "CLOSE" && this.state !== "SYN_SENT";
  }

  get endpoint(): { addr: Uint8Array; port: number } { return { addr: this.localAddr6(), port: this.sport }; }
  get owner(): Owner { return { uid: this.uid, gid: this.gid, pid: this.pid }; }

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
    this.changed();
    return 0;
  }

  /** fastopen_queue_tune: the queue is capped by somaxconn too. */
  private tuneFastopen(len: number): void {
    this.fastopenQueue = Math.min(len >>> 0, this.net.sysctl.somaxconn);
  }

  // --- connect -------------------------------------------------------------------

  /**
   * Implements connect(2) for TCP. Linux: __inet_stream_connect — the
   * socket's state decides (EISCONN, EALREADY), an unconnected one sends its
   * SYN; a non-blocking caller gets EINPROGRESS, a blocking one waits (up to
   * SO_SNDTIMEO, then EINPROGRESS) for the handshake's outcome.
   */
  override connect(t: Task, addr: Uint8Array, addrlen: number, nonblock: boolean): SysRet {
    return this.streamConnect(t, addr, addrlen, nonblock, false);
  }

  private streamConnect(t: Task, addr: Uint8Array, addrlen: number, nonblock: boolean, isSendmsg: boolean, synData?: Uint8Array): SysRet {
    if (addrlen < 2) return EINVAL;
    if (familyOf(addr) === AF_UNSPEC) {
      // A disconnect: tcp_disconnect, then the socket may connect again.
      this.abortConnection();
      this.disconnect();
      this.changed();
      return 0;
    }
    let err: Errno;
    switch (this.sockState) {
      case "CONNECTED":
        return EISCONN;
      case "CONNECTING":
        err = this.deferConnect ? (isSendmsg ? EINPROGRESS : EISCONN) : EALREADY;
        break;
      default: {
        if (this.state !== "CLOSE") return EISCONN;
        const r = this.v4v6Connect(t, addr, addrlen, synData);
        if (r) return r;
        this.sockState = "CONNECTING";
        if (this.deferConnect) return 0;
        err = EINPROGRESS;
        // Loopback answers at once, but a non-blocking caller still hears EINPROGRESS (as on Linux).
        if (nonblock) return err;
        break;
      }
    }
    return this.waitConnect(nonblock ? 0n : this.sndtimeo, err);
  }

  /** The rest of __inet_stream_connect: wait out SYN_SENT, then the outcome. */
  private waitConnect(timeo: bigint, err: Errno): SysRet {
    if (this.state === "SYN_SENT") {
      if (!timeo) return err;
      return this.sleep<SysRet>(timeo, (left) => this.waitConnect(left, err), () => err);
    }
    if (this.state === "CLOSE") {
      // "Connection was closed by RST, timeout, ICMP error or another process disconnected us."
      const e = this.takeError() ?? ECONNABORTED;
      this.disconnect();
      return e;
    }
    this.sockState = "CONNECTED";
    return 0;
  }

  /**
   * tcp_v4_connect / tcp_v6_connect: check and route the destination, pick
   * the source address and an ephemeral port, and send the SYN — unless
   * TCP_FASTOPEN_CONNECT with a cookie defers it to the first write.
   */
  private v4v6Connect(t: Task, addr: Uint8Array, addrlen: number, synData?: Uint8Array): Errno | undefined {
    const dest = destination(this, addr, addrlen, "tcp-connect");
    if (dest instanceof Errno) return dest;
    if (this.family === AF_INET && !dest.v4) return EAFNOSUPPORT;
    const source = sourceFor(this, dest);
    const hadPort = this.num !== 0;
    this.setLocal(source);
    if (!hadPort) {
      const err = this.getPort(t, 0);
      if (err) {
        this.resetSaddrUnlessLocked();
        return err;
      }
      this.sport = this.num;
    }
    this.daddr6 = dest.addr;
    this.dport = dest.port;
    this.state = "SYN_SENT";
    this.connecting = { dest, retries: 0, synData };
    if (this.fastopenConnect && !synData && this.net.tfoCookies.has(cookieKey(dest))) {
      this.deferConnect = true;
      return undefined;
    }
    this.sendSyn();
    return undefined;
  }

  private resetSaddrUnlessLocked(): void {
    if (!(this.userlocks & SOCK_BINDADDR_LOCK)) this.resetSaddr();
  }

  /** The SYN reaches the listener (or nobody): established, refused, or dropped to be retransmitted. */
  private sendSyn(): void {
    const c = this.connecting;
    if (!c || this.state !== "SYN_SENT") return;
    const listener = findListener(this.net, c.dest);
    if (!listener || listener.shutdownMask & RCV_SHUTDOWN) {
      this.deliverRst();
      return;
    }
    if (listener.acceptQueueFull) {
      if (this.net.sysctl.tcpAbortOnOverflow) {
        this.deliverRst();
        return;
      }
      this.retransmitLater();
      return;
    }
    listener.establish(this, c.dest);
  }

  /** A dropped SYN goes out again after TCP_TIMEOUT_INIT << retries; after tcp_syn_retries, ETIMEDOUT. */
  private retransmitLater(): void {
    const c = this.connecting!;
    if (c.retries >= TCP_SYN_RETRIES) {
      c.timer = setTimeout(() => this.connectTimedOut(), TCP_TIMEOUT_INIT_MS << c.retries);
    } else {
      c.timer = setTimeout(() => {
        c.retries++;
        c.timer = undefined;
        this.sendSyn();
      }, TCP_TIMEOUT_INIT_MS << c.retries);
    }
    // The scheduler keeps Node alive while a task waits; the retransmission timer alone must not.
    c.timer.unref();
  }

  private connectTimedOut(): void {
    if (this.state !== "SYN_SENT") return;
    this.err = ETIMEDOUT;
    this.done();
  }

  /** Whether the accept queue is full: Linux's sk_acceptq_is_full, pending > backlog. */
  get acceptQueueFull(): boolean {
    return this.acceptQueue.length > this.backlog;
  }

  /**
   * A client's handshake completes against this listener: a new socket,
   * established, waits in the accept queue (tcp_v4_syn_recv_sock).
   */
  establish(client: TcpPeer & { connected?(server: TcpSocket): void }, dest: Dest): TcpSocket {
    const child = this.spawnChild(dest);
    child.peer = client;
    child.daddr6 = client.endpoint.addr.slice();
    child.dport = client.endpoint.port;
    child.state = "ESTABLISHED";
    this.acceptQueue.push(child);
    client.connected?.(child);
    this.changed(POLLIN | POLLRDNORM);
    return child;
  }

  /** The client side of establish(): the handshake's last ACK, plus any Fast Open data. */
  connected(server: TcpSocket): void {
    const c = this.connecting;
    if (c?.timer) clearTimeout(c.timer);
    this.connecting = undefined;
    this.peer = server;
    this.state = "ESTABLISHED";
    const tfo = this.net.sysctl.tcpFastopen;
    if (c && (c.synData || this.fastopenConnect) && tfo & TFO_CLIENT_ENABLE && this.listenerTakesFastopen(server)) {
      this.net.tfoCookies.add(cookieKey(c.dest));
    }
    if (c?.synData?.length) server.deliver(c.synData);
    this.changed(POLLOUT | POLLWRNORM);
  }

  private listenerTakesFastopen(child: TcpSocket): boolean {
    return (this.net.sysctl.tcpFastopen & TFO_SERVER_ENABLE) !== 0 && child.fastopenQueue > 0;
  }

  /** A new socket for an incoming connection: a clone of the listener (sk_clone_lock) on the same port. */
  private spawnChild(dest: Dest): TcpSocket {
    const c = new TcpSocket(this.net, { uid: this.uid, gid: this.gid, pid: this.pid }, this.family, SOCK_STREAM);
    for (const k of ["reuse", "reuseport", "keepalive", "broadcast", "dontroute", "oobinline", "sndbuf", "rcvbuf", "userlocks",
      "lingerOn", "lingerTime", "rcvtimeo", "sndtimeo", "nodelay", "keepIdle", "keepIntvl", "keepCnt", "ipv6only",
      "fastopenQueue"] as const) {
      (c as unknown as Record<string, unknown>)[k] = this[k];
    }
    c.setLocal(dest.addr);
    // inet_inherit_port: the child holds the listener's port in the bind table.
    c.num = this.num;
    c.sport = this.sport;
    this.net.tcpPorts.add(this.num, c);
    c.userlocks |= SOCK_BINDPORT_LOCK;
    return c;
  }

  // --- accept ----------------------------------------------------------------------

  /**
   * Implements accept(2) for TCP. Linux: inet_csk_accept — EINVAL unless
   * listening; an empty queue is EAGAIN without blocking (or once
   * SO_RCVTIMEO runs out), otherwise a sleep until a connection arrives.
   */
  override accept(t: Task, nonblock: boolean): AcceptResult {
    return this.acceptWait(t, nonblock ? 0n : this.rcvtimeo);
  }

  private acceptWait(t: Task, timeo: bigint): AcceptResult {
    if (this.state !== "LISTEN") return EINVAL;
    const child = this.acceptQueue.shift();
    if (!child) return this.sleep<AcceptResult>(timeo, (left) => this.acceptWait(t, left), () => EAGAIN);
    child.sockState = "CONNECTED";
    this.changed(POLLIN);
    for (const cb of [...this.acceptRoom]) cb();
    return child;
  }

  // --- the receiving end (TcpPeer) ------------------------------------------------------

  /** Room in the receive queue: rcvbuf plus what the sender may have in flight. */
  private get rxCapacity(): number { return this.rcvbuf + this.net.sysctl.tcpWmem[1]; }

  rxSpace(): number {
    return this.orphaned || this.state === "CLOSE" ? Number.MAX_SAFE_INTEGER : Math.max(0, this.rxCapacity - this.rxBytes);
  }

  /** __sk_stream_is_writeable: free space at least half of what is queued. */
  rxWritable(): boolean {
    return this.rxSpace() >= this.rxBytes / 2;
  }

  deliver(data: Uint8Array): void {
    if (this.orphaned || this.state === "CLOSE") {
      // Data for a socket nobody holds any more: answer with a reset (tcp_v4_send_reset).
      const sender = this.peer;
      this.peer = undefined;
      sender?.deliverRst();
      return;
    }
    if (!data.length) return;
    this.rx.push(data.slice());
    this.rxBytes += data.length;
    this.changed(POLLIN | POLLRDNORM);
  }

  /** tcp_fin: no more data; once our own FIN is out too, the connection is over. */
  deliverFin(): void {
    if (this.finReceived || this.state === "CLOSE") return;
    this.finReceived = true;
    this.shutdownMask |= RCV_SHUTDOWN;
    if (this.finSent) {
      // We closed first: TIME_WAIT keeps the port (tcp_time_wait).
      this.timeWait();
      this.done();
    } else {
      this.changed(POLLIN | POLLRDNORM | POLLRDHUP);
    }
  }

  /** tcp_reset: the error depends on the state the reset finds (ECONNREFUSED, EPIPE, ECONNRESET). */
  deliverRst(): void {
    if (this.state === "CLOSE" || this.state === "LISTEN") return;
    this.err = this.state === "SYN_SENT" ? ECONNREFUSED : this.finReceived ? EPIPE : ECONNRESET;
    this.peer = undefined;
    this.done();
  }

  peerConsumed(): void {
    this.changed(POLLOUT | POLLWRNORM);
  }

  /**
   * A TIME_WAIT socket (inet_timewait_sock): for TCP_TIMEWAIT_LEN it holds
   * this connection's port, with this socket's SO_REUSEADDR/SO_REUSEPORT,
   * so a new bind without SO_REUSEADDR gets EADDRINUSE — a restarted
   * server's classic error.
   */
  private timeWait(): void {
    if (!this.num) return;
    const tw = new TcpSocket(this.net, { uid: this.uid, gid: this.gid, pid: this.pid }, this.family, SOCK_STREAM);
    tw.state = "TIME_WAIT";
    tw.reuse = this.reuse;
    tw.reuseport = this.reuseport;
    tw.ipv6only = this.ipv6only;
    tw.rcvSaddr = this.rcvSaddr;
    tw.rcvSaddr6 = this.rcvSaddr6.slice();
    tw.boundDevIf = this.boundDevIf;
    tw.num = this.num;
    this.net.tcpPorts.add(tw.num, tw);
    const timer = setTimeout(() => this.net.tcpPorts.remove(tw.num, tw), TCP_TIMEWAIT_LEN_MS);
    timer.unref();
  }

  /** tcp_done: CLOSE, both directions shut, the port back unless bind named it. */
  private done(): void {
    const c = this.connecting;
    if (c?.timer) clearTimeout(c.timer);
    this.connecting = undefined;
    this.deferConnect = false;
    this.state = "CLOSE";
    this.shutdownMask = SHUTDOWN_MASK;
    if (!(this.userlocks & SOCK_BINDPORT_LOCK)) this.putPort();
    this.changed();
  }

  // --- sending -------------------------------------------------------------------------

  /**
   * Implements sendmsg(2) for TCP. Linux: tcp_sendmsg_locked — the address
   * is ignored (except for Fast Open), a socket still connecting waits,
   * then data goes out as far as the peer has room; a blocking sender
   * waits for the rest, a non-blocking one returns what went (or EAGAIN).
   */
  override sendmsg(t: Task, req: SendRequest, nonblock: boolean): SendResult {
    if (req.flags & MSG_OOB) {
      this.net.warnOnce(t, "TCP urgent data (MSG_OOB)");
      return EOPNOTSUPP;
    }
    if (req.flags & MSG_FASTOPEN || this.deferConnect) return this.sendFastopen(t, req, nonblock);
    if (req.cmsgError && this.state === "ESTABLISHED") return req.cmsgError;
    return this.sendData(t, req.data, 0, req.flags, nonblock ? 0n : this.sndtimeo);
  }

  /**
   * tcp_sendmsg_fastopen: connect with the data. With a cookie from an
   * earlier connection the data rides on the SYN and counts as sent even
   * for a non-blocking caller; without one the connect is ordinary and the
   * data follows once established (non-blocking: EINPROGRESS, nothing sent).
   */
  private sendFastopen(t: Task, req: SendRequest, nonblock: boolean): SendResult {
    if (!(this.net.sysctl.tcpFastopen & TFO_CLIENT_ENABLE) || (req.addr && req.addrlen >= 2 && familyOf(req.addr) === AF_UNSPEC)) {
      return EOPNOTSUPP;
    }
    let copiedSyn = 0;
    let err: SysRet;
    if (this.deferConnect) {
      // The deferred SYN leaves now, with the data.
      this.deferConnect = false;
      const c = this.connecting!;
      c.synData = req.data;
      copiedSyn = req.data.length;
      this.sendSyn();
      err = this.waitConnect(nonblock ? 0n : this.sndtimeo, EINPROGRESS);
    } else {
      if (!req.addr) return this.sockState === "CONNECTED" ? EISCONN : EINVAL;
      const key = this.peekCookie(req.addr, req.addrlen);
      const synData = key ? req.data : new Uint8Array(0);
      copiedSyn = synData.length;
      err = this.streamConnect(t, req.addr, req.addrlen, nonblock, true, synData);
    }
    return this.afterFastopen(t, req, nonblock, copiedSyn, err);
  }

  private afterFastopen(t: Task, req: SendRequest, nonblock: boolean, copiedSyn: number, err: SysRet): SendResult {
    if (err instanceof Block) return new Block(err.wait, () => this.afterFastopen(t, req, nonblock, copiedSyn, err.retry()), err.cancel);
    if (err === EINPROGRESS && copiedSyn > 0) return copiedSyn;
    if (err instanceof Errno) return err;
    if (copiedSyn >= req.data.length) return copiedSyn;
    return this.sendData(t, req.data.subarray(copiedSyn), 0, req.flags, nonblock ? 0n : this.sndtimeo, copiedSyn);
  }

  /** Whether a Fast Open cookie for this destination is cached (the SYN can carry data). */
  private peekCookie(addr: Uint8Array, addrlen: number): boolean {
    const dest = destination(this, addr, addrlen, "tcp-connect");
    return !(dest instanceof Errno) && this.net.tfoCookies.has(cookieKey(dest));
  }

  private sendData(t: Task, data: Uint8Array, copied: number, flags: number, timeo: bigint, base = 0): SendResult {
    if (this.state !== "ESTABLISHED") {
      // sk_stream_wait_connect
      const e = this.takeError();
      if (e) return copied + base || (e === EPIPE ? this.pipeError(t, flags) : e);
      if (this.state !== "SYN_SENT") return copied + base || this.pipeError(t, flags);
      if (!timeo) return copied + base || EAGAIN;
      return this.sleep<SendResult>(timeo, (left) => this.sendData(t, data, copied, flags, left, base), () => copied + base || EAGAIN);
    }
    if (this.err || this.shutdownMask & SEND_SHUTDOWN) return copied + base || this.streamError(t, flags);
    while (copied < data.length) {
      const peer = this.peer;
      if (!peer) break;
      const room = peer.rxSpace();
      if (room <= 0) break;
      const n = Math.min(room, data.length - copied);
      peer.deliver(data.subarray(copied, copied + n));
      copied += n;
      if (this.state !== "ESTABLISHED") return copied + base; // the peer answered with a reset
    }
    if (copied === data.length) return copied + base;
    // sk_stream_wait_memory
    if (!timeo) return copied + base || EAGAIN;
    return this.sleep<SendResult>(timeo, (left) => this.sendData(t, data, copied, flags, left, base), () => copied + base || EAGAIN);
  }

  /**
   * sk_stream_error for EPIPE: a pending error wins; EPIPE, its own or a
   * pending one (a reset after the peer's FIN), raises SIGPIPE unless MSG_NOSIGNAL.
   */
  private streamError(t: Task, flags: number): Errno {
    const e = this.takeError();
    if (e && e !== EPIPE) return e;
    return this.pipeError(t, flags);
  }

  private pipeError(t: Task, flags: number): Errno {
    if (!(flags & MSG_NOSIGNAL)) sendSigpipe(t);
    return EPIPE;
  }

  // --- receiving -----------------------------------------------------------------------

  /**
   * Implements recvmsg(2) for TCP. Linux: tcp_recvmsg_locked — a listener
   * is ENOTCONN; queued data comes first; then end-of-file after a FIN, a
   * pending error, end-of-file after SHUT_RD, ENOTCONN when never
   * connected, EAGAIN without blocking. MSG_WAITALL waits for `len` bytes,
   * MSG_PEEK leaves them queued, MSG_TRUNC discards them.
   */
  override recvmsg(_t: Task, len: number, flags: number, nonblock: boolean): RecvResult {
    if (this.state === "LISTEN") return ENOTCONN;
    if (flags & MSG_ERRQUEUE) return EAGAIN; // nothing is ever queued there
    if (flags & MSG_OOB) return EINVAL; // no urgent data (tcp_recv_urg)
    return this.recvData(len, flags, nonblock ? 0n : this.rcvtimeo, []);
  }

  private recvData(len: number, flags: number, timeo: bigint, got: Uint8Array[]): RecvResult {
    let copied = got.reduce((n, c) => n + c.length, 0);
    const target = flags & MSG_WAITALL ? len : 1;
    if (this.rxBytes > 0 && copied < len) {
      const chunk = this.take(len - copied, (flags & MSG_PEEK) !== 0);
      got.push(chunk);
      copied += chunk.length;
    }
    const result = (): Received => {
      const data = flags & MSG_TRUNC ? new Uint8Array(0) : Buffer.concat(got);
      return { data, result: copied, flags: 0 };
    };
    if (copied >= target || (copied > 0 && flags & MSG_PEEK)) return result();
    if (copied) {
      if (!timeo || this.err || this.state === "CLOSE" || this.shutdownMask & RCV_SHUTDOWN) return result();
    } else {
      if (this.finReceived) return result();
      const e = this.takeError();
      if (e) return e;
      if (this.shutdownMask & RCV_SHUTDOWN) return result();
      if (this.state === "CLOSE") return ENOTCONN;
      if (!timeo) return EAGAIN;
    }
    return this.sleep<RecvResult>(timeo, (left) => this.recvData(len, flags, left, got), () => (copied ? result() : EAGAIN));
  }

  /** Up to `n` bytes off the receive queue (or a copy of them, to peek). */
  private take(n: number, peek: boolean): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.rxBytes));
    let at = 0, i = 0;
    while (at < out.length) {
      const c = this.rx[i];
      const k = Math.min(c.length, out.length - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (peek) {
        i++;
        continue;
      }
      if (k === c.length) this.rx.shift();
      else this.rx[0] = c.subarray(k);
    }
    if (!peek && out.length) {
      this.rxBytes -= out.length;
      this.peer?.peerConsumed();
    }
    return out;
  }

  override inq(): number | Errno {
    return this.state === "LISTEN" ? EINVAL : this.rxBytes;
  }

  // --- poll, shutdown, close -----------------------------------------------------------

  /** Linux: tcp_poll (a listener: inet_csk_listen_poll). */
  override poll(): number {
    if (this.state === "LISTEN") return this.acceptQueue.length ? POLLIN | POLLRDNORM : 0;
    let mask = 0;
    if (this.shutdownMask === SHUTDOWN_MASK || this.state === "CLOSE") mask |= POLLHUP;
    if (this.shutdownMask & RCV_SHUTDOWN) mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (this.state !== "SYN_SENT") {
      if (this.rxBytes > 0) mask |= POLLIN | POLLRDNORM;
      if (!(this.shutdownMask & SEND_SHUTDOWN)) {
        if (!this.peer || this.peer.rxWritable()) mask |= POLLOUT | POLLWRNORM;
      } else {
        mask |= POLLOUT | POLLWRNORM;
      }
    } else if (this.deferConnect) {
      mask |= POLLOUT | POLLWRNORM;
    }
    if (this.err) mask |= POLLERR;
    return mask;
  }

  /**
   * Implements shutdown(2) for TCP. Linux: inet_shutdown + tcp_shutdown —
   * SHUT_WR on a connection sends the FIN; a connecting socket is
   * disconnected; the rest is as for any inet socket.
   */
  override shutdown(how: number): SysRet {
    const mask = (how + 1) | 0;
    if (mask & ~SHUTDOWN_MASK || !mask) return EINVAL;
    if (this.sockState === "CONNECTING" && this.state === "ESTABLISHED") this.sockState = "CONNECTED";
    if (this.state === "SYN_SENT") {
      this.abortConnection();
      this.disconnect();
      this.changed();
      return 0;
    }
    if (this.state !== "ESTABLISHED") return super.shutdown(how);
    this.shutdownMask |= mask;
    if (mask & SEND_SHUTDOWN && !this.finSent) {
      this.finSent = true;
      this.peer?.deliverFin();
      if (this.finReceived) {
        this.done();
        return 0;
      }
    }
    this.changed();
    return 0;
  }

  /** Stop a handshake in progress. */
  private abortConnection(): void {
    const c = this.connecting;
    if (c?.timer) clearTimeout(c.timer);
    this.connecting = undefined;
    this.deferConnect = false;
  }

  /** tcp_disconnect on a listener: every connection still in the queue is reset (inet_csk_listen_stop). */
  protected override disconnect(): void {
    if (this.state === "LISTEN") {
      for (const child of this.acceptQueue.splice(0)) child.abort();
    }
    super.disconnect();
  }

  /** Close with a reset (unread data, SO_LINGER 0, a listener's unaccepted child). */
  private abort(): void {
    const peer = this.peer;
    this.peer = undefined;
    peer?.deliverRst();
    this.orphaned = true;
    this.state = "CLOSE";
    this.putPort();
  }

  /**
   * close(2) on the last descriptor. Linux: tcp_close — a listener stops
   * (resetting queued connections); a connection with unread data, or
   * SO_LINGER with a zero timeout, is reset; otherwise the FIN goes out and
   * the socket lingers orphaned, answering later data with a reset.
   */
  override release(): void {
    this.abortConnection();
    if (this.state === "LISTEN") {
      this.disconnect();
    } else if (this.state === "ESTABLISHED") {
      if (this.rxBytes > 0 || (this.lingerOn && this.lingerTime === 0n)) {
        this.abort();
      } else {
        this.orphaned = true;
        if (!this.finSent) {
          this.finSent = true;
          // Closing first: FIN_WAIT2 then TIME_WAIT hold the port; closing second frees it at once.
          if (!this.finReceived) this.timeWait();
          this.peer?.deliverFin();
        }
      }
    }
    this.orphaned = true;
    this.rx = [];
    this.rxBytes = 0;
    super.release();
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
      case TCP_FASTOPEN_CONNECT:
        if (val > 1 || val < 0) return EINVAL;
        if (!(this.net.sysctl.tcpFastopen & TFO_CLIENT_ENABLE)) return EOPNOTSUPP;
        if (this.state !== "CLOSE") return EINVAL;
        this.fastopenConnect = val === 1;
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
      case TCP_FASTOPEN_CONNECT: val = this.fastopenConnect ? 1 : 0; break;
      default: return unknownOption(t, this, "SOL_TCP", optname, definedUpTo(optname, TCP_LINUX_LAST));
    }
    return putIntOption(t, optval, optlenPtr, len, val);
  }
}

