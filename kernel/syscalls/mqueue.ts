/**
 * POSIX message queue syscalls: mq_open, mq_unlink, mq_timedsend,
 * mq_timedreceive (and i386's _time64 forms), mq_notify, mq_getsetattr.
 * Linux: ipc/mqueue.c. The C library strips the leading "/" of a queue's
 * name, so the kernel sees a plain file name of the mqueue filesystem.
 */
import type { Handler, SyscallArgs } from "../abi";
import { capable } from "../capability";
import { EACCES, EBADF, EBUSY, EEXIST, EINVAL, EMSGSIZE, ENAMETOOLONG, ENOENT, ENOSPC, ENOTSOCK, Errno } from "../errno";
import { Block, O_NONBLOCK, type SysRet } from "../file";
import { MQ_PRIO_MAX, MQueue, MqueueFile, type Received, mqNamespace, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD } from "../mqueue";
import { SocketFile } from "../net/socket";
import type { Task } from "../task";
import type { Inode } from "../vfs/inode";
import { credOf, fsOf, permission, readPath } from "../vfs/namei";
import { MAY_READ, MAY_WRITE, NAME_MAX, O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, S_IFREG, openFlagsFromGuest } from "../vfs/types";

const CAP_SYS_RESOURCE = 24;
/** _NSIG: valid_signal's bound. */
const NSIG = 64;
/** NOTIFY_COOKIE_LEN: the bytes SIGEV_THREAD's sigev_value points at. */
const NOTIFY_COOKIE_LEN = 32;
/** sizeof(struct sigevent) on every arch (SIGEV_MAX_SIZE). */
const SIGEVENT_SIZE = 64;

/**
 * A queue's name: getname refuses an empty one (ENOENT), then lookup_one_len
 * on the mqueue root refuses ".", ".." and "/" (EACCES), then NAME_MAX (simple_lookup).
 */
function queueName(t: Task, ptr: number): string | Errno {
  const name = readPath(t, ptr);
  if (name instanceof Errno) return name;
  if (name === "") return ENOENT;
  if (name === "." || name === ".." || name.includes("/")) return EACCES;
  return name.length > NAME_MAX ? ENAMETOOLONG : name;
}

/** struct mq_attr: four longs (mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs), then four reserved. */
function readAttr(t: Task, ptr: number): { flags: number; maxmsg: number; msgsize: number } {
  const w = t.arch.wordSize;
  const long = (i: number) => (w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(ptr + 8 * i))) : t.mm.i32(ptr + 4 * i));
  t.mm.read(ptr, 8 * w);
  return { flags: long(0), maxmsg: long(1), msgsize: long(2) };
}

function writeAttr(t: Task, ptr: number, v: number[]): void {
  const w = t.arch.wordSize;
  const out = new Uint8Array(8 * w), d = new DataView(out.buffer);
  v.forEach((x, i) => (w === 8 ? d.setBigInt64(8 * i, BigInt(x), true) : d.setInt32(4 * i, x, true)));
  t.mm.write(ptr, out);
}

/** The queue's owner, group and mode as the permission check reads an inode's. */
const asInode = (q: MQueue): Inode => ({ mode: S_IFREG | q.mode, uid: q.uid, gid: q.gid }) as Inode;

/** Implements mq_open(2). Linux: do_mq_open, prepare_open, mqueue_create_attr. */
export const mq_open: Handler = (t, a) => {
  const oflag = openFlagsFromGuest(t.arch.name, a.int(1)), mode = a.uint(2), attrPtr = a.ptr(3);
  const attr = attrPtr ? readAttr(t, attrPtr) : undefined;
  const name = queueName(t, a.ptr(0));
  if (name instanceof Errno) return name;
  const ns = mqNamespace(t);
  let q = ns.queues.get(name);
  if (q) {
    if ((oflag & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return EEXIST;
    if ((oflag & O_ACCMODE) === O_ACCMODE) return EINVAL;
    const acc = [MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE][oflag & O_ACCMODE];
    const denied = permission(credOf(t), asInode(q), acc);
    if (denied) return denied;
  } else {
    if (!(oflag & O_CREAT)) return ENOENT;
    if (ns.count >= ns.queuesMax && !capable(t.proc, CAP_SYS_RESOURCE)) return ENOSPC;
    const made = MQueue.create(t, ns, mode & 0o7777 & ~fsOf(t).umask, attr);
    if (made instanceof Errno) return made;
    q = made;
    ns.queues.set(name, q);
  }
  const file = new MqueueFile(q, oflag & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC));
  // Message queue descriptors are always close-on-exec (get_unused_fd_flags(O_CLOEXEC)).
  const fd = t.fds.install(file, true);
  if (fd instanceof Errno) file.release();
  return fd;
};

/** Implements mq_unlink(2): only the queue's owner or root removes it (EACCES for anyone else, as Linux 6.18 answers). */
export const mq_unlink: Handler = (t, a) => {
  const name = queueName(t, a.ptr(0));
  if (name instanceof Errno) return name;
  const ns = mqNamespace(t);
  const q = ns.queues.get(name);
  if (!q) return ENOENT;
  const uid = credOf(t).uid;
  if (uid !== 0 && uid !== q.uid) return EACCES;
  ns.queues.delete(name);
  q.unlink();
  return 0;
};

/** An absolute CLOCK_REALTIME timeout in ms (Linux: prepare_timeout); `wide`: a 64-bit timespec. */
function deadline(t: Task, ptr: number, wide: boolean): number | undefined | Errno {
  if (!ptr) return undefined;
  const sec = wide ? Number(BigInt.asIntN(64, t.mm.u64(ptr))) : t.mm.i32(ptr);
  const nsec = wide ? Number(BigInt.asIntN(64, t.mm.u64(ptr + 8))) : t.mm.i32(ptr + 4);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return EINVAL;
  return sec * 1e3 + nsec / 1e6;
}

/** The queue behind `fd`: EBADF for anything else. */
function queueFile(t: Task, fd: number): MqueueFile | Errno {
  const f = t.fds.get(fd);
  return f instanceof MqueueFile ? f : EBADF;
}

/** Linux: do_mq_timedsend. */
function timedsend(t: Task, a: SyscallArgs, wide: boolean): SysRet {
  const until = deadline(t, a.ptr(4), wide);
  if (until instanceof Errno) return until;
  const len = a.ulong(2), prio = a.uint(3);
  if (prio >= MQ_PRIO_MAX) return EINVAL;
  const f = queueFile(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.writable) return EBADF;
  if (len > f.queue.msgsize) return EMSGSIZE;
  const data = t.mm.read(a.ptr(1), len).slice();
  return f.queue.send(t, data, prio, f.nonblock, until);
}

/** Implements mq_timedsend(2) (a 32-bit timespec on i386) and mq_timedsend_time64(2). */
export const mq_timedsend: Handler = (t, a) => timedsend(t, a, t.arch.wordSize === 8);
export const mq_timedsend_time64: Handler = (t, a) => timedsend(t, a, true);

/** Linux: do_mq_timedreceive — the buffer must hold the largest message; the message is gone before it is copied out. */
function timedreceive(t: Task, a: SyscallArgs, wide: boolean): SysRet {
  const until = deadline(t, a.ptr(4), wide);
  if (until instanceof Errno) return until;
  const f = queueFile(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.readable) return EBADF;
  if (a.ulong(2) < f.queue.msgsize) return EMSGSIZE;
  const deliver = (r: Received): SysRet => {
    if (r instanceof Block) return new Block(r.wait, () => deliver(r.retry()), r.cancel);
    if (r instanceof Errno) return r;
    if (a.ptr(3)) t.mm.setU32(a.ptr(3), r.prio);
    t.mm.write(a.ptr(1), r.data);
    return r.data.length;
  };
  return deliver(f.queue.receive(f.nonblock, until));
}

/** Implements mq_timedreceive(2) (a 32-bit timespec on i386) and mq_timedreceive_time64(2). */
export const mq_timedreceive: Handler = (t, a) => timedreceive(t, a, t.arch.wordSize === 8);
export const mq_timedreceive_time64: Handler = (t, a) => timedreceive(t, a, true);

/**
 * Implements mq_notify(2). Linux: do_mq_notify. SIGEV_THREAD needs a netlink
 * socket, which syscage does not have, so it fails as with any other socket.
 */
export const mq_notify: Handler = (t, a) => {
  const sevp = a.ptr(1), w = t.arch.wordSize;
  let sev: { value: bigint; signo: number; notify: number } | undefined;
  if (sevp) {
    t.mm.read(sevp, SIGEVENT_SIZE);
    const value = w === 8 ? t.mm.u64(sevp) : BigInt(t.mm.u32(sevp));
    sev = { value, signo: t.mm.i32(sevp + w), notify: t.mm.i32(sevp + w + 4) };
    if (sev.notify !== SIGEV_NONE && sev.notify !== SIGEV_SIGNAL && sev.notify !== SIGEV_THREAD) return EINVAL;
    if (sev.notify === SIGEV_SIGNAL && (sev.signo < 0 || sev.signo > NSIG)) return EINVAL;
    if (sev.notify === SIGEV_THREAD) {
      t.mm.read(Number(sev.value), NOTIFY_COOKIE_LEN);
      const sock = t.fds.get(sev.signo);
      if (!sock) return EBADF;
      return sock instanceof SocketFile ? EINVAL : ENOTSOCK;
    }
  }
  const f = queueFile(t, a.int(0));
  if (f instanceof Errno) return f;
  const q = f.queue;
  if (!sev) {
    if (q.notification?.owner === t.group) q.notification = undefined;
    return 0;
  }
  if (q.notification) return EBUSY;
  q.notification = { owner: t.group, notify: sev.notify, signo: sev.signo };
  return 0;
};

/** Implements mq_getsetattr(2): only O_NONBLOCK may change; the old attributes show the descriptor's flag. */
export const mq_getsetattr: Handler = (t, a) => {
  const newPtr = a.ptr(1), oldPtr = a.ptr(2);
  const next = newPtr ? readAttr(t, newPtr) : undefined;
  if (next && next.flags & ~O_NONBLOCK) return EINVAL;
  const f = queueFile(t, a.int(0));
  if (f instanceof Errno) return f;
  const q = f.queue;
  const old = [f.flags & O_NONBLOCK, q.maxmsg, q.msgsize, q.messages.length, 0, 0, 0, 0];
  if (next) f.flags = (f.flags & ~O_NONBLOCK) | (next.flags & O_NONBLOCK);
  q.atimeMs = q.ctimeMs = Date.now();
  if (oldPtr) writeAttr(t, oldPtr, old);
  return 0;
};
