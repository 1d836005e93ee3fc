/**
 * The family-neutral half of a socket — Linux's struct socket plus the parts
 * of struct sock that SOL_SOCKET options and the generic syscalls touch — and
 * SocketFile, the open file a socket descriptor refers to (sockfs).
 *
 * A family subclasses Socket and answers bind/listen/getname/shutdown/read/
 * write for itself; option levels other than SOL_SOCKET refuse with
 * EOPNOTSUPP unless the family takes them, as for a Linux family without
 * setsockopt/getsockopt ops.
 */
import { Errno, EAGAIN, EOPNOTSUPP } from "../errno";
import {
  Block, FileDescription, O_NONBLOCK, O_RDWR, S_IFSOCK, type ReadResult, type StatInfo, type SysRet,
} from "../file";
import type { Task } from "../task";
import { MSG_DONTWAIT } from "./constants";
import type { Net } from "./netns";

/** sk_state values (include/net/tcp_states.h); unix sockets use them too. */
export type SkState = "ESTABLISHED" | "SYN_SENT" | "TIME_WAIT" | "CLOSE" | "LISTEN";
/** struct socket's state (include/uapi/linux/net.h socket_state). */
export type SockState = "UNCONNECTED" | "CONNECTING" | "CONNECTED";

/** Who created a socket (sock_i_uid / the file's credentials). */
export interface Owner { uid: number; gid: number; pid: number }
export const ownerOf = (t: Task): Owner => ({ uid: t.proc.euid, gid: t.proc.egid, pid: t.pid });

/** What sendmsg hands a family: the bytes, the destination (msg_name) if any, flags, and SCM_RIGHTS files. */
export interface SendRequest {
  data: Uint8Array;
  /** The sockaddr in a sockaddr_storage, and the length the caller gave; undefined without msg_name. */
  addr?: Uint8Array;
  addrlen: number;
  flags: number;
  /** Files passed with SCM_RIGHTS (each already held with refFile). */
  rights?: FileDescription[];
  /** The error an inet protocol reports for the control messages, once it looks at them. */
  cmsgError?: Errno;
}

/** What recvmsg hands back. */
export interface Received {
  data: Uint8Array;
  /** The syscall's result: data.length, or a datagram's full length under MSG_TRUNC. */
  result: number;
  /** The sender's address (msg_name), when the family reports one. */
  addr?: Uint8Array;
  /** The sender's credentials, for SCM_CREDENTIALS (AF_UNIX with SO_PASSCRED). */
  cred?: Owner;
  /** msg_flags: MSG_TRUNC, MSG_EOR... */
  flags: number;
  /** SCM_RIGHTS files received (each held with refFile until installed). */
  rights?: FileDescription[];
}

export type RecvResult = Received | Errno | Block<RecvResult>;
export type AcceptResult = Socket | Errno | Block<AcceptResult>;
export type SendResult = number | Errno | Block;
/**
 * CONFIG_HZ of the kernels syscage's references come from (Debian's 250):
 * socket timeouts live in jiffies, so SO_RCVTIMEO reads back rounded as on Linux.
 */
export const HZ = 250n;
/** MAX_SCHEDULE_TIMEOUT (LONG_MAX of the 64-bit kernel, i386 guests included): no timeout. */
export const MAX_SCHEDULE_TIMEOUT = 2n ** 63n - 1n;

/** sk_userlocks bits, include/net/sock.h. */
export const SOCK_SNDBUF_LOCK = 1, SOCK_RCVBUF_LOCK = 2, SOCK_BINDADDR_LOCK = 4, SOCK_BINDPORT_LOCK = 8;

/** setTimeout's longest delay; a longer socket timeout counts as none (it is over 24 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Tasks sleeping until a socket changes (the socket's wait queue), with
 * Linux's socket timeouts: kernel/waitqueue.ts plus a deadline. A sleep
 * without one holds no host timer: whether a sandbox whose every task
 * sleeps forever should hang, as Linux would, is the scheduler's call.
 */
export class SocketWaitQueue {
  private readonly sleepers = new Set<() => void>();

  /** Settles with "woken" on wakeAll(), or "timeout" after `jiffies` (MAX_SCHEDULE_TIMEOUT: never). */
  sleep(jiffies: bigint): Promise<"woken" | "timeout"> {
    return this.sleepCancellable(jiffies).wait;
  }

  /** sleep(), with a cancel that leaves the queue (a signal ended the wait). */
  sleepCancellable(jiffies: bigint): { wait: Promise<"woken" | "timeout">; cancel: () => void } {
    let cancel: () => void = () => undefined;
    const wait = new Promise<"woken" | "timeout">((resolve) => {
      const ms = Number((jiffies * 1000n) / HZ);
      const timer = jiffies >= MAX_SCHEDULE_TIMEOUT || ms > MAX_TIMER_MS
        ? undefined
        : setTimeout(() => { this.sleepers.delete(wake); resolve("timeout"); }, ms);
      // The scheduler keeps Node alive while tasks sleep; a socket timer alone must not.
      timer?.unref();
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve("woken");
      };
      cancel = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
      };
      this.sleepers.add(wake);
    });
    return { wait, cancel };
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  get size(): number { return this.sleepers.size; }
}

export abstract class Socket {
  /** sk_state. */
  state: SkState = "CLOSE";
  /** sock->state. */
  sockState: SockState = "UNCONNECTED";
  /** SO_REUSEADDR (sk_reuse), SO_REUSEPORT, and the plain SOL_SOCKET flags. */
  reuse = false;
  reuseport = false;
  keepalive = false;
  broadcast = false;
  dontroute = false;
  oobinline = false;
  /** sk_sndbuf / sk_rcvbuf in bytes (already doubled, as SO_SNDBUF reports them). */
  sndbuf: number;
  rcvbuf: number;
  /** sk_userlocks: SOCK_*_LOCK bits. */
  userlocks = 0;
  /** SO_LINGER: SOCK_LINGER and sk_lingertime (jiffies). */
  lingerOn = false;
  lingerTime = 0n;
  /** sk_rcvtimeo / sk_sndtimeo in jiffies; MAX_SCHEDULE_TIMEOUT = block forever, 0 = never block. */
  rcvtimeo = MAX_SCHEDULE_TIMEOUT;
  sndtimeo = MAX_SCHEDULE_TIMEOUT;
  /** sk_err: an asynchronous error, reported once by the next call or SO_ERROR. */
  err: Errno | undefined;
  /** sk_shutdown: RCV_SHUTDOWN | SEND_SHUTDOWN. */
  shutdownMask = 0;
  /** sk_max_ack_backlog: what listen(2) set, after the somaxconn clamp. */
  backlog = 0;
  /** The owner (sock_i_uid): SO_REUSEPORT only shares a port between sockets of one user. */
  readonly uid: number;
  readonly gid: number;
  /** Readers sleeping for data or a connection. */
  readonly readers = new SocketWaitQueue();

  /** The open file for this socket, told of every readiness change (set by SocketFile). */
  file: SocketFile | undefined;
  /** The creator's pid (SO_PEERCRED of the other end). */
  readonly pid: number;

  constructor(
    readonly net: Net,
    owner: Owner,
    readonly family: number,
    /** SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET (after the family's own adjustments). */
    readonly type: number,
    /** sk_protocol, as SO_PROTOCOL reports it. */
    readonly protocol: number,
    buffers: { sndbuf: number; rcvbuf: number },
  ) {
    this.uid = owner.uid;
    this.gid = owner.gid;
    this.pid = owner.pid;
    this.sndbuf = buffers.sndbuf;
    this.rcvbuf = buffers.rcvbuf;
  }

  /** sk_is_inet(): SO_REUSEPORT is refused on other families. */
  get isInet(): boolean { return false; }

  /** ops->bind: `addr` is the whole sockaddr_storage copy, `addrlen` what the caller passed. */
  abstract bind(t: Task, addr: Uint8Array, addrlen: number): SysRet;
  /** ops->listen, with the backlog already clamped to somaxconn. */
  abstract listen(t: Task, backlog: number): SysRet;
  /**
   * ops->getname: the sockaddr bytes (their length is the address length),
   * or an errno. `strict` false is accept()'s call, which skips the
   * connection-state check.
   */
  abstract getname(peer: boolean, strict?: boolean): Uint8Array | Errno;
  /** SO_PASSCRED: recvmsg reports the sender's credentials (AF_UNIX). */
  passcred = false;
  /** ops->shutdown with the raw `how`. */
  abstract shutdown(how: number): SysRet;
  /** ops->sendmsg. `nonblock`: O_NONBLOCK or MSG_DONTWAIT. */
  abstract sendmsg(t: Task, req: SendRequest, nonblock: boolean): SendResult;
  /** ops->recvmsg for up to `len` bytes. */
  abstract recvmsg(t: Task, len: number, flags: number, nonblock: boolean): RecvResult;
  /** ops->poll: POLL* bits now. */
  abstract poll(): number;

  /** ops->connect; `addr` as for bind. Families that cannot connect answer EOPNOTSUPP. */
  connect(_t: Task, _addr: Uint8Array, _addrlen: number, _nonblock: boolean): SysRet {
    return EOPNOTSUPP;
  }

  /** ops->accept: a new connected socket, or an errno (sock_no_accept: EOPNOTSUPP). */
  accept(_t: Task, _nonblock: boolean): AcceptResult {
    return EOPNOTSUPP;
  }

  /** ops->socketpair with a second fresh socket of the same kind (sock_no_socketpair: EOPNOTSUPP). */
  socketpair(_other: Socket): 0 | Errno {
    return EOPNOTSUPP;
  }

  /** read(2) on the socket: sock_read_iter → recvmsg without flags. */
  read(t: Task, len: number, nonblock: boolean): ReadResult {
    return recvBytes(this.recvmsg(t, len, nonblock ? MSG_DONTWAIT : 0, nonblock));
  }

  /** write(2) on the socket: sock_write_iter → sendmsg without an address. */
  write(t: Task, data: Uint8Array, nonblock: boolean): SendResult {
    return this.sendmsg(t, { data, addrlen: 0, flags: nonblock ? MSG_DONTWAIT : 0 }, nonblock);
  }

  /** ops->setsockopt for a level other than SOL_SOCKET; Linux answers EOPNOTSUPP when a family has none. */
  setsockopt(_t: Task, _level: number, _optname: number, _optval: number, _optlen: number): SysRet {
    return EOPNOTSUPP;
  }

  /** ops->getsockopt for a level other than SOL_SOCKET. */
  getsockopt(_t: Task, _level: number, _optname: number, _optval: number, _optlenPtr: number): SysRet {
    return EOPNOTSUPP;
  }

  /** SIOCINQ / FIONREAD: bytes waiting to be read. */
  inq(): number | Errno { return 0; }

  /** SO_PEERCRED: the connected peer's credentials (sk_peer_pid / sk_peer_cred), if any. */
  peerCred(): Owner | undefined { return undefined; }

  /** The last descriptor was closed: give back ports and names, tell the peer. */
  release(): void {}

  /** sock_error(): take the pending asynchronous error. */
  takeError(): Errno | undefined {
    const e = this.err;
    this.err = undefined;
    return e;
  }

  /**
   * Something changed (data, room, state): wake sleepers and tell pollers
   * (sk_data_ready / sk_write_space / sk_state_change). `key` is the POLL*
   * bits concerned, 0 for any.
   */
  changed(key = 0): void {
    this.readers.wakeAll();
    this.file?.readiness.notify(key);
  }

  /**
   * Sleep until the socket changes, for at most `timeo` jiffies (what is
   * left of SO_RCVTIMEO / SO_SNDTIMEO): `retry` gets the time still left
   * after a wake-up, `timedOut` answers when it runs out. A zero timeo
   * answers at once (a non-blocking call).
   */
  protected sleep<T>(timeo: bigint, retry: (timeo: bigint) => T, timedOut: () => T): T | Block<T> {
    return this.sleepOn(this.readers, timeo, retry, timedOut);
  }

  /** sleep() on another socket's wait queue (a unix connect waiting for room in a listener's queue). */
  protected sleepOn<T>(queue: SocketWaitQueue, timeo: bigint, retry: (timeo: bigint) => T, timedOut: () => T): T | Block<T> {
    if (timeo === 0n) return timedOut();
    const started = performance.now();
    let outcome: "woken" | "timeout" = "woken";
    const { wait, cancel } = queue.sleepCancellable(timeo);
    const done = wait.then((r) => { outcome = r; });
    return new Block<T>(done, () => {
      if (outcome === "timeout") return timedOut();
      if (timeo >= MAX_SCHEDULE_TIMEOUT) return retry(timeo);
      const spent = BigInt(Math.floor(((performance.now() - started) * Number(HZ)) / 1000));
      const left = timeo - spent;
      return left > 0n ? retry(left) : timedOut();
    }, cancel);
  }

  /**
   * Sleep for data as sk_wait_data does: EAGAIN right away for a non-blocking
   * socket or a zero SO_RCVTIMEO, EAGAIN when the timeout passes, otherwise
   * `retry` once woken.
   */
  protected sleepForData(nonblock: boolean, retry: () => RecvResult): RecvResult {
    return this.sleep<RecvResult>(nonblock ? 0n : this.rcvtimeo, retry, () => EAGAIN);
  }
}

/** A recvmsg result as read(2) sees it: just the bytes. */
export function recvBytes(r: RecvResult): ReadResult {
  if (r instanceof Block) return new Block<ReadResult>(r.wait, () => recvBytes(r.retry()), r.cancel);
  if (r instanceof Errno) return r;
  return r.data;
}

/** sockfs's device: an anonymous device number (0:9 on the reference machine). */
const SOCKFS_DEV = 9;
/** get_next_ino(): sockfs inodes are numbered from a counter. */
let nextIno = 20000;

/** The open file behind a socket descriptor (Linux: socket_file_ops). */
export class SocketFile extends FileDescription {
  readonly ino = nextIno++;

  /** sock_alloc_file: always O_RDWR, plus O_NONBLOCK from SOCK_NONBLOCK. */
  constructor(readonly sock: Socket, nonblock: boolean) {
    super(O_RDWR | (nonblock ? O_NONBLOCK : 0));
    sock.file = this;
  }

  get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }

  override read(t: Task, len: number): ReadResult {
    return this.sock.read(t, len, this.nonblock);
  }

  override write(t: Task, data: Uint8Array): number | Errno | Block {
    return this.sock.write(t, data, this.nonblock);
  }

  /** FIONREAD (SIOCINQ) and the other socket ioctls are the family's; only FIONREAD is answered so far. */
  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (request === FIONREAD) {
      const n = this.sock.inq();
      if (n instanceof Errno) return n;
      t.mm.setU32(arg, n);
      return 0;
    }
    return super.ioctl(t, request, arg);
  }

  override poll(): number {
    return this.sock.poll();
  }

  /** sock_alloc: mode S_IFSOCK | 0777, owned by the creator; sockfs inodes carry no times. */
  override stat(): StatInfo {
    return {
      dev: SOCKFS_DEV, ino: this.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: this.sock.uid, gid: this.sock.gid, rdev: 0,
      size: 0, blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }

  override release(): void {
    this.sock.release();
    this.sock.file = undefined;
  }
}

/** FIONREAD / SIOCINQ (include/uapi/asm-generic/ioctls.h). */
const FIONREAD = 0x541b;

/**
 * An skb's truesize for `len` bytes of data — what socket buffers are
 * charged for it: the kmalloc'ed head (SKB_DATA_ALIGN(len + headroom) plus
 * struct skb_shared_info, rounded up to its power-of-two slab) and the
 * struct sk_buff itself. The sizes are a 64-bit Linux 6.x's (320 and 256
 * after alignment); a 1-byte unix datagram comes to 768 as on Linux.
 */
export function skbTruesize(len: number, headroom = 0): number {
  const head = Math.ceil((len + headroom) / 64) * 64 + 320;
  return 2 ** Math.ceil(Math.log2(head)) + 256;
}
