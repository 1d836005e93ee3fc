/**
 * Syscalls on names: open and its variants, mkdir, mknod, unlink, rmdir,
 * rename, link, symlink, readlink, chdir, getcwd, chroot, umask. Handlers
 * read arguments and copy results; the VFS (kernel/vfs/ops.ts) does the rest.
 */
import type { Handler } from "../abi";
import { EAGAIN, EFAULT, EINVAL, ENAMETOOLONG, ERANGE, E2BIG, Errno } from "../errno";
import { Block, type FileDescription, type SysRet } from "../file";
import type { Task } from "../task";
import type { OpenResult } from "../vfs/inode";
import {
  fsOf, startAt, withResolve, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV,
} from "../vfs/namei";
import * as vfs from "../vfs/ops";
import { readPath } from "../vfs/ops";
import { AT_FDCWD, AT_REMOVEDIR, O_CLOEXEC, O_CREAT, O_TMPFILE_BIT, O_TRUNC, O_WRONLY, PATH_MAX,
  bytes, openFlagsFromGuest } from "../vfs/types";

/** Install what an open produced, waiting first when it must (a fifo's other end). */
function install(t: Task, r: OpenResult, cloexec: boolean): SysRet {
  if (r instanceof Block) return new Block(r.wait, () => install(t, r.retry(), cloexec), r.cancel);
  if (r instanceof Errno) return r;
  const fd = t.fds.install(r as FileDescription, cloexec);
  if (fd instanceof Errno) r.release();
  return fd;
}

/** The flags open(2) accepts; Linux ignores the others (build_open_flags masks with VALID_OPEN_FLAGS). */
const VALID_OPEN_FLAGS = 0o37777777;

function doOpen(t: Task, dirfd: number, pathPtr: number, guestFlags: number, mode: number): SysRet {
  const path = readPath(t, pathPtr);
  if (path instanceof Errno) return path;
  const flags = openFlagsFromGuest(t.arch.name, guestFlags) & VALID_OPEN_FLAGS;
  return install(t, vfs.openAt(t, dirfd, path, flags, mode), (flags & O_CLOEXEC) !== 0);
}

/** Implements open(2). */
export const open: Handler = (t, a) => doOpen(t, AT_FDCWD, a.ptr(0), a.int(1), a.uint(2));
/** Implements openat(2). */
export const openat: Handler = (t, a) => doOpen(t, a.int(0), a.ptr(1), a.int(2), a.uint(3));
/** Implements creat(2): open with O_CREAT|O_WRONLY|O_TRUNC. */
export const creat: Handler = (t, a) => doOpen(t, AT_FDCWD, a.ptr(0), O_CREAT | O_WRONLY | O_TRUNC, a.uint(1));

/** struct open_how: flags, mode, resolve (u64 each); openat2 rejects what open ignores. */
const OPEN_HOW_SIZE_VER0 = 24;
const RESOLVE_ALL = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;

/**
 * Implements openat2(2) (Linux: build_open_flags with the strict checks, and
 * the RESOLVE_* restrictions applied by the walk).
 */
export const openat2: Handler = (t, a) => {
  const size = a.ulong(3);
  if (size < OPEN_HOW_SIZE_VER0) return EINVAL;
  if (size > 4096) return E2BIG;
  const how = t.mm.read(a.ptr(2), size);
  // Bytes past the struct we know must be zero (copy_struct_from_user).
  if (how.subarray(OPEN_HOW_SIZE_VER0).some((b) => b !== 0)) return E2BIG;
  const dv = new DataView(how.buffer, how.byteOffset, OPEN_HOW_SIZE_VER0);
  const flags = dv.getBigUint64(0, true), mode = dv.getBigUint64(8, true), resolve = dv.getBigUint64(16, true);
  if (flags > 0xffffffffn) return EINVAL;
  const f = openFlagsFromGuest(t.arch.name, Number(flags));
  if (f & ~VALID_OPEN_FLAGS) return EINVAL;
  if (resolve & ~BigInt(RESOLVE_ALL)) return EINVAL;
  if (mode & ~0o7777n) return EINVAL;
  if (mode !== 0n && !(f & (O_CREAT | O_TMPFILE_BIT))) return EINVAL;
  const r = Number(resolve);
  if ((r & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) === (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) return EINVAL;
  // Everything is "cached" here, but creating or truncating never is (Linux: EAGAIN).
  if (r & RESOLVE_CACHED && f & (O_CREAT | O_TRUNC | O_TMPFILE_BIT)) return EAGAIN;
  const dirfd = a.int(0);
  const path = readPath(t, a.ptr(1));
  if (path instanceof Errno) return path;
  const base = startAt(t, dirfd);
  if (base instanceof Errno && (path[0] !== "/" || r & (RESOLVE_BENEATH | RESOLVE_IN_ROOT))) return base;
  const opened = withResolve(r, base instanceof Errno ? fsOf(t).root : base, () => vfs.openAt(t, dirfd, path, f, Number(mode)));
  return install(t, opened, (f & O_CLOEXEC) !== 0);
};

/** Run `op` on a path argument. */
function withPath(t: Task, ptr: number, op: (path: string) => SysRet): SysRet {
  const path = readPath(t, ptr);
  return path instanceof Errno ? path : op(path);
}

function withPaths(t: Task, p1: number, p2: number, op: (a: string, b: string) => SysRet): SysRet {
  const a = readPath(t, p1);
  if (a instanceof Errno) return a;
  const b = readPath(t, p2);
  return b instanceof Errno ? b : op(a, b);
}

/** Implements mkdir(2). */
export const mkdir: Handler = (t, a) => withPath(t, a.ptr(0), (p) => vfs.mkdirAt(t, AT_FDCWD, p, a.uint(1)));
/** Implements mkdirat(2). */
export const mkdirat: Handler = (t, a) => withPath(t, a.ptr(1), (p) => vfs.mkdirAt(t, a.int(0), p, a.uint(2)));

/** The dev_t argument of mknod: the new encoding (new_decode_dev), as a plain device number. */
const devArg = (dev: number): number => dev >>> 0;

/** Implements mknod(2). */
export const mknod: Handler = (t, a) => withPath(t, a.ptr(0), (p) => vfs.mknodAt(t, AT_FDCWD, p, a.uint(1), devArg(a.uint(2))));
/** Implements mknodat(2). */
export const mknodat: Handler = (t, a) => withPath(t, a.ptr(1), (p) => vfs.mknodAt(t, a.int(0), p, a.uint(2), devArg(a.uint(3))));

/** Implements unlink(2). */
export const unlink: Handler = (t, a) => withPath(t, a.ptr(0), (p) => vfs.unlinkAt(t, AT_FDCWD, p));
/** Implements rmdir(2). */
export const rmdir: Handler = (t, a) => withPath(t, a.ptr(0), (p) => vfs.rmdirAt(t, AT_FDCWD, p));

/** Implements unlinkat(2): AT_REMOVEDIR makes it rmdir. */
export const unlinkat: Handler = (t, a) => {
  const flags = a.int(2);
  if (flags & ~AT_REMOVEDIR) return EINVAL;
  return withPath(t, a.ptr(1), (p) => (flags & AT_REMOVEDIR ? vfs.rmdirAt(t, a.int(0), p) : vfs.unlinkAt(t, a.int(0), p)));
};

/** Implements rename(2). */
export const rename: Handler = (t, a) => withPaths(t, a.ptr(0), a.ptr(1), (o, n) => vfs.renameAt(t, AT_FDCWD, o, AT_FDCWD, n, 0));
/** Implements renameat(2). */
export const renameat: Handler = (t, a) => withPaths(t, a.ptr(1), a.ptr(3), (o, n) => vfs.renameAt(t, a.int(0), o, a.int(2), n, 0));
/** Implements renameat2(2). */
export const renameat2: Handler = (t, a) =>
  withPaths(t, a.ptr(1), a.ptr(3), (o, n) => vfs.renameAt(t, a.int(0), o, a.int(2), n, a.uint(4)));

/** Implements link(2). */
export const link: Handler = (t, a) => withPaths(t, a.ptr(0), a.ptr(1), (o, n) => vfs.linkAt(t, AT_FDCWD, o, AT_FDCWD, n, 0));
/** Implements linkat(2). */
export const linkat: Handler = (t, a) =>
  withPaths(t, a.ptr(1), a.ptr(3), (o, n) => vfs.linkAt(t, a.int(0), o, a.int(2), n, a.int(4)));

/** Implements symlink(2). */
export const symlink: Handler = (t, a) => withPaths(t, a.ptr(0), a.ptr(1), (target, p) => vfs.symlinkAt(t, target, AT_FDCWD, p));
/** Implements symlinkat(2). */
export const symlinkat: Handler = (t, a) => withPaths(t, a.ptr(0), a.ptr(2), (target, p) => vfs.symlinkAt(t, target, a.int(1), p));

function doReadlink(t: Task, dirfd: number, pathPtr: number, buf: number, size: number): SysRet {
  if (size <= 0) return EINVAL;
  return withPath(t, pathPtr, (p) => {
    const target = vfs.readlinkAt(t, dirfd, p);
    if (target instanceof Errno) return target;
    // readlink does not NUL-terminate and truncates silently.
    const out = bytes(target).subarray(0, size);
    t.mm.write(buf, out);
    return out.length;
  });
}

/** Implements readlink(2). */
export const readlink: Handler = (t, a) => doReadlink(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.int(2));
/** Implements readlinkat(2). */
export const readlinkat: Handler = (t, a) => doReadlink(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3));

/** Implements chdir(2). */
export const chdir: Handler = (t, a) => withPath(t, a.ptr(0), (p) => vfs.chdir(t, p));
/** Implements fchdir(2). */
export const fchdir: Handler = (t, a) => vfs.fchdir(t, a.int(0));
/** Implements chroot(2). */
export const chroot: Handler = (t, a) => withPath(t, a.ptr(0), (p) => vfs.chroot(t, p));

/** Implements getcwd(2): the length including the NUL, ERANGE when it does not fit. */
export const getcwd: Handler = (t, a) => {
  const cwd = vfs.getcwd(t);
  if (cwd instanceof Errno) return cwd;
  const out = Buffer.concat([bytes(cwd), Buffer.of(0)]);
  if (out.length > PATH_MAX) return ENAMETOOLONG;
  if (a.ulong(1) < out.length) return ERANGE;
  if (a.ptr(0) === 0) return EFAULT;
  t.mm.write(a.ptr(0), out);
  return out.length;
};

/** Implements umask(2): returns the previous mask. */
export const umask: Handler = (t, a) => {
  const ctx = fsOf(t);
  const old = ctx.umask;
  ctx.umask = a.uint(0) & 0o777;
  return old;
};

