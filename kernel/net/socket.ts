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
import { Block, FileDescription, O_NONBLOCK, O_RDWR, S_IFSOCK, type ReadResult, type StatInfo, type SysRet } from "../file";
import type { Task } from "../task";
import type { Net } from "./netns";

/** sk_state values syscage reaches so far (include/net/tcp_states.h); unix sockets use them too. */
export type SkState = "ESTABLISHED" | "CLOSE" | "LISTEN";
/** struct socket's state (include/uapi/linux/net.h socket_state), as connect/accept will set it. */
export type SockState = "UNCONNECTED" | "CONNECTING" | "CONNECTED";

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
    return new Promise((resolve) => {
      const ms = Number((jiffies * 1000n) / HZ);
      const timer = jiffies >= MAX_SCHEDULE_TIMEOUT || ms > MAX_TIMER_MS
        ? undefined
        : setTimeout(() => { this.sleepers.delete(wake); resolve("timeout"); }, ms);
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve("woken");
      };
      this.sleepers.add(wake);
    });
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

  constructor(
    readonly net: Net,
    t: Task,
    readonly family: number,
    /** SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET (after the family's own adjustments). */
    readonly type: number,
    /** sk_protocol, as SO_PROTOCOL reports it. */
    readonly protocol: number,
    buffers: { sndbuf: number; rcvbuf: number },
  ) {
    this.uid = t.proc.euid;
    this.gid = t.proc.egid;
    this.sndbuf = buffers.sndbuf;
    this.rcvbuf = buffers.rcvbuf;
  }

  /** sk_is_inet(): SO_REUSEPORT is refused on other families. */
  get isInet(): boolean { return false; }

  /** ops->bind: `addr` is the whole sockaddr_storage copy, `addrlen` what the caller passed. */
  abstract bind(t: Task, addr: Uint8Array, addrlen: number): SysRet;
  /** ops->listen, with the backlog already clamped to somaxconn. */
  abstract listen(t: Task, backlog: number): SysRet;
  /** ops->getname: the sockaddr bytes (their length is the address length), or an errno. */
  abstract getname(peer: boolean): Uint8Array | Errno;
  /** ops->shutdown with the raw `how`. */
  abstract shutdown(how: number): SysRet;
  /** read(2) on the socket (sock_read_iter → recvmsg). */
  abstract read(t: Task, len: number, nonblock: boolean): ReadResult;
  /** write(2) on the socket (sock_write_iter → sendmsg). */
  abstract write(t: Task, data: Uint8Array, nonblock: boolean): number | Errno | Block;

  /** ops->setsockopt for a level other than SOL_SOCKET; Linux answers EOPNOTSUPP when a family has none. */
  setsockopt(_t: Task, _level: number, _optname: number, _optval: number, _optlen: number): SysRet {
    return EOPNOTSUPP;
  }

  /** ops->getsockopt for a level other than SOL_SOCKET. */
  getsockopt(_t: Task, _level: number, _optname: number, _optval: number, _optlenPtr: number): SysRet {
    return EOPNOTSUPP;
  }

  /** The last descriptor was closed: give back ports and names. */
  release(): void {}

  /** sock_error(): take the pending asynchronous error. */
  takeError(): Errno | undefined {
    const e = this.err;
    this.err = undefined;
    return e;
  }

  /**
   * Sleep for data as sk_wait_data does: EAGAIN right away for a non-blocking
   * socket or a zero SO_RCVTIMEO, EAGAIN when the timeout passes, otherwise
   * `retry` once woken. (Linux carries the remaining timeout into the retry;
   * here a wake-up restarts it.)
   */
  protected sleepForData(nonblock: boolean, retry: () => ReadResult): ReadResult {
    const timeo = nonblock ? 0n : this.rcvtimeo;
    if (timeo === 0n) return EAGAIN;
    let outcome: "woken" | "timeout" = "woken";
    const wait = this.readers.sleep(timeo).then((r) => { outcome = r; });
    return new Block<ReadResult>(wait, () => (outcome === "timeout" ? EAGAIN : retry()));
  }
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
  }

  private get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }

  override read(t: Task, len: number): ReadResult {
    return this.sock.read(t, len, this.nonblock);
  }

  override write(t: Task, data: Uint8Array): number | Errno | Block {
    return this.sock.write(t, data, this.nonblock);
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
  }
}
