/**
 * Syscalls on attributes: access checks, modes, owners, times, truncate by
 * path. Linux: fs/open.c (do_faccessat, chmod_common, chown_common,
 * do_sys_truncate) and fs/utimes.c.
 */
import type { Handler, SyscallArgs } from "../abi";
import { EBADF, EINVAL, Errno } from "../errno";
import { FileDescription, type SysRet } from "../file";
import type { Task } from "../task";
import { isPathFile, VfsFile } from "../vfs/file";
import type { VfsPath } from "../vfs/inode";
import { lookupAt, readPath, accessAt, chmodPath, chownPath, truncatePath, utimesPath, type TimeSpec } from "../vfs/ops";
import { AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from "../vfs/types";

/** Resolve a path argument and act on what it names (a non-VFS descriptor via AT_EMPTY_PATH is left alone). */
function onPath(t: Task, dirfd: number, pathPtr: number, flags: number, op: (p: VfsPath) => SysRet): SysRet {
  const path = readPath(t, pathPtr);
  if (path instanceof Errno) return path;
  const p = lookupAt(t, dirfd, path, flags);
  if (p instanceof Errno) return p;
  return p instanceof FileDescription ? 0 : op(p);
}

/** Act on an open descriptor: EBADF for O_PATH, nothing to do for pipes and sockets. */
function onFd(t: Task, fd: number, op: (p: VfsPath) => SysRet): SysRet {
  const f = t.fds.get(fd);
  if (!f || isPathFile(f)) return EBADF;
  return f instanceof VfsFile ? op(f.path) : 0;
}

// --- access ----------------------------------------------------------------------------

/** Implements access(2). */
export const access: Handler = (t, a) => {
  const path = readPath(t, a.ptr(0));
  return path instanceof Errno ? path : accessAt(t, AT_FDCWD, path, a.int(1), 0, false);
};

/** Implements faccessat(2): the old call has no flags argument. */
export const faccessat: Handler = (t, a) => {
  const path = readPath(t, a.ptr(1));
  return path instanceof Errno ? path : accessAt(t, a.int(0), path, a.int(2), 0, false);
};

/** Implements faccessat2(2). */
export const faccessat2: Handler = (t, a) => {
  const flags = a.int(3);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const path = readPath(t, a.ptr(1));
  return path instanceof Errno ? path : accessAt(t, a.int(0), path, a.int(2), flags & ~AT_EACCESS, (flags & AT_EACCESS) !== 0);
};

// --- modes -----------------------------------------------------------------------------

/** Implements chmod(2). */
export const chmod: Handler = (t, a) => onPath(t, AT_FDCWD, a.ptr(0), 0, (p) => chmodPath(t, p, a.uint(1)));
/** Implements fchmod(2). */
export const fchmod: Handler = (t, a) => onFd(t, a.int(0), (p) => chmodPath(t, p, a.uint(1)));
/** Implements fchmodat(2): the old call has no flags. */
export const fchmodat: Handler = (t, a) => onPath(t, a.int(0), a.ptr(1), 0, (p) => chmodPath(t, p, a.uint(2)));

// --- owners ----------------------------------------------------------------------------

/** i386's chown/lchown/fchown take 16-bit ids, where 0xffff means "unchanged" (high2lowuid). */
function id16(t: Task, v: number): number {
  if (t.arch.name !== "i386") return v;
  const low = v & 0xffff;
  return low === 0xffff ? -1 : low;
}

function chownArgs(t: Task, a: SyscallArgs, i: number, narrow: boolean): [number, number] {
  return narrow ? [id16(t, a.uint(i)), id16(t, a.uint(i + 1))] : [a.int(i), a.int(i + 1)];
}

const chownBy = (follow: boolean, narrow: boolean): Handler => (t, a) => {
  const [uid, gid] = chownArgs(t, a, 1, narrow);
  return onPath(t, AT_FDCWD, a.ptr(0), follow ? 0 : AT_SYMLINK_NOFOLLOW, (p) => chownPath(t, p, uid, gid));
};
const fchownBy = (narrow: boolean): Handler => (t, a) => {
  const [uid, gid] = chownArgs(t, a, 1, narrow);
  return onFd(t, a.int(0), (p) => chownPath(t, p, uid, gid));
};

/** Implements chown(2) (16-bit ids on i386). */
export const chown = chownBy(true, true);
/** Implements lchown(2) (16-bit ids on i386). */
export const lchown = chownBy(false, true);
/** Implements fchown(2) (16-bit ids on i386). */
export const fchown = fchownBy(true);
/** Implements chown32(2), lchown32(2) and fchown32(2) (i386). */
export const chown32 = chownBy(true, false);
export const lchown32 = chownBy(false, false);
export const fchown32 = fchownBy(false);

/** Implements fchownat(2). */
export const fchownat: Handler = (t, a) => {
  const flags = a.int(4);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  return onPath(t, a.int(0), a.ptr(1), flags, (p) => chownPath(t, p, a.int(2), a.int(3)));
};

// --- times -----------------------------------------------------------------------------

const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

/** Two struct timespec (64-bit fields, or 32-bit on i386's utimensat) as TimeSpecs; undefined = now. */
function readTimespecs(t: Task, ptr: number, wide: boolean): [TimeSpec, TimeSpec] | Errno {
  if (ptr === 0) return ["now", "now"];
  const out: TimeSpec[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = wide ? Number(BigInt.asIntN(64, t.mm.u64(ptr + 16 * i))) : t.mm.i32(ptr + 8 * i);
    const nsec = wide ? Number(BigInt.asIntN(64, t.mm.u64(ptr + 16 * i + 8))) : t.mm.i32(ptr + 8 * i + 4);
    if (nsec === UTIME_NOW) out.push("now");
    else if (nsec === UTIME_OMIT) out.push("omit");
    else if (nsec < 0 || nsec >= 1e9) return EINVAL;
    else out.push(sec * 1000 + nsec / 1e6);
  }
  return [out[0], out[1]];
}

/** Two struct timeval (word-sized fields). */
function readTimevals(t: Task, ptr: number): [TimeSpec, TimeSpec] | Errno {
  if (ptr === 0) return ["now", "now"];
  const w = t.arch.wordSize;
  const word = (at: number) => (w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(at))) : t.mm.i32(at));
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = word(ptr + 2 * w * i), usec = word(ptr + 2 * w * i + w);
    if (usec < 0 || usec >= 1e6) return EINVAL;
    out.push(sec * 1000 + usec / 1000);
  }
  return [out[0], out[1]];
}

function doUtimensat(t: Task, a: SyscallArgs, wide: boolean): SysRet {
  const dirfd = a.int(0), pathPtr = a.ptr(1), flags = a.int(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const times = readTimespecs(t, a.ptr(2), wide);
  if (times instanceof Errno) return times;
  // A NULL path means the descriptor itself (futimens), and then no flags are allowed.
  if (pathPtr === 0) {
    if (dirfd === AT_FDCWD || flags & AT_SYMLINK_NOFOLLOW) return EINVAL;
    return onFd(t, dirfd, (p) => utimesPath(t, p, times[0], times[1]));
  }
  return onPath(t, dirfd, pathPtr, flags, (p) => utimesPath(t, p, times[0], times[1]));
}

/** Implements utimensat(2) (32-bit timespec on i386). */
export const utimensat: Handler = (t, a) => doUtimensat(t, a, t.arch.wordSize === 8);
/** Implements utimensat_time64(2) (i386). */
export const utimensat_time64: Handler = (t, a) => doUtimensat(t, a, true);

/** Implements futimesat(2). */
export const futimesat: Handler = (t, a) => {
  const times = readTimevals(t, a.ptr(2));
  if (times instanceof Errno) return times;
  if (a.ptr(1) === 0) return onFd(t, a.int(0), (p) => utimesPath(t, p, times[0], times[1]));
  return onPath(t, a.int(0), a.ptr(1), 0, (p) => utimesPath(t, p, times[0], times[1]));
};

/** Implements utimes(2). */
export const utimes: Handler = (t, a) => {
  const times = readTimevals(t, a.ptr(1));
  if (times instanceof Errno) return times;
  return onPath(t, AT_FDCWD, a.ptr(0), 0, (p) => utimesPath(t, p, times[0], times[1]));
};

/** Implements utime(2): struct utimbuf is two longs of seconds. */
export const utime: Handler = (t, a) => {
  const buf = a.ptr(1), w = t.arch.wordSize;
  let times: [TimeSpec, TimeSpec] = ["now", "now"];
  if (buf) {
    const word = (at: number) => (w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(at))) : t.mm.i32(at));
    times = [word(buf) * 1000, word(buf + w) * 1000];
  }
  return onPath(t, AT_FDCWD, a.ptr(0), 0, (p) => utimesPath(t, p, times[0], times[1]));
};

// --- truncate --------------------------------------------------------------------------

function doTruncate(t: Task, pathPtr: number, length: bigint): SysRet {
  if (length < 0n) return EINVAL;
  return onPath(t, AT_FDCWD, pathPtr, 0, (p) => truncatePath(t, p, Number(length)));
}

/** Implements truncate(2). */
export const truncate: Handler = (t, a) => doTruncate(t, a.ptr(0), BigInt(a.long(1)));
/** Implements truncate64(2) (i386): the length is a register pair. */
export const truncate64: Handler = (t, a) => doTruncate(t, a.ptr(0), a.pair64(1));
