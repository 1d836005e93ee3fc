/**
 * File-descriptor syscalls: read/write and their vector and positional forms,
 * close/dup, fcntl, lseek, ioctl. Path syscalls are in path.ts, attr.ts and
 * stat.ts; the stat of an open descriptor is there too.
 */
import type { Handler, SyscallArgs } from "../abi";
import { capable, CAP_SYS_RESOURCE } from "../capability";
import { fsizeAllowsSize } from "../rlimits";
import { Errno, EBADF, EBUSY, EINVAL, EOPNOTSUPP, EPERM, ESPIPE } from "../errno";
import { FifoFile } from "../vfs/fifo";
import { Pipe, PipeFile } from "../pipe";
import { isPathFile, RegularFile } from "../vfs/file";
import { closedBy, conflict, setRecordLock, F_RDLCK, F_UNLCK, F_WRLCK, type RecordLock } from "../vfs/locks";
import { addMemfdSeals, memfdSeals } from "../vfs/memfd";
import { O_ASYNC, O_DIRECT, O_NOATIME, openFlagsFromGuest, openFlagsToGuest } from "../vfs/types";
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

/** The open file at `fd` if it was opened for reading (vfs_read's FMODE_READ check): EBADF otherwise. */
function readableFile(t: Task, fd: number): FileDescription | Errno {
  const f = fileOf(t, fd);
  return f instanceof Errno || f.readable ? f : EBADF;
}

/** The open file at `fd` if it was opened for writing (vfs_write's FMODE_WRITE check): EBADF otherwise. */
function writableFile(t: Task, fd: number): FileDescription | Errno {
  const f = fileOf(t, fd);
  return f instanceof Errno || f.writable ? f : EBADF;
}

/**
 * The open file at `fd` for a positioned read or write (ksys_pread64, do_preadv...):
 * EBADF for no descriptor, then ESPIPE for a pipe or socket (no FMODE_PREAD/PWRITE),
 * then EBADF for the wrong access mode.
 */
function positionedFile(t: Task, fd: number, write: boolean): FileDescription | Errno {
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  // A regular file always has positions; only other descriptors are worth a stat on this path.
  if (!(f instanceof RegularFile)) {
    const type = f.stat().mode & 0o170000;
    if (type === 0o010000 || type === 0o140000) return ESPIPE;
  }
  return (write ? f.writable : f.readable) ? f : EBADF;
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
  const f = readableFile(t, a.int(0));
  if (f instanceof Errno) return f;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  if (count === 0) return 0;
  return deliver(t, a.ptr(1), f.read(t, count));
};

/** Implements write(2). */
export const write: Handler = (t, a) => {
  const f = writableFile(t, a.int(0));
  if (f instanceof Errno) return f;
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

/** Spread the bytes one read produced over the guest's vectors; the byte count. */
function scatterInto(t: Task, iov: Array<[number, number]>, data: Uint8Array): number {
  let off = 0;
  for (const [base, len] of iov) {
    if (off >= data.length) break;
    const n = Math.min(len, data.length - off);
    t.mm.write(base, data.subarray(off, off + n));
    off += n;
  }
  return data.length;
}

/** Implements readv(2): one read, scattered over the vectors. */
export const readv: Handler = (t, a) => {
  const f = readableFile(t, a.int(0));
  if (f instanceof Errno) return f;
  const iov = iovecs(t, a, 1, 2);
  if (iov instanceof Errno) return iov;
  const total = Math.min(iov.reduce((s, [, l]) => s + l, 0), MAX_RW_COUNT);
  if (total === 0) return 0;
  const scatter = (r: ReadResult): SysRet => {
    if (r instanceof Block) return new Block(r.wait, () => scatter(r.retry()));
    return r instanceof Errno ? r : scatterInto(t, iov, r);
  };
  return scatter(f.read(t, total));
};

/** Implements writev(2): the vectors gathered into one write. */
export const writev: Handler = (t, a) => {
  const f = writableFile(t, a.int(0));
  if (f instanceof Errno) return f;
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
  const off = a.pair64(3);
  if (off < 0n) return EINVAL;
  const f = positionedFile(t, a.int(0), false);
  if (f instanceof Errno) return f;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  return deliver(t, a.ptr(1), f.pread(t, count, Number(off)));
};

/** Implements pwrite64(2). */
export const pwrite64: Handler = (t, a) => {
  const off = a.pair64(3);
  if (off < 0n) return EINVAL;
  const f = positionedFile(t, a.int(0), true);
  if (f instanceof Errno) return f;
  const count = Math.min(a.ulong(2), MAX_RW_COUNT);
  return f.pwrite(t, t.mm.read(a.ptr(1), count), Number(off));
};

/** The file offset of preadv/pwritev: one register on 64-bit arches, a (low, high) pair on i386. */
function vecOffset(a: SyscallArgs, i: number): number {
  return a.wordSize === 8 ? a.long(i) : Number(BigInt.asIntN(64, (BigInt(a.uint(i + 1)) << 32n) | BigInt(a.uint(i))));
}

function doPreadv(t: Task, a: SyscallArgs, offset: number): SysRet {
  if (offset === -1) return readv(t, a);
  if (offset < 0) return EINVAL;
  const f = positionedFile(t, a.int(0), false);
  if (f instanceof Errno) return f;
  const iov = iovecs(t, a, 1, 2);
  if (iov instanceof Errno) return iov;
  const total = Math.min(iov.reduce((s, [, l]) => s + l, 0), MAX_RW_COUNT);
  const r = f.pread(t, total, offset);
  return r instanceof Errno ? r : scatterInto(t, iov, r);
}

function doPwritev(t: Task, a: SyscallArgs, offset: number): SysRet {
  if (offset === -1) return writev(t, a);
  if (offset < 0) return EINVAL;
  const f = positionedFile(t, a.int(0), true);
  if (f instanceof Errno) return f;
  const iov = iovecs(t, a, 1, 2);
  if (iov instanceof Errno) return iov;
  const data = Buffer.concat(iov.map(([base, len]) => t.mm.read(base, len)));
  return f.pwrite(t, data.subarray(0, MAX_RW_COUNT), offset);
}

/** Implements preadv(2). */
export const preadv: Handler = (t, a) => {
  const off = vecOffset(a, 3);
  return off === -1 ? EINVAL : doPreadv(t, a, off);
};
/** Implements pwritev(2). */
export const pwritev: Handler = (t, a) => {
  const off = vecOffset(a, 3);
  return off === -1 ? EINVAL : doPwritev(t, a, off);
};
/** RWF_* flags preadv2/pwritev2 accept (include/uapi/linux/fs.h). */
const RWF_SUPPORTED = 0x7f;
/** Implements preadv2(2): offset -1 reads at the file position. */
export const preadv2: Handler = (t, a) => (a.uint(5) & ~RWF_SUPPORTED ? EOPNOTSUPP : doPreadv(t, a, vecOffset(a, 3)));
/** Implements pwritev2(2). */
export const pwritev2: Handler = (t, a) => (a.uint(5) & ~RWF_SUPPORTED ? EOPNOTSUPP : doPwritev(t, a, vecOffset(a, 3)));

/** Implements close(2): the process's POSIX locks on the file go with any of its descriptors (locks_remove_posix). */
export const close: Handler = (t, a) => {
  const f = t.fds.get(a.int(0));
  if (f) closedBy(f, t.proc);
  return t.fds.close(a.int(0));
};

const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;

/** Implements close_range(2). UNSHARE needs nothing here: the table is already the caller's to change. */
export const close_range: Handler = (t, a) => {
  const first = a.uint(0), last = a.uint(1), flags = a.uint(2);
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last) return EINVAL;
  for (const fd of t.fds.fds()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) {
      t.fds.setCloexec(fd, true);
    } else {
      closedBy(t.fds.get(fd)!, t.proc);
      t.fds.close(fd);
    }
  }
  return 0;
};

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

/** fcntl commands beyond the basic ones, include/uapi/asm-generic/fcntl.h and linux/fcntl.h. */
const F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7, F_GETLK64 = 12, F_SETLK64 = 13, F_SETLKW64 = 14,
  F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032,
  F_ADD_SEALS = 1033, F_GET_SEALS = 1034, F_GETOWN = 9, F_SETOWN = 8, F_GETSIG = 11, F_SETSIG = 10;
/** Status flags F_SETFL may change (Linux: SETFL_MASK). */
const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

/** The struct flock layouts: 64-bit (also i386's flock64, packed to 4) and i386's 32-bit one. */
type FlockLayout = "long" | "flock64" | "flock32";

function flockLayout(t: Task, cmd: number, viaFcntl64: boolean): FlockLayout {
  if (t.arch.wordSize === 8) return "long";
  const wide = cmd === F_GETLK64 || cmd === F_SETLK64 || cmd === F_SETLKW64 || (viaFcntl64 && cmd >= F_OFD_GETLK && cmd <= F_OFD_SETLKW);
  return wide ? "flock64" : "flock32";
}

interface Flock { type: number; whence: number; start: number; len: number; pid: number }

function readFlock(t: Task, p: number, layout: FlockLayout): Flock {
  const type = t.mm.u16(p), whence = t.mm.u16(p + 2);
  if (layout === "long") return { type, whence, start: Number(BigInt.asIntN(64, t.mm.u64(p + 8))), len: Number(BigInt.asIntN(64, t.mm.u64(p + 16))), pid: t.mm.i32(p + 24) };
  if (layout === "flock64") return { type, whence, start: Number(BigInt.asIntN(64, t.mm.u64(p + 4))), len: Number(BigInt.asIntN(64, t.mm.u64(p + 12))), pid: t.mm.i32(p + 20) };
  return { type, whence, start: t.mm.i32(p + 4), len: t.mm.i32(p + 8), pid: t.mm.i32(p + 12) };
}

function writeFlock(t: Task, p: number, layout: FlockLayout, l: Flock): void {
  t.mm.setU16(p, l.type);
  t.mm.setU16(p + 2, l.whence);
  if (layout === "long") { t.mm.setU64(p + 8, BigInt(l.start)); t.mm.setU64(p + 16, BigInt(l.len)); t.mm.setU32(p + 24, l.pid); }
  else if (layout === "flock64") { t.mm.setU64(p + 4, BigInt(l.start)); t.mm.setU64(p + 12, BigInt(l.len)); t.mm.setU32(p + 20, l.pid); }
  else { t.mm.setU32(p + 4, l.start); t.mm.setU32(p + 8, l.len); t.mm.setU32(p + 12, l.pid); }
}

/** Implements the lock commands (Linux: fcntl_getlk, fcntl_setlk, flock_to_posix_lock). */
function recordLock(t: Task, f: FileDescription, cmd: number, p: number, layout: FlockLayout): SysRet {
  const l = readFlock(t, p, layout);
  const ofd = cmd >= F_OFD_GETLK && cmd <= F_OFD_SETLKW;
  if (ofd && l.pid !== 0) return EINVAL;
  if (l.type !== F_RDLCK && l.type !== F_WRLCK && l.type !== F_UNLCK) return EINVAL;
  let base: number;
  if (l.whence === 0) base = 0;
  else if (l.whence === 1) { const cur = f.seek(0, 1); base = typeof cur === "number" ? cur : 0; }
  else if (l.whence === 2) base = f.stat().size;
  else return EINVAL;
  let start = base + l.start, end: number;
  if (l.len > 0) end = start + l.len - 1;
  else if (l.len === 0) end = Infinity;
  else { end = start - 1; start += l.len; }
  if (start < 0) return EINVAL;
  const want: RecordLock = { owner: ofd ? f : t.proc, type: l.type, start, end, pid: ofd ? -1 : t.pid };
  if (cmd === F_GETLK || cmd === F_GETLK64 || cmd === F_OFD_GETLK) {
    if (l.type === F_UNLCK) return EINVAL;
    const c = conflict(f, want);
    if (!c) writeFlock(t, p, layout, { ...l, type: F_UNLCK });
    else writeFlock(t, p, layout, { type: c.type, whence: 0, start: c.start, len: c.end === Infinity ? 0 : c.end - c.start + 1, pid: c.pid });
    return 0;
  }
  if (l.type === F_RDLCK && !f.readable) return EBADF;
  if (l.type === F_WRLCK && !f.writable) return EBADF;
  const wait = cmd === F_SETLKW || cmd === F_SETLKW64 || cmd === F_OFD_SETLKW;
  return setRecordLock(f, want, wait);
}

function doFcntl(t: Task, a: SyscallArgs, viaFcntl64: boolean): SysRet {
  const fd = a.int(0), cmd = a.int(1);
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  // An O_PATH descriptor allows only descriptor-level commands (fcntl's check_fcntl_cmd).
  if (isPathFile(f) && ![F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL].includes(cmd)) return EBADF;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.int(2);
      if (min < 0 || min >= t.fds.limit) return EINVAL;
      return t.fds.install(f, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD: return t.fds.cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD: t.fds.setCloexec(fd, (a.int(2) & FD_CLOEXEC) !== 0); return 0;
    case F_GETFL: return openFlagsToGuest(t.arch.name, f.flags);
    case F_SETFL: {
      // Only O_APPEND, O_NONBLOCK and a few we do not model can change; the access mode stays.
      const want = openFlagsFromGuest(t.arch.name, a.int(2));
      f.flags = (f.flags & ~SETFL_MASK) | (want & SETFL_MASK);
      return 0;
    }
    case F_GETLK: case F_SETLK: case F_SETLKW:
    case F_GETLK64: case F_SETLK64: case F_SETLKW64:
    case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW: {
      if (t.arch.wordSize === 8 && cmd >= F_GETLK64 && cmd <= F_SETLKW64) return EINVAL;
      return recordLock(t, f, cmd, a.ptr(2), flockLayout(t, cmd, viaFcntl64));
    }
    case F_GETPIPE_SZ: {
      const pipe = pipeOf(f);
      return pipe ? pipe.maxUsage * PAGE_SIZE : EBADF;
    }
    case F_SETPIPE_SZ: return setPipeSize(t, f, a.uint(2));
    case F_GET_SEALS: return f instanceof RegularFile && f.path.mnt.source === "memfd" ? memfdSeals(f) : EINVAL;
    case F_ADD_SEALS: return f instanceof RegularFile && f.path.mnt.source === "memfd" ? addMemfdSeals(f, a.uint(2)) : EINVAL;
    case F_GETOWN: case F_GETSIG: return 0;
    case F_SETOWN: case F_SETSIG: return 0;
    default: return EINVAL;
  }
}

const PAGE_SIZE = 4096;
/** fs.pipe-max-size: what an unprivileged process may ask for. */
const PIPE_MAX_SIZE = 1 << 20;

function pipeOf(f: FileDescription): Pipe | undefined {
  return f instanceof PipeFile ? f.pipe : f instanceof FifoFile ? f.pipe : undefined;
}

/** Implements F_SETPIPE_SZ (Linux: pipe_set_size, round_pipe_size): a power-of-two number of pages. */
function setPipeSize(t: Task, f: FileDescription, size: number): SysRet {
  const pipe = pipeOf(f);
  if (!pipe) return EBADF;
  if (size > 2 ** 31) return EINVAL;
  const pages = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(size / PAGE_SIZE))));
  // Growing past fs.pipe-max-size takes CAP_SYS_RESOURCE.
  if (pages > pipe.maxUsage && size > PIPE_MAX_SIZE && !capable(t.proc, CAP_SYS_RESOURCE)) return EPERM;
  if (pipe.buffered > pages * PAGE_SIZE) return EBUSY;
  pipe.maxUsage = pages;
  return pages * PAGE_SIZE;
}

/** Implements fcntl(2). */
export const fcntl: Handler = (t, a) => doFcntl(t, a, false);
/** Implements fcntl64(2) (i386): the 64-bit lock commands and OFD locks use struct flock64. */
export const fcntl64: Handler = (t, a) => doFcntl(t, a, true);

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
  const limited = fsizeAllowsSize(t, Number(length));
  return limited || f.truncate(Number(length));
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
  // An O_PATH descriptor is not a file to ioctl (fdget refuses FMODE_PATH).
  if (isPathFile(f)) return EBADF;
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
