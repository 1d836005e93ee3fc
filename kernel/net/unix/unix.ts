/**
 * AF_UNIX sockets (Linux: net/unix/af_unix.c): stream, datagram and
 * seqpacket; abstract, unnamed (socketpair, autobind) and — through hooks
 * the filesystem registers — pathname addresses; connections with a
 * listener's queue of backlog+1; SCM_RIGHTS.
 *
 * A message in a receive queue is Linux's skb: it remembers its sender, whose
 * send buffer it is charged to until read (so a writer blocks on its own
 * sk_sndbuf), and the files it carries.
 */
import {
  Errno, EADDRINUSE, EAGAIN, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, EMSGSIZE, ENOENT, ENOTCONN, EOPNOTSUPP, EPERM,
  EPIPE, EPROTONOSUPPORT, EPROTOTYPE, ESOCKTNOSUPPORT,
} from "../../errno";
import {
  POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM, refFile, unrefFile, type FileDescription,
  type SysRet,
} from "../../file";
import { sendSigpipe } from "../../pipe";
import type { Task } from "../../task";
import {
  AF_UNIX, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUT_RD, SHUT_RDWR,
  SHUTDOWN_MASK, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOCKADDR_UN_SIZE, SUN_PATH_OFFSET,
} from "../constants";
import { registerFamily } from "../families";
import type { Net } from "../netns";
import { familyOf } from "../sockaddr";
import {
  ownerOf, skbTruesize, Socket, type AcceptResult, type Owner, type Received, type RecvResult, type SendRequest,
  type SendResult,
} from "../socket";

/** Autobind names are "\0" and five hex digits (unix_autobind), so there are 2^20 of them. */
const AUTOBIND_NAMES = 0x100000;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
/** The overflow uid/gid SO_PEERCRED shows without a peer (/proc/sys/kernel/overflowuid). */
const OVERFLOW_ID = 65534;

/**
 * How pathname sockets reach the filesystem: the VFS registers these
 * (kernel/vfs/unixsock.ts, loaded with the VFS). A kernel without one answers
 * binding or connecting to a path with ENOENT and a warning.
 */
export interface UnixPathHooks {
  /**
   * unix_bind_bsd: create the socket inode at `path` (EADDRINUSE when something
   * is there) for `sock`; a `sock` already bound gets EINVAL once the inode is made and removed again.
   */
  bind(t: Task, path: string, sock: UnixSocket): 0 | Errno;
  /** unix_find_bsd: the socket bound at `path` (ENOENT, EACCES, ECONNREFUSED for a socket file nobody holds...). */
  lookup(t: Task, path: string): UnixSocket | Errno;
  /** `sock` is closed: its inode leads nowhere any more. */
  unbind(sock: UnixSocket): void;
}

let pathHooks: UnixPathHooks | undefined;

/** Called by the filesystem layer to give AF_UNIX pathname addresses. */
export function setUnixPathHooks(hooks: UnixPathHooks | undefined): void {
  pathHooks = hooks;
}

/** One queued message (an skb): its bytes, sender, and passed files. */
interface UnixMsg {
  data: Uint8Array;
  sender: UnixSocket;
  cred: Owner;
  truesize: number;
  rights?: FileDescription[];
}

/** The sun_path of a pathname address: up to the first NUL within `addrlen` (unix_mkname_bsd). */
function pathOf(addr: Uint8Array, addrlen: number): string {
  const bytes = addr.subarray(SUN_PATH_OFFSET, addrlen);
  const nul = bytes.indexOf(0);
  return Buffer.from(nul >= 0 ? bytes.subarray(0, nul) : bytes).toString("latin1");
}

/** unix_validate_addr: more than the family, at most a sockaddr_un, and AF_UNIX. */
function validAddr(addr: Uint8Array, addrlen: number): boolean {
  return addrlen > SUN_PATH_OFFSET && addrlen <= SOCKADDR_UN_SIZE && familyOf(addr) === AF_UNIX;
}

export class UnixSocket extends Socket {
  /** The bound address: the sockaddr_un bytes getsockname returns, their length the address length. */
  addr: Uint8Array | undefined;
  /** unix_peer: the connected socket (stream, seqpacket) or default destination (dgram). */
  peer: UnixSocket | undefined;
  /** sk_receive_queue: messages, or for a listener the embryo sockets of pending connections. */
  private queue: UnixMsg[] = [];
  private readonly pending: UnixSocket[] = [];
  /** Bytes of the head message already read (UNIXCB(skb).consumed), for streams. */
  private consumed = 0;
  /** sk_wmem_alloc: truesize of this socket's messages still queued at receivers. */
  private wmem = 0;
  /** SOCK_DEAD: closed. */
  dead = false;
  /** sk_peer_pid / sk_peer_cred. */
  private peerOwner: Owner | undefined;

  constructor(net: Net, owner: Owner, type: number) {
    super(net, owner, AF_UNIX, type, 0, { sndbuf: net.sysctl.wmemDefault, rcvbuf: net.sysctl.rmemDefault });
    // unix_create1: a datagram socket's queue limit is net.unix.max_dgram_qlen.
    this.backlog = net.sysctl.unixMaxDgramQlen;
  }

  private get connectionOriented(): boolean {
    return this.type === SOCK_STREAM || this.type === SOCK_SEQPACKET;
  }

  private get owner(): Owner { return { uid: this.uid, gid: this.gid, pid: this.pid }; }

  /** Linux hashes abstract names with the socket type: each type has its own. */
  private key(name: Uint8Array): string {
    return `${this.type}:${hex(name)}`;
  }

  // --- names --------------------------------------------------------------------------

  /**
   * Implements bind(2) for AF_UNIX. Linux: net/unix/af_unix.c unix_bind —
   * a bare sun_family autobinds; otherwise unix_validate_addr, then an
   * abstract name (leading NUL) or a path.
   */
  override bind(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    if (addrlen === SUN_PATH_OFFSET && familyOf(addr) === AF_UNIX) return this.autobind(t);
    if (!validAddr(addr, addrlen)) return EINVAL;
    if (addr[SUN_PATH_OFFSET] !== 0) return this.bindPath(t, addr, addrlen);
    if (this.addr) return EINVAL; // unix_bind_abstract
    const key = this.key(addr.subarray(SUN_PATH_OFFSET, addrlen));
    if (this.net.unixAbstract.has(key)) return EADDRINUSE;
    this.net.unixAbstract.set(key, this);
    this.addr = addr.slice(0, addrlen);
    return 0;
  }

  /** unix_bind_bsd: the socket file comes first, so its errors come before EINVAL for a bound socket. */
  private bindPath(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    const path = pathOf(addr, addrlen);
    if (!pathHooks) {
      this.net.warnOnce(t, "binding AF_UNIX sockets to filesystem paths");
      return ENOENT;
    }
    const r = pathHooks.bind(t, path, this);
    if (r) return r;
    const name = Buffer.from(path, "latin1");
    this.addr = new Uint8Array(SUN_PATH_OFFSET + name.length + 1);
    new DataView(this.addr.buffer).setUint16(0, AF_UNIX, true);
    this.addr.set(name, SUN_PATH_OFFSET);
    return 0;
  }

  /** Linux: unix_autobind — a free "\0xxxxx" name; a bound socket keeps its own. */
  private autobind(t: Task): SysRet {
    if (this.addr) return 0;
    const b = new Uint8Array(4);
    t.proc.random(b);
    const start = new DataView(b.buffer).getUint32(0, true) % AUTOBIND_NAMES;
    for (let i = 0; i < AUTOBIND_NAMES; i++) {
      const name = Buffer.from("\0" + ((start + i) % AUTOBIND_NAMES).toString(16).padStart(5, "0"), "latin1");
      const key = this.key(name);
      if (this.net.unixAbstract.has(key)) continue;
      this.net.unixAbstract.set(key, this);
      this.addr = new Uint8Array(SUN_PATH_OFFSET + name.length);
      new DataView(this.addr.buffer).setUint16(0, AF_UNIX, true);
      this.addr.set(name, SUN_PATH_OFFSET);
      return 0;
    }
    return EADDRINUSE; // Linux reports ENOSPC once every name is taken
  }

  /** Linux: unix_find_other — the socket of this type bound at `addr`. */
  private findOther(t: Task, addr: Uint8Array, addrlen: number): UnixSocket | Errno {
    if (addr[SUN_PATH_OFFSET] !== 0) {
      if (!pathHooks) {
        this.net.warnOnce(t, "connecting AF_UNIX sockets to filesystem paths");
        return ENOENT;
      }
      const other = pathHooks.lookup(t, pathOf(addr, addrlen));
      if (other instanceof Errno) return other;
      if (other.type !== this.type) return EPROTOTYPE;
      return other;
    }
    const other = this.net.unixAbstract.get(this.key(addr.subarray(SUN_PATH_OFFSET, addrlen)));
    return other && !other.dead ? other : ECONNREFUSED;
  }

  /** Linux: unix_getname — an unbound socket's name is the bare family (2 bytes). */
  override getname(peer: boolean): Uint8Array | Errno {
    const s = peer ? this.peer : this;
    if (!s) return ENOTCONN;
    if (s.addr) return s.addr.slice();
    return Uint8Array.of(AF_UNIX, 0);
  }

  override peerCred(): Owner {
    return this.peerOwner ?? { pid: 0, uid: OVERFLOW_ID, gid: OVERFLOW_ID };
  }

  // --- listen, connect, accept ----------------------------------------------------------

  /**
   * Implements listen(2) for AF_UNIX. Linux: unix_listen — only stream and
   * seqpacket sockets listen, and only once bound (no autobind here).
   */
  override listen(_t: Task, backlog: number): SysRet {
    if (!this.connectionOriented) return EOPNOTSUPP;
    if (!this.addr) return EINVAL;
    if (this.state !== "CLOSE" && this.state !== "LISTEN") return EINVAL;
    const wider = backlog > this.backlog;
    this.backlog = backlog;
    this.state = "LISTEN";
    // A larger queue lets waiting connectors in.
    if (wider) this.changed();
    return 0;
  }

  /** Whether a listener's queue is full (unix_recvq_full: more pending than the backlog). */
  private get recvqFull(): boolean {
    return (this.state === "LISTEN" ? this.pending.length : this.queue.length) > this.backlog;
  }

  /** Implements connect(2) for AF_UNIX: unix_stream_connect, or unix_dgram_connect. */
  override connect(t: Task, addr: Uint8Array, addrlen: number, nonblock: boolean): SysRet {
    if (!this.connectionOriented) return this.dgramConnect(t, addr, addrlen);
    if (!validAddr(addr, addrlen)) return EINVAL;
    return this.streamConnect(t, addr, addrlen, nonblock ? 0n : this.sndtimeo);
  }

  /**
   * Linux: unix_stream_connect — the listener first (ECONNREFUSED when it is
   * not listening or shut), then room in its queue (EAGAIN, or a wait that
   * accept() ends), then this socket's own state (EISCONN, EINVAL). Unix
   * connections complete at once; there is no EINPROGRESS.
   */
  private streamConnect(t: Task, addr: Uint8Array, addrlen: number, timeo: bigint): SysRet {
    const other = this.findOther(t, addr, addrlen);
    if (other instanceof Errno) return other;
    if (other.state !== "LISTEN" || other.shutdownMask & RCV_SHUTDOWN) return ECONNREFUSED;
    if (other.recvqFull) {
      return this.sleepOn<SysRet>(other.readers, timeo, (left) => this.streamConnect(t, addr, addrlen, left), () => EAGAIN);
    }
    if (this.state === "ESTABLISHED") return EISCONN;
    if (this.state !== "CLOSE") return EINVAL;
    const embryo = new UnixSocket(this.net, other.owner, this.type);
    embryo.state = "ESTABLISHED";
    embryo.peer = this;
    embryo.addr = other.addr;
    embryo.peerOwner = ownerOf(t);
    embryo.sndbuf = other.sndbuf;
    embryo.rcvbuf = other.rcvbuf;
    this.peer = embryo;
    this.peerOwner = other.owner;
    this.state = "ESTABLISHED";
    this.sockState = "CONNECTED";
    other.pending.push(embryo);
    other.changed(POLLIN | POLLRDNORM);
    this.changed();
    return 0;
  }

  /**
   * Linux: unix_dgram_connect — AF_UNSPEC disconnects; otherwise the named
   * socket becomes the only destination and source (both ends count as
   * connected, as Linux marks them).
   */
  private dgramConnect(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    if (addrlen < 2) return EINVAL;
    let other: UnixSocket | undefined;
    if (familyOf(addr) !== 0) {
      if (!validAddr(addr, addrlen)) return EINVAL;
      const o = this.findOther(t, addr, addrlen);
      if (o instanceof Errno) return o;
      if (!(o.peer === undefined || o.peer === this)) return EPERM;
      other = o;
      this.state = "ESTABLISHED";
      o.state = "ESTABLISHED";
    }
    const old = this.peer;
    this.peer = other;
    if (!other) this.state = "CLOSE";
    if (old && old !== other) {
      // unix_dgram_disconnected: messages from the old peer are dropped.
      this.dropQueue();
      old.changed(POLLOUT);
    }
    this.changed();
    return 0;
  }

  /**
   * Implements accept(2) for AF_UNIX. Linux: unix_accept — EOPNOTSUPP for
   * datagrams, EINVAL unless listening; taking a connection wakes
   * connectors waiting for room.
   */
  override accept(t: Task, nonblock: boolean): AcceptResult {
    if (!this.connectionOriented) return EOPNOTSUPP;
    return this.acceptWait(t, nonblock ? 0n : this.rcvtimeo);
  }

  private acceptWait(t: Task, timeo: bigint): AcceptResult {
    if (this.state !== "LISTEN") return EINVAL;
    const embryo = this.pending.shift();
    if (!embryo) return this.sleep<AcceptResult>(timeo, (left) => this.acceptWait(t, left), () => EAGAIN);
    embryo.sockState = "CONNECTED";
    this.changed(POLLOUT);
    return embryo;
  }

  /** Linux: unix_socketpair — both ends connected to each other, whatever the type. */
  override socketpair(other: Socket): 0 | Errno {
    const o = other as UnixSocket;
    this.peer = o;
    o.peer = this;
    this.peerOwner = o.owner;
    o.peerOwner = this.owner;
    this.state = o.state = "ESTABLISHED";
    this.sockState = o.sockState = "CONNECTED";
    return 0;
  }

  // --- sending ----------------------------------------------------------------------------

  override sendmsg(t: Task, req: SendRequest, nonblock: boolean): SendResult {
    if (this.type === SOCK_STREAM) return this.streamSend(t, req, nonblock ? 0n : this.sndtimeo, 0);
    if (this.type === SOCK_SEQPACKET) {
      // unix_seqpacket_sendmsg: a pending error, then a connection; the address is ignored.
      const e = this.takeError();
      if (e) return e;
      if (this.state !== "ESTABLISHED") return ENOTCONN;
      return this.dgramSend(t, { ...req, addr: undefined, addrlen: 0 }, nonblock ? 0n : this.sndtimeo);
    }
    return this.dgramSend(t, req, nonblock ? 0n : this.sndtimeo);
  }

  /** Queue a message at `to`, charged to this socket's send buffer. */
  private queueAt(to: UnixSocket, data: Uint8Array, rights: FileDescription[] | undefined, cred: Owner): void {
    const truesize = skbTruesize(data.length);
    this.wmem += truesize;
    to.queue.push({ data: data.slice(), sender: this, cred, truesize, rights });
    to.changed(POLLIN | POLLRDNORM);
  }

  /** A message left a queue (read or dropped): its charge goes, its files too unless handed on. */
  private static freed(msg: UnixMsg, keepRights: boolean): void {
    msg.sender.wmem -= msg.truesize;
    msg.sender.changed(POLLOUT | POLLWRNORM | POLLWRBAND);
    if (!keepRights) for (const f of msg.rights ?? []) unrefFile(f);
  }

  private dropQueue(): void {
    for (const m of this.queue.splice(0)) UnixSocket.freed(m, false);
    this.consumed = 0;
  }

  /**
   * Linux: unix_stream_sendmsg — no address allowed, a peer needed, then
   * chunks of at most half the send buffer, each waiting for room in it.
   * A peer gone or shut for reading is EPIPE (SIGPIPE if nothing was sent).
   */
  private streamSend(t: Task, req: SendRequest, timeo: bigint, sent: number): SendResult {
    if (req.flags & MSG_OOB) return dropRights(req, EOPNOTSUPP);
    if (req.addr && req.addrlen) return dropRights(req, this.state === "ESTABLISHED" ? EISCONN : EOPNOTSUPP);
    const other = this.peer;
    if (!other) return dropRights(req, ENOTCONN);
    if (this.shutdownMask & SEND_SHUTDOWN) return dropRights(req, this.pipeError(t, req.flags, sent));
    const maxChunk = Math.max(1, (this.sndbuf >> 1) - 64);
    let rights = req.rights;
    while (sent < req.data.length) {
      if (this.wmem >= this.sndbuf) {
        if (!timeo) return dropRights({ ...req, rights }, sent || EAGAIN);
        const rest = { ...req, rights };
        return this.sleep<SendResult>(timeo, (left) => this.streamSend(t, rest, left, sent), () => dropRights(rest, sent || EAGAIN));
      }
      if (other.dead || other.shutdownMask & RCV_SHUTDOWN) return dropRights({ ...req, rights }, this.pipeError(t, req.flags, sent));
      const n = Math.min(maxChunk, req.data.length - sent);
      this.queueAt(other, req.data.subarray(sent, sent + n), rights, this.owner);
      rights = undefined;
      sent += n;
    }
    return dropRights({ ...req, rights }, sent);
  }

  private pipeError(t: Task, flags: number, sent: number): number | Errno {
    if (sent) return sent;
    if (!(flags & MSG_NOSIGNAL)) sendSigpipe(t);
    return EPIPE;
  }

  /**
   * Linux: unix_dgram_sendmsg — the size against the send buffer, room in
   * it, the destination (msg_name or the peer), permission (a socket
   * connected elsewhere takes nothing from us), its state, and room in its
   * queue (max_dgram_qlen, unless it is connected back to us).
   */
  private dgramSend(t: Task, req: SendRequest, timeo: bigint): SendResult {
    if (req.flags & MSG_OOB) return dropRights(req, EOPNOTSUPP);
    let other: UnixSocket | undefined;
    const named = req.addr !== undefined && req.addrlen > 0;
    if (named) {
      if (!validAddr(req.addr!, req.addrlen)) return dropRights(req, EINVAL);
    } else {
      other = this.peer;
      if (!other) return dropRights(req, ENOTCONN);
    }
    if (req.data.length > this.sndbuf - 32) return dropRights(req, EMSGSIZE);
    if (this.wmem >= this.sndbuf) {
      const e = this.takeError();
      if (e) return dropRights(req, e);
      if (this.shutdownMask & SEND_SHUTDOWN) return dropRights(req, EPIPE);
      if (!timeo) return dropRights(req, EAGAIN);
      return this.sleep<SendResult>(timeo, (left) => this.dgramSend(t, req, left), () => dropRights(req, EAGAIN));
    }
    if (!other) {
      const o = this.findOther(t, req.addr!, req.addrlen);
      if (o instanceof Errno) return dropRights(req, o);
      other = o;
    }
    if (!(other.peer === undefined || other.peer === this)) return dropRights(req, EPERM);
    if (other.dead) {
      if (this.type === SOCK_SEQPACKET) return dropRights(req, EPIPE);
      if (this.peer === other) {
        this.peer = undefined;
        this.state = "CLOSE";
        return dropRights(req, ECONNREFUSED);
      }
      return dropRights(req, ECONNREFUSED);
    }
    if (other.shutdownMask & RCV_SHUTDOWN) return dropRights(req, EPIPE);
    if (other !== this && other.peer !== this && other.recvqFull) {
      if (!timeo) return dropRights(req, EAGAIN);
      return this.sleepOn<SendResult>(other.readers, timeo, (left) => this.dgramSend(t, req, left), () => dropRights(req, EAGAIN));
    }
    this.queueAt(other, req.data, req.rights, this.owner);
    return req.data.length;
  }

  // --- receiving --------------------------------------------------------------------------

  override recvmsg(t: Task, len: number, flags: number, nonblock: boolean): RecvResult {
    if (this.type === SOCK_STREAM) {
      if (this.state !== "ESTABLISHED") return EINVAL;
      if (flags & MSG_OOB) return EOPNOTSUPP;
      return this.streamRecv(len, flags, nonblock ? 0n : this.rcvtimeo, [], undefined);
    }
    if (this.type === SOCK_SEQPACKET && this.state !== "ESTABLISHED") return ENOTCONN;
    if (flags & MSG_OOB) return EOPNOTSUPP;
    return this.dgramRecv(t, len, flags, nonblock ? 0n : this.rcvtimeo);
  }

  /**
   * Linux: unix_stream_read_generic — bytes across messages up to `len`
   * (MSG_WAITALL: until `len`), stopping after a message that carried
   * files; with nothing queued, a pending error, then end-of-file once the
   * peer is gone or shut, then EAGAIN or a wait.
   */
  private streamRecv(len: number, flags: number, timeo: bigint, got: Uint8Array[], rights: FileDescription[] | undefined): RecvResult {
    const peek = (flags & MSG_PEEK) !== 0;
    const target = flags & MSG_WAITALL ? len : 1;
    let copied = got.reduce((n, c) => n + c.length, 0);
    let from: Uint8Array | undefined;
    let skip = peek ? 0 : this.consumed;
    for (let i = 0; copied < len && i < this.queue.length && !rights; ) {
      const m = this.queue[i];
      const avail = m.data.length - skip;
      const n = Math.min(avail, len - copied);
      got.push(m.data.subarray(skip, skip + n));
      copied += n;
      from ??= m.sender.addr;
      const hadRights = m.rights;
      if (peek) {
        if (m.rights) {
          for (const f of m.rights) refFile(f);
          rights = [...m.rights];
        }
        i++;
        skip = 0;
        if (hadRights) break;
        continue;
      }
      if (m.rights) {
        rights = m.rights;
        m.rights = undefined;
      }
      if (n < avail) {
        this.consumed = skip + n;
        break;
      }
      this.queue.shift();
      this.consumed = 0;
      skip = 0;
      UnixSocket.freed(m, true);
      if (hadRights) break;
    }
    const result = (): Received => {
      const data = Buffer.concat(got);
      return {
        data: flags & MSG_TRUNC ? new Uint8Array(0) : data, result: data.length, flags: 0, rights,
        addr: from ? from.slice() : undefined, cred: this.queue[0]?.cred ?? this.peerOwner,
      };
    };
    if (copied >= target || rights || (peek && copied)) return result();
    if (!this.queue.length) {
      if (copied >= target) return result();
      const e = this.takeError();
      if (e) return copied ? result() : e;
      if (this.shutdownMask & RCV_SHUTDOWN) return result();
      if (!timeo) return copied ? result() : EAGAIN;
    }
    return this.sleep<RecvResult>(timeo, (left) => this.streamRecv(len, flags, left, got, rights), () => (copied ? result() : EAGAIN));
  }

  /**
   * Linux: __unix_dgram_recvmsg — the oldest message, truncated to `len`
   * (MSG_TRUNC in msg_flags; the full length with the MSG_TRUNC flag); with
   * nothing queued: EAGAIN without blocking (end-of-file for a shut
   * seqpacket socket), else a pending error, end-of-file once shut, or a wait.
   */
  private dgramRecv(t: Task, len: number, flags: number, timeo: bigint): RecvResult {
    const m = this.queue[0];
    if (!m) {
      if (!timeo) return this.type === SOCK_SEQPACKET && this.shutdownMask & RCV_SHUTDOWN ? eof() : EAGAIN;
      const e = this.takeError();
      if (e) return e;
      if (this.shutdownMask & RCV_SHUTDOWN) return eof();
      if (this.type === SOCK_SEQPACKET && this.state !== "ESTABLISHED") return ENOTCONN;
      return this.sleep<RecvResult>(timeo, (left) => this.dgramRecv(t, len, flags, left), () => EAGAIN);
    }
    let rights: FileDescription[] | undefined;
    if (flags & MSG_PEEK) {
      if (m.rights) {
        for (const f of m.rights) refFile(f);
        rights = [...m.rights];
      }
    } else {
      this.queue.shift();
      rights = m.rights;
      UnixSocket.freed(m, true);
      // Room in the queue: senders waiting on it (unix_wait_for_peer) may go on.
      this.changed(POLLOUT | POLLWRNORM | POLLWRBAND);
    }
    const n = Math.min(len, m.data.length);
    return {
      data: m.data.subarray(0, n), result: flags & MSG_TRUNC ? m.data.length : n,
      flags: n < m.data.length ? MSG_TRUNC : 0, rights, addr: m.sender.addr?.slice(), cred: m.cred,
    };
  }

  /** SIOCINQ: a stream's unread bytes, a datagram socket's next message; EINVAL for a listener. */
  override inq(): number | Errno {
    if (this.state === "LISTEN") return EINVAL;
    if (this.type === SOCK_STREAM) return this.queue.reduce((n, m) => n + m.data.length, 0) - this.consumed;
    return this.queue[0]?.data.length ?? 0;
  }

  // --- poll, shutdown, close ------------------------------------------------------------------

  /** unix_writable: not listening, and at most a quarter of the send buffer in use. */
  private get writable(): boolean {
    return this.state !== "LISTEN" && this.wmem << 2 <= this.sndbuf;
  }

  /** Linux: unix_poll (stream) and unix_dgram_poll (datagram, seqpacket). */
  override poll(): number {
    let mask = 0;
    if (this.err) mask |= POLLERR;
    if (this.shutdownMask === SHUTDOWN_MASK) mask |= POLLHUP;
    if (this.shutdownMask & RCV_SHUTDOWN) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.queue.length || this.pending.length) mask |= POLLIN | POLLRDNORM;
    if (this.connectionOriented && this.state === "CLOSE") mask |= POLLHUP;
    let writable = this.writable;
    if (writable && this.type !== SOCK_STREAM) {
      const other = this.peer;
      if (other && other.peer !== this && other.recvqFull) writable = false;
    }
    if (writable) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
  }

  /**
   * Implements shutdown(2) for AF_UNIX. Linux: unix_shutdown — no ENOTCONN
   * for an unconnected socket, unlike inet; a connected stream or seqpacket
   * peer gets the mirror image (our SHUT_WR is its end-of-file).
   */
  override shutdown(how: number): SysRet {
    if (how < SHUT_RD || how > SHUT_RDWR) return EINVAL;
    const mode = how + 1;
    this.shutdownMask |= mode;
    this.changed();
    const other = this.peer;
    if (other && this.connectionOriented) {
      let peerMode = 0;
      if (mode & RCV_SHUTDOWN) peerMode |= SEND_SHUTDOWN;
      if (mode & SEND_SHUTDOWN) peerMode |= RCV_SHUTDOWN;
      other.shutdownMask |= peerMode;
      other.changed(peerMode & RCV_SHUTDOWN ? POLLIN | POLLRDHUP : 0);
    }
    return 0;
  }

  /**
   * close(2) on the last descriptor. Linux: unix_release_sock — the name
   * goes; a connected peer is shut both ways (ECONNRESET if we left data
   * unread); pending connections of a listener are torn down the same way;
   * queued messages are freed with the files they carry.
   */
  override release(): void {
    if (this.addr && this.addr[SUN_PATH_OFFSET] === 0) {
      const key = this.key(this.addr.subarray(SUN_PATH_OFFSET));
      if (this.net.unixAbstract.get(key) === this) this.net.unixAbstract.delete(key);
    } else if (this.addr) {
      pathHooks?.unbind(this);
    }
    const wasListening = this.state === "LISTEN";
    this.state = "CLOSE";
    this.dead = true;
    const other = this.peer;
    this.peer = undefined;
    this.shutdownMask = SHUTDOWN_MASK;
    if (other && this.connectionOriented) {
      other.shutdownMask = SHUTDOWN_MASK;
      if (this.queue.length) other.err = ECONNRESET;
      other.changed();
    } else if (other) {
      other.changed(POLLOUT);
    }
    if (wasListening) for (const e of this.pending.splice(0)) e.releaseEmbryo();
    this.dropQueue();
    this.changed();
  }

  /** A pending connection whose listener went away: its connector sees a reset. */
  private releaseEmbryo(): void {
    const other = this.peer;
    this.peer = undefined;
    this.dead = true;
    this.state = "CLOSE";
    if (other) {
      other.shutdownMask = SHUTDOWN_MASK;
      other.err = ECONNRESET;
      other.changed();
    }
    this.dropQueue();
  }
}

const eof = (): Received => ({ data: new Uint8Array(0), result: 0, flags: 0 });

/** Files a send did not queue (it failed, or sent nothing) are let go. */
function dropRights(req: SendRequest, r: SendResult): SendResult {
  if (r instanceof Errno || r === 0) for (const f of req.rights ?? []) unrefFile(f);
  return r;
}

/**
 * Linux: unix_create — protocol 0 or PF_UNIX; SOCK_RAW quietly becomes
 * SOCK_DGRAM ("Believe it or not BSD has AF_UNIX, SOCK_RAW").
 */
function unixCreate(t: Task, net: Net, type: number, protocol: number): Socket | Errno {
  if (protocol && protocol !== AF_UNIX) return EPROTONOSUPPORT;
  switch (type) {
    case SOCK_STREAM:
    case SOCK_SEQPACKET:
    case SOCK_DGRAM:
      return new UnixSocket(net, ownerOf(t), type);
    case SOCK_RAW:
      return new UnixSocket(net, ownerOf(t), SOCK_DGRAM);
    default:
      return ESOCKTNOSUPPORT;
  }
}

registerFamily(AF_UNIX, unixCreate);
