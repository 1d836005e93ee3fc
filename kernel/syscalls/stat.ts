/** The stat family, statx and statfs. Linux: fs/stat.c, fs/statfs.c. */
import type { Handler, SyscallArgs } from "../abi";
import { EBADF, EINVAL, EOVERFLOW, Errno } from "../errno";
import { FileDescription, type StatInfo, type SysRet } from "../file";
import type { Task } from "../task";
import { VfsFile } from "../vfs/file";
import type { StatFs } from "../vfs/inode";
import type { Mount } from "../vfs/mount";
import { lookupAt, readPath } from "../vfs/ops";
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, major, minor } from "../vfs/types";

const AT_STATX_SYNC_TYPE = 0x6000;
const STAT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH;

/** What a stat call found: the attributes and, for VFS files, the mount they are on. */
interface Found { st: StatInfo; mnt?: Mount }

function statAt(t: Task, dirfd: number, pathPtr: number, flags: number): Found | Errno {
  // statx accepts a NULL path with AT_EMPTY_PATH (Linux 6.11).
  const path = pathPtr === 0 && flags & AT_EMPTY_PATH ? "" : readPath(t, pathPtr);
  if (path instanceof Errno) return path;
  const p = lookupAt(t, dirfd, path, flags);
  if (p instanceof Errno) return p;
  if (p instanceof FileDescription) return { st: p.stat() };
  return { st: p.d.inode.stat(), mnt: p.mnt };
}

function fstatOf(t: Task, fd: number): StatInfo | Errno {
  const f = t.fds.get(fd);
  return f ? f.stat() : EBADF;
}

/** The i386 struct stat has 32-bit sizes and inode numbers and a 16-bit link count (cp_new_stat's EOVERFLOW). */
function fitsOldStat(t: Task, st: StatInfo): boolean {
  if (t.arch.wordSize === 8) return true;
  return st.ino <= 0xffffffff && st.size <= 0x7fffffff && st.nlink <= 0xffff;
}

function put(t: Task, buf: number, st: StatInfo | Errno, variant: "stat" | "stat64"): SysRet {
  if (st instanceof Errno) return st;
  if (variant === "stat" && !fitsOldStat(t, st)) return EOVERFLOW;
  t.arch.writeStat(t.mm, buf, st, variant);
  return 0;
}

function pathStat(t: Task, a: SyscallArgs, flags: number, variant: "stat" | "stat64"): SysRet {
  const r = statAt(t, AT_FDCWD, a.ptr(0), flags);
  return put(t, a.ptr(1), r instanceof Errno ? r : r.st, variant);
}

function atStat(t: Task, a: SyscallArgs, variant: "stat" | "stat64"): SysRet {
  const flags = a.int(3);
  if (flags & ~STAT_FLAGS) return EINVAL;
  const r = statAt(t, a.int(0), a.ptr(1), flags);
  return put(t, a.ptr(2), r instanceof Errno ? r : r.st, variant);
}

/** Implements stat(2). */
export const stat: Handler = (t, a) => pathStat(t, a, 0, "stat");
/** Implements lstat(2). */
export const lstat: Handler = (t, a) => pathStat(t, a, AT_SYMLINK_NOFOLLOW, "stat");
/** Implements fstat(2). */
export const fstat: Handler = (t, a) => put(t, a.ptr(1), fstatOf(t, a.int(0)), "stat");
/** Implements stat64(2) (i386). */
export const stat64: Handler = (t, a) => pathStat(t, a, 0, "stat64");
/** Implements lstat64(2) (i386). */
export const lstat64: Handler = (t, a) => pathStat(t, a, AT_SYMLINK_NOFOLLOW, "stat64");
/** Implements fstat64(2) (i386). */
export const fstat64: Handler = (t, a) => put(t, a.ptr(1), fstatOf(t, a.int(0)), "stat64");
/** Implements newfstatat(2). */
export const newfstatat: Handler = (t, a) => atStat(t, a, "stat");
/** Implements fstatat64(2) (i386). */
export const fstatat64: Handler = (t, a) => atStat(t, a, "stat64");

/** statx mask bits, include/uapi/linux/stat.h. */
const STATX_BASIC_STATS = 0x7ff, STATX_MNT_ID = 0x1000, STATX__RESERVED = 0x80000000;
const STATX_SIZE = 256;

/** Implements statx(2); struct statx is the same on every arch. */
export const statx: Handler = (t, a) => {
  const flags = a.int(2), mask = a.uint(3);
  if (flags & ~(STAT_FLAGS | AT_STATX_SYNC_TYPE)) return EINVAL;
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) return EINVAL;
  if (mask & STATX__RESERVED) return EINVAL;
  const r = statAt(t, a.int(0), a.ptr(1), flags);
  if (r instanceof Errno) return r;
  const { st, mnt } = r;
  const buf = new Uint8Array(STATX_SIZE);
  const dv = new DataView(buf.buffer);
  const ts = (off: number, ms: number) => {
    const sec = Math.floor(ms / 1000);
    dv.setBigInt64(off, BigInt(sec), true);
    dv.setUint32(off + 8, Math.floor((ms - sec * 1000) * 1e6), true);
  };
  dv.setUint32(0, STATX_BASIC_STATS | (mnt ? STATX_MNT_ID : 0), true);
  dv.setUint32(4, st.blksize, true);
  dv.setUint32(16, st.nlink, true);
  dv.setUint32(20, st.uid, true);
  dv.setUint32(24, st.gid, true);
  dv.setUint16(28, st.mode, true);
  dv.setBigUint64(32, BigInt(st.ino), true);
  dv.setBigUint64(40, BigInt(st.size), true);
  dv.setBigUint64(48, BigInt(st.blocks), true);
  ts(64, st.atimeMs);
  ts(96, st.ctimeMs);
  ts(112, st.mtimeMs);
  dv.setUint32(128, major(st.rdev), true);
  dv.setUint32(132, minor(st.rdev), true);
  dv.setUint32(136, major(st.dev), true);
  dv.setUint32(140, minor(st.dev), true);
  if (mnt) dv.setBigUint64(144, BigInt(mnt.id), true);
  t.mm.write(a.ptr(4), buf);
  return 0;
};

// --- statfs -----------------------------------------------------------------------

interface FsFound { sf: StatFs; flags: number; dev: number }

/** A pipe, socket or host stream has no filesystem of ours: report what Linux's pipefs/sockfs would. */
const PIPEFS_MAGIC = 0x50495045;

function fsFound(found: VfsFile | { mnt: Mount } | FileDescription): FsFound {
  if (found instanceof VfsFile || !(found instanceof FileDescription)) {
    const mnt = found instanceof VfsFile ? found.path.mnt : found.mnt;
    return { sf: mnt.fs.statfs(), flags: mnt.stFlags(), dev: mnt.fs.dev };
  }
  return { sf: { type: PIPEFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255 },
    flags: 0, dev: 0 };
}

function statfsPath(t: Task, pathPtr: number): FsFound | Errno {
  const path = readPath(t, pathPtr);
  if (path instanceof Errno) return path;
  const p = lookupAt(t, AT_FDCWD, path, 0);
  if (p instanceof Errno) return p;
  return fsFound(p instanceof FileDescription ? p : { mnt: p.mnt });
}

function statfsFd(t: Task, fd: number): FsFound | Errno {
  const f = t.fds.get(fd);
  return f ? fsFound(f) : EBADF;
}

/** struct statfs: every field a long (64-bit arches) or 32-bit (i386's, with EOVERFLOW past 2^32). */
function putStatfs(t: Task, buf: number, r: FsFound | Errno): SysRet {
  if (r instanceof Errno) return r;
  const { sf } = r;
  const w = t.arch.wordSize;
  const fields = [sf.type, sf.bsize, sf.blocks, sf.bfree, sf.bavail, sf.files, sf.ffree];
  if (w === 4 && fields.some((v) => v > 0xffffffff)) return EOVERFLOW;
  const out = new Uint8Array(w === 8 ? 120 : 64);
  const dv = new DataView(out.buffer);
  const set = (i: number, v: number) => (w === 8 ? dv.setBigUint64(i * 8, BigInt(v), true) : dv.setUint32(i * 4, v >>> 0, true));
  fields.forEach((v, i) => set(i, v));
  dv.setUint32(7 * w, r.dev >>> 0, true);
  dv.setUint32(7 * w + 4, 0, true);
  set(8, sf.namelen);
  set(9, sf.bsize);
  set(10, r.flags);
  t.mm.write(buf, out);
  return 0;
}

/** i386 struct statfs64: 84 bytes, packed to 4 (arch/x86/include/uapi/asm/statfs.h). */
const STATFS64_SIZE = 84;

function putStatfs64(t: Task, size: number, buf: number, r: FsFound | Errno): SysRet {
  if (size !== STATFS64_SIZE) return EINVAL;
  if (r instanceof Errno) return r;
  const { sf } = r;
  const out = new Uint8Array(STATFS64_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, sf.type, true);
  dv.setUint32(4, sf.bsize, true);
  [sf.blocks, sf.bfree, sf.bavail, sf.files, sf.ffree].forEach((v, i) => dv.setBigUint64(8 + 8 * i, BigInt(v), true));
  dv.setUint32(48, r.dev >>> 0, true);
  dv.setUint32(56, sf.namelen, true);
  dv.setUint32(60, sf.bsize, true);
  dv.setUint32(64, r.flags, true);
  t.mm.write(buf, out);
  return 0;
}

/** Implements statfs(2). */
export const statfs: Handler = (t, a) => putStatfs(t, a.ptr(1), statfsPath(t, a.ptr(0)));
/** Implements fstatfs(2). */
export const fstatfs: Handler = (t, a) => putStatfs(t, a.ptr(1), statfsFd(t, a.int(0)));
/** Implements statfs64(2) (i386): the struct size is an argument. */
export const statfs64: Handler = (t, a) => putStatfs64(t, a.uint(1), a.ptr(2), statfsPath(t, a.ptr(0)));
/** Implements fstatfs64(2) (i386). */
export const fstatfs64: Handler = (t, a) => putStatfs64(t, a.uint(1), a.ptr(2), statfsFd(t, a.int(0)));
