/**
 * POSIX message queues (Linux: ipc/mqueue.c). A queue is an inode of the
 * mqueue filesystem: named in its IPC namespace until mq_unlink, alive while
 * a descriptor holds it. Messages come out highest priority first, oldest
 * first within a priority. The namespace's limits are /proc/sys/fs/mqueue.
 */
import { capable } from "./capability";
import { EAGAIN, EINVAL, EMFILE, ENOSPC, EOVERFLOW, ETIMEDOUT, type Errno } from "./errno";
import {
  Block, FileDescription, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFREG, type ReadResult,
  type StatInfo, type SysRet,
} from "./file";
import type { ThreadGroup } from "./process";
import type { Task } from "./task";
import { intSetter, registerSysctl } from "./vfs/sysctl";
import { WaitQueue } from "./waitqueue";

/** include/linux/ipc_namespace.h: the defaults, and the ranges of ipc/mq_sysctl.c. */
const DFLT_QUEUESMAX = 256, DFLT_MSG = 10, DFLT_MSGMAX = 10, DFLT_MSGSIZE = 8192, DFLT_MSGSIZEMAX = 8192;
const MIN_MSGMAX = 1, HARD_MSGMAX = 65536, MIN_MSGSIZEMAX = 128, HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** MQ_PRIO_MAX (include/uapi/linux/mqueue.h). */
export const MQ_PRIO_MAX = 32768;
/** What each message and each priority level cost against RLIMIT_MSGQUEUE: sizeof(struct msg_msg), sizeof(struct posix_msg_tree_node) on a 64-bit kernel. */
const MSG_MSG_SIZE = 48, TREE_NODE_SIZE = 48;
const RLIMIT_MSGQUEUE = 12;
const CAP_SYS_RESOURCE = 24;
/** sigev_notify values (include/uapi/asm-generic/siginfo.h). */
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2;
/** si_code of a message queue's notification signal. */
const SI_MESGQ = -3;
/** The mqueue filesystem's device (an anonymous one) on the reference machine's numbering. */
const MQUEUE_DEV = 18;

/** One IPC namespace's queues and limits. */
export class MqNamespace {
  readonly queues = new Map<string, MQueue>();
  /** Queues in existence, named or not (mq_queues_count). */
  count = 0;
  queuesMax = DFLT_QUEUESMAX;
  msgMax = DFLT_MSGMAX;
  msgsizeMax = DFLT_MSGSIZEMAX;
  msgDefault = DFLT_MSG;
  msgsizeDefault = DFLT_MSGSIZE;
  /** Bytes charged to each euid's RLIMIT_MSGQUEUE. */
  readonly bytesOf = new Map<number, number>();
  private nextIno = 1;
  allocIno(): number { return this.nextIno++; }
}

/** Namespaces by kernel: every sandbox has its own (a task without a kernel, in unit tests, shares one). */
const namespaces = new WeakMap<object, MqNamespace>();
const detached = {};
export function mqNamespace(t: Task): MqNamespace {
  const key = t.kernel ?? detached;
  let ns = namespaces.get(key);
  if (!ns) namespaces.set(key, (ns = new MqNamespace()));
  return ns;
}

registerSysctl("fs/mqueue/queues_max", (t) => String(mqNamespace(t).queuesMax),
  intSetter((t, v) => { mqNamespace(t).queuesMax = v; }, 0));
registerSysctl("fs/mqueue/msg_max", (t) => String(mqNamespace(t).msgMax),
  intSetter((t, v) => { mqNamespace(t).msgMax = v; }, MIN_MSGMAX, HARD_MSGMAX));
registerSysctl("fs/mqueue/msgsize_max", (t) => String(mqNamespace(t).msgsizeMax),
  intSetter((t, v) => { mqNamespace(t).msgsizeMax = v; }, MIN_MSGSIZEMAX, HARD_MSGSIZEMAX));
registerSysctl("fs/mqueue/msg_default", (t) => String(mqNamespace(t).msgDefault),
  intSetter((t, v) => { mqNamespace(t).msgDefault = v; }, MIN_MSGMAX, HARD_MSGMAX));
registerSysctl("fs/mqueue/msgsize_default", (t) => String(mqNamespace(t).msgsizeDefault),
  intSetter((t, v) => { mqNamespace(t).msgsizeDefault = v; }, MIN_MSGSIZEMAX, HARD_MSGSIZEMAX));

interface Message { prio: number; data: Uint8Array }
/** A message, an error, or a wait after which the receive is tried again. */
export type Received = Message | Errno | Block<Received>;

/** A registered mq_notify: who to tell and how (sigev_value is not passed on: syscage's siginfo has no si_value for SI_MESGQ yet). */
interface Notification { owner: ThreadGroup; notify: number; signo: number }

export class MQueue {
  readonly ino: number;
  readonly messages: Message[] = [];
  /** Senders and receivers waiting for room or a message, and pollers. */
  readonly waiters = new WaitQueue();
  notification: Notification | undefined;
  /** Open descriptions; with the name gone and none left, the queue is freed. */
  opens = 0;
  named = true;
  atimeMs = Date.now();
  mtimeMs = this.atimeMs;
  ctimeMs = this.atimeMs;

  constructor(readonly ns: MqNamespace, public mode: number, readonly uid: number, readonly gid: number,
    readonly maxmsg: number, readonly msgsize: number, private readonly bytes: number) {
    this.ino = ns.allocIno();
  }

  /**
   * Linux: mqueue_get_inode's checks for a new queue — the sizes (root may go
   * up to the hard limits), overflow, then the creator's RLIMIT_MSGQUEUE.
   */
  static create(t: Task, ns: MqNamespace, mode: number, attr: { maxmsg: number; msgsize: number } | undefined): MQueue | Errno {
    const maxmsg = attr?.maxmsg ?? ns.msgDefault, msgsize = attr?.msgsize ?? ns.msgsizeDefault;
    if (maxmsg <= 0 || msgsize <= 0) return EINVAL;
    const resource = capable(t.proc, CAP_SYS_RESOURCE);
    if (maxmsg > (resource ? HARD_MSGMAX : ns.msgMax) || msgsize > (resource ? HARD_MSGSIZEMAX : ns.msgsizeMax)) return EINVAL;
    const bytes = maxmsg * msgsize + maxmsg * MSG_MSG_SIZE + Math.min(maxmsg, MQ_PRIO_MAX) * TREE_NODE_SIZE;
    if (!Number.isSafeInteger(bytes)) return EOVERFLOW;
    const uid = t.proc.euid;
    const limit = t.proc.rlimits.get(RLIMIT_MSGQUEUE)?.[0] ?? 0n;
    const charged = (ns.bytesOf.get(uid) ?? 0) + bytes;
    if (BigInt(charged) > limit) return EMFILE;
    ns.bytesOf.set(uid, charged);
    ns.count++;
    return new MQueue(ns, mode, uid, t.proc.egid, maxmsg, msgsize, bytes);
  }

  /** mqueue_evict_inode: no name and no descriptor left. */
  private freeIfUnused(): void {
    if (this.named || this.opens) return;
    this.ns.count--;
    this.ns.bytesOf.set(this.uid, (this.ns.bytesOf.get(this.uid) ?? 0) - this.bytes);
  }

  unlink(): void {
    this.named = false;
    this.freeIfUnused();
  }

  closed(): void {
    this.opens--;
    this.freeIfUnused();
  }

  /** Bytes of message data queued (mq_attr's QSIZE in the read(2) text). */
  get qsize(): number { return this.messages.reduce((n, m) => n + m.data.length, 0); }

  private touch(): void { this.atimeMs = this.mtimeMs = this.ctimeMs = Date.now(); }

  private changed(key: number): void {
    this.waiters.wake();
    for (const f of this.files) f.readiness.notify(key);
  }

  /** Open descriptions, told of readiness changes. */
  readonly files = new Set<MqueueFile>();

  /**
   * Linux: do_mq_timedsend after the argument checks — queue the message
   * (behind older ones of its priority), or wait for room until `deadline`
   * (ms since the epoch, CLOCK_REALTIME).
   */
  send(t: Task, data: Uint8Array, prio: number, nonblock: boolean, deadline: number | undefined): SysRet {
    if (this.messages.length >= this.maxmsg) {
      if (nonblock) return EAGAIN;
      return this.sleep(deadline, () => this.send(t, data, prio, nonblock, deadline));
    }
    let at = this.messages.length;
    while (at > 0 && this.messages[at - 1].prio < prio) at--;
    this.messages.splice(at, 0, { prio, data });
    this.touch();
    if (this.messages.length === 1) this.notify(t);
    this.changed(POLLIN | POLLRDNORM);
    return 0;
  }

  /** Linux: do_mq_timedreceive after the argument checks — the first message, or a wait for one. */
  receive(nonblock: boolean, deadline: number | undefined): Received {
    const m = this.messages.shift();
    if (!m) {
      if (nonblock) return EAGAIN;
      return this.sleep(deadline, () => this.receive(nonblock, deadline));
    }
    this.touch();
    this.changed(POLLOUT | POLLWRNORM);
    return m;
  }

  /** wq_sleep: wait for a change, or ETIMEDOUT once the absolute deadline has passed. */
  private sleep<R>(deadline: number | undefined, retry: () => R): Errno | Block<R> {
    if (deadline !== undefined && Date.now() >= deadline) return ETIMEDOUT;
    let timer: NodeJS.Timeout | undefined;
    const woken = this.waiters.wait();
    const wait = deadline === undefined ? woken
      : Promise.race([woken, new Promise<void>((resolve) => { timer = setTimeout(resolve, deadline - Date.now()); })]);
    return new Block<R>(wait.then(() => clearTimeout(timer)), retry, () => clearTimeout(timer));
  }

  /**
   * Linux: __do_notify — the queue went from empty to not empty: the
   * registered process is told once and the registration ends. SIGEV_NONE
   * tells nobody, a signal number of 0 sends nothing.
   */
  private notify(sender: Task): void {
    const n = this.notification;
    if (!n) return;
    this.notification = undefined;
    if (n.notify !== SIGEV_SIGNAL || !n.signo) return;
    sender.kernel?.signalGroup(n.owner, { sig: n.signo, code: SI_MESGQ, pid: sender.group.pid, uid: sender.proc.uid });
  }
}

/** An open message queue descriptor (Linux: mqueue_file_operations). */
export class MqueueFile extends FileDescription {
  /** How far read(2) has gone through the status line. */
  private pos = 0;

  constructor(readonly queue: MQueue, flags: number) {
    super(flags);
    queue.opens++;
    queue.files.add(this);
  }

  get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }
  /** FMODE_READ / FMODE_WRITE as OPEN_FMODE gives them: an access mode of 3 is neither. */
  override get readable(): boolean { return (this.flags & O_ACCMODE) === O_RDONLY || (this.flags & O_ACCMODE) === O_RDWR; }
  override get writable(): boolean { return (this.flags & O_ACCMODE) === O_WRONLY || (this.flags & O_ACCMODE) === O_RDWR; }

  /** Linux: mqueue_read_file — one line describing the queue. */
  override read(_t: Task, len: number): ReadResult {
    const q = this.queue, n = q.notification;
    const line = `QSIZE:${String(q.qsize).padEnd(10)} NOTIFY:${String(n?.notify ?? 0).padEnd(5)} ` +
      `SIGNO:${String(n?.signo ?? 0).padEnd(5)} NOTIFY_PID:${String(n ? n.owner.pid : 0).padEnd(6)}\n`;
    const out = Buffer.from(line, "latin1").subarray(this.pos, this.pos + len);
    this.pos += out.length;
    q.atimeMs = Date.now();
    return new Uint8Array(out);
  }

  /** Linux: mqueue_poll_file. */
  override poll(): number {
    let mask = 0;
    if (this.queue.messages.length) mask |= POLLIN | POLLRDNORM;
    if (this.queue.messages.length < this.queue.maxmsg) mask |= POLLOUT | POLLWRNORM;
    return mask;
  }

  override stat(): StatInfo {
    const q = this.queue;
    return {
      dev: MQUEUE_DEV, ino: q.ino, mode: S_IFREG | q.mode, nlink: q.named ? 1 : 0, uid: q.uid, gid: q.gid, rdev: 0,
      size: 80, blksize: 4096, blocks: 0, atimeMs: q.atimeMs, mtimeMs: q.mtimeMs, ctimeMs: q.ctimeMs,
    };
  }

  /**
   * mqueue_flush_file ends the notification when its owner closes a
   * descriptor of the queue; a release does not know the closing process,
   * so here it ends with the last open description.
   */
  override release(): void {
    const q = this.queue;
    q.files.delete(this);
    if (!q.files.size) q.notification = undefined;
    q.closed();
  }
}
