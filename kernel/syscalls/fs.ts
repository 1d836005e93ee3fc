/**
 * File-descriptor syscalls: read/write and their vector and positional forms,
 * close/dup, fcntl, lseek, ioctl. Path syscalls are in path.ts, attr.ts and
 * stat.ts; the stat of an open descriptor is there too.
 */
import type { Handler, SyscallArgs } from "../abi";
import { Errno, EBADF, EINVAL } from "../errno";
import { Block, FileDescription, O_APPEND, O_NONBLOCK, type ReadResult, type SysRet } from "../file";
import type { Task } from "../task";

/** Linux caps one read/write at MAX_RW_COUNT (INT_MAX & PAGE_MASK). */
const MAX_RW_COUNT = 0x7ffff000;
/** UIO_MAXIOV, include/uapi/linux/uio.h. */
const UIO_MAXIOV = 1024;
const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1, O_CLOEXEC = 0o2000000;
const FIONBIO = 0x5421, FIONCLEX = 0x5450, FIOCLEX = 0x5451;

function fileOf(t: Task, fd: number): FileDescription | Errno {
  return t.fds.get(fd) ?? EBADF;
}

/** Deliver bytes a read produced to guest memory, or EFAULT (the bytes are lost, as in Linux). */
function deliver(t: Task, buf: number, r: ReadResult): SysRet {
  if (r instanceof Block) return new Block(r.wait, () => deliver(t, buf, r.retry()));
  if (r instanceof Errno) return r;
  t.mm.write(buf, r);
  return r.length;
}

/** Implements read(2). */
export const read: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.readable) return EBADF;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  if (count === 0) return 0;
  return deliver(t, a.ptr(1), f.read(t, count));
};

/** Implements write(2). */
export const write: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.writable) return EBADF;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  if (count === 0) return 0;
  return f.write(t, t.mm.read(a.ptr(1), count));
};

/** The (base, len) pairs of a guest iovec array, with Linux's count checks. */
function iovecs(t: Task, a: SyscallArgs, ptrArg: number, cntArg: number): Array<[number, number]> | Errno {
  const cnt = a.int(cntArg);
  if (cnt < 0 || cnt > UIO_MAXIOV) return EINVAL;
  const w = a.wordSize, p = a.ptr(ptrArg);
  const out: Array<[number, number]> = [];
  let total = 0;
  for (let i = 0; i < cnt; i++) {
    const base = w === 8 ? t.mm.u64n(p + 16 * i) : t.mm.u32(p + 8 * i);
    const len = w === 8 ? t.mm.u64n(p + 16 * i + 8) : t.mm.u32(p + 8 * i + 4);
    if (len > Number.MAX_SAFE_INTEGER || (w === 4 && len > 0x7fffffff) || (w === 8 && len >= 2 ** 63)) return EINVAL;
    total += len;
    out.push([base, len]);
  }
  return total > 0x7fffffffffff ? EINVAL : out;
}

/** Implements readv(2): one read, scattered over the vectors. */
export const readv: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.readable) return EBADF;
  const iov = iovecs(t, a, 1, 2);
  if (iov instanceof Errno) return iov;
  const total = Math.min(iov.reduce((s, [, l]) => s + l, 0), MAX_RW_COUNT);
  if (total === 0) return 0;
  const scatter = (r: ReadResult): SysRet => {
    if (r instanceof Block) return new Block(r.wait, () => scatter(r.retry()));
    if (r instanceof Errno) return r;
    let off = 0;
    for (const [base, len] of iov) {
      if (off >= r.length) break;
      const n = Math.min(len, r.length - off);
      t.mm.write(base, r.subarray(off, off + n));
      off += n;
    }
    return r.length;
  };
  return scatter(f.read(t, total));
};

/** Implements writev(2): the vectors gathered into one write. */
export const writev: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.writable) return EBADF;
  const iov = iovecs(t, a, 1, 2);
  if (iov instanceof Errno) return iov;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [base, len] of iov) {
    const n = Math.min(len, MAX_RW_COUNT - total);
    if (n <= 0) break;
    try {
      parts.push(t.mm.read(base, n));
    } catch (e) {
      // Linux writes what it gathered before the bad vector; nothing gathered is EFAULT.
      if (total === 0) throw e;
      break;
    }
    total += n;
  }
  if (total === 0) return 0;
  return f.write(t, Buffer.concat(parts));
};

/** Implements pread64(2); i386 passes the offset as a register pair. */
export const pread64: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.readable) return EBADF;
  const off = a.pair64(3);
  if (off < 0n) return EINVAL;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  return deliver(t, a.ptr(1), f.pread(t, count, Number(off)));
};

/** Implements pwrite64(2). */
export const pwrite64: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  if (!f.writable) return EBADF;
  const off = a.pair64(3);
  if (off < 0n) return EINVAL;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  return f.pwrite(t, t.mm.read(a.ptr(1), count), Number(off));
};

/** Implements close(2). */
export const close: Handler = (t, a) => t.fds.close(a.int(0));

/** Implements dup(2). */
export const dup: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  return f instanceof Errno ? f : t.fds.install(f);
};

function dupTo(t: Task, oldfd: number, newfd: number, cloexec: boolean): SysRet {
  const f = t.fds.get(oldfd);
  if (!f) return EBADF;
  if (newfd < 0 || newfd >= t.fds.limit) return EBADF;
  t.fds.installAt(newfd, f, cloexec);
  return newfd;
}

/** Implements dup2(2): the same fd is returned unchanged when valid. */
export const dup2: Handler = (t, a) => {
  const oldfd = a.int(0), newfd = a.int(1);
  if (oldfd === newfd) return t.fds.get(oldfd) ? newfd : EBADF;
  return dupTo(t, oldfd, newfd, false);
};

/** Implements dup3(2): EINVAL for equal fds or unknown flags. */
export const dup3: Handler = (t, a) => {
  const oldfd = a.int(0), newfd = a.int(1), flags = a.int(2);
  if (flags & ~O_CLOEXEC) return EINVAL;
  if (oldfd === newfd) return EINVAL;
  return dupTo(t, oldfd, newfd, (flags & O_CLOEXEC) !== 0);
};

/** Implements fcntl(2) (and fcntl64 on i386) for descriptor and status flags. */
export const fcntl: Handler = (t, a) => {
  const fd = a.int(0), cmd = a.int(1);
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.int(2);
      if (min < 0 || min >= t.fds.limit) return EINVAL;
      return t.fds.install(f, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD: return t.fds.cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD: t.fds.setCloexec(fd, (a.int(2) & FD_CLOEXEC) !== 0); return 0;
    case F_GETFL: return f.flags;
    case F_SETFL: {
      // Only O_APPEND and O_NONBLOCK (and a few we do not model) can change; the access mode stays.
      const settable = O_APPEND | O_NONBLOCK;
      f.flags = (f.flags & ~settable) | (a.int(2) & settable);
      return 0;
    }
    default: return EINVAL;
  }
};

/** Implements fsync(2) and fdatasync(2). */
export const fsync: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  return f instanceof Errno ? f : f.sync();
};
export const fdatasync = fsync;

function doFtruncate(t: Task, fd: number, length: bigint): SysRet {
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  if (length < 0n) return EINVAL;
  // Linux: a descriptor not open for writing is EINVAL here, not EBADF (fs/open.c do_sys_ftruncate).
  if (!f.writable) return EINVAL;
  return f.truncate(Number(length));
}

/** Implements ftruncate(2). */
export const ftruncate: Handler = (t, a) => doFtruncate(t, a.int(0), BigInt(a.long(1)));
/** Implements ftruncate64(2) (i386): the length is a register pair. */
export const ftruncate64: Handler = (t, a) => doFtruncate(t, a.int(0), a.pair64(1));

/** Implements lseek(2). */
export const lseek: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  const whence = a.int(2);
  if (whence < 0 || whence > 4) return EINVAL;
  return f.seek(a.long(1), whence);
};

/** Implements _llseek(2) (i386): a 64-bit offset in two registers and the result through a pointer. */
export const _llseek: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  const off = (BigInt(a.uint(1)) << 32n) | BigInt(a.uint(2));
  const whence = a.int(4);
  if (whence < 0 || whence > 4) return EINVAL;
  const r = f.seek(Number(BigInt.asIntN(64, off)), whence);
  if (r instanceof Errno) return r;
  t.mm.setU64(a.ptr(3), r);
  return 0;
};

/** Implements ioctl(2): the generic descriptor requests, then the file's own. */
export const ioctl: Handler = (t, a) => {
  const fd = a.int(0), req = a.uint(1);
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  switch (req) {
    case FIOCLEX: t.fds.setCloexec(fd, true); return 0;
    case FIONCLEX: t.fds.setCloexec(fd, false); return 0;
    case FIONBIO: {
      const on = t.mm.i32(a.ptr(2)) !== 0;
      f.flags = on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
      return 0;
    }
    default: return f.ioctl(t, req, a.ptr(2));
  }
};
