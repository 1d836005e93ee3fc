/**
 * Whole-file operations on descriptors: sendfile, copy_file_range,
 * fallocate, fadvise, the sync family, flock, memfd_create.
 * Linux: fs/read_write.c, fs/open.c, mm/fadvise.c, fs/sync.c, fs/locks.c, mm/memfd.c.
 */
import type { Handler, SyscallArgs } from "../abi";
import { EBADF, EFAULT, EINVAL, EISDIR, ENODEV, EOPNOTSUPP, ESPIPE, Errno } from "../errno";
import { Block, type FileDescription, type SysRet, S_IFIFO, S_IFSOCK } from "../file";
import type { Task } from "../task";
import { DirFile, isPathFile, RegularFile } from "../vfs/file";
import { flock as lockFile, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from "../vfs/locks";
import { createMemfd } from "../vfs/memfd";
import { readPath } from "../vfs/ops";
import { O_APPEND } from "../vfs/types";

/** Linux caps one transfer at MAX_RW_COUNT. */
const MAX_RW_COUNT = 0x7ffff000;
const CHUNK = 1 << 20;

function fileOf(t: Task, fd: number): FileDescription | Errno {
  const f = t.fds.get(fd);
  return f && !isPathFile(f) ? f : EBADF;
}

/**
 * Copy up to `count` bytes from `src` (at `offset`, or its own position when
 * undefined) to `dst` at its position; returns the bytes copied and the new offset.
 */
function transfer(t: Task, src: FileDescription, dst: FileDescription, offset: number | undefined, count: number): { n: number; offset?: number } | Errno {
  let done = 0;
  let off = offset;
  while (done < count) {
    const want = Math.min(CHUNK, count - done);
    const r = off === undefined ? src.read(t, want) : src.pread(t, want, off);
    if (r instanceof Block) return done > 0 ? { n: done, offset: off } : EOPNOTSUPP;
    if (r instanceof Errno) return done > 0 ? { n: done, offset: off } : r;
    if (r.length === 0) break;
    const w = dst.write(t, r);
    if (w instanceof Block || w instanceof Errno) return done > 0 ? { n: done, offset: off } : w instanceof Errno ? w : EOPNOTSUPP;
    done += w;
    if (off !== undefined) off += w;
    if (w < r.length) break;
  }
  return { n: done, offset: off };
}

function doSendfile(t: Task, a: SyscallArgs, wideOffset: boolean): SysRet {
  const out = fileOf(t, a.int(0)), inp = fileOf(t, a.int(1));
  if (out instanceof Errno) return out;
  if (inp instanceof Errno) return inp;
  if (!inp.readable || !out.writable) return EBADF;
  if (out.flags & O_APPEND) return EINVAL;
  const offPtr = a.ptr(2);
  let offset: number | undefined;
  if (offPtr) {
    offset = wideOffset ? Number(BigInt.asIntN(64, t.mm.u64(offPtr))) : t.mm.i32(offPtr);
    if (offset < 0) return EINVAL;
  }
  const count = Math.min(a.ulong(3), MAX_RW_COUNT);
  const r = transfer(t, inp, out, offset, count);
  if (r instanceof Errno || r instanceof Block) return r;
  if (offPtr) {
    if (wideOffset) t.mm.setU64(offPtr, BigInt(r.offset!));
    else t.mm.setU32(offPtr, r.offset!);
  }
  return r.n;
}

/** Implements sendfile(2) (off_t is 32-bit on i386). */
export const sendfile: Handler = (t, a) => doSendfile(t, a, t.arch.wordSize === 8);
/** Implements sendfile64(2) (i386). */
export const sendfile64: Handler = (t, a) => doSendfile(t, a, true);

/** Implements copy_file_range(2) between regular files (Linux: vfs_copy_file_range's checks). */
export const copy_file_range: Handler = (t, a) => {
  if (a.uint(5) !== 0) return EINVAL;
  const inp = fileOf(t, a.int(0)), out = fileOf(t, a.int(2));
  if (inp instanceof Errno) return inp;
  if (out instanceof Errno) return out;
  if (inp instanceof DirFile || out instanceof DirFile) return EISDIR;
  if (!(inp instanceof RegularFile) || !(out instanceof RegularFile)) return EINVAL;
  if (!inp.readable || !out.writable || out.flags & O_APPEND) return EBADF;
  const inPtr = a.ptr(1), outPtr = a.ptr(3);
  const inOff = inPtr ? Number(BigInt.asIntN(64, t.mm.u64(inPtr))) : inp.pos;
  const outOff = outPtr ? Number(BigInt.asIntN(64, t.mm.u64(outPtr))) : out.pos;
  if (inOff < 0 || outOff < 0) return EINVAL;
  const len = Math.min(a.ulong(4), MAX_RW_COUNT);
  if (inp.inode === out.inode && inOff < outOff + len && outOff < inOff + len) return EINVAL;
  let done = 0;
  while (done < len) {
    const chunk = inp.pread(t, Math.min(CHUNK, len - done), inOff + done);
    if (chunk instanceof Errno) { if (done) break; return chunk; }
    if (chunk.length === 0) break;
    const w = out.pwrite(t, chunk, outOff + done);
    if (w instanceof Errno) { if (done) break; return w; }
    done += w;
    if (w < chunk.length) break;
  }
  if (inPtr) t.mm.setU64(inPtr, BigInt(inOff + done)); else inp.pos += done;
  if (outPtr) t.mm.setU64(outPtr, BigInt(outOff + done)); else out.pos += done;
  return done;
};

const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;

/** Implements fallocate(2): reserving is extending (tmpfs has no reservations); punching and zeroing write zeros. */
function doFallocate(t: Task, fd: number, mode: number, offset: number, len: number): SysRet {
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  if (offset < 0 || len <= 0) return EINVAL;
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) return EOPNOTSUPP;
  if (mode & FALLOC_FL_PUNCH_HOLE && !(mode & FALLOC_FL_KEEP_SIZE)) return EINVAL;
  if (!f.writable) return EBADF;
  if (f instanceof DirFile) return EISDIR;
  const type = f.stat().mode & 0o170000;
  if (type === S_IFIFO || type === S_IFSOCK) return ESPIPE;
  if (!(f instanceof RegularFile)) return ENODEV;
  const size = f.data.size();
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
    const end = mode & FALLOC_FL_KEEP_SIZE ? Math.min(offset + len, size) : offset + len;
    for (let at = offset; at < end; at += CHUNK) {
      const w = f.data.write(at, new Uint8Array(Math.min(CHUNK, end - at)));
      if (w instanceof Errno) return w;
    }
    return 0;
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > size) return f.data.truncate(offset + len);
  return 0;
}

/** Implements fallocate(2); i386 passes offset and length as register pairs. */
export const fallocate: Handler = (t, a) =>
  a.wordSize === 8
    ? doFallocate(t, a.int(0), a.int(1), a.long(2), a.long(3))
    : doFallocate(t, a.int(0), a.int(1), Number(a.pair64(2)), Number(a.pair64(4)));

const POSIX_FADV_NOREUSE = 5;

function doFadvise(t: Task, fd: number, len: number, advice: number): SysRet {
  const f = fileOf(t, fd);
  if (f instanceof Errno) return f;
  const type = f.stat().mode & 0o170000;
  if (type === S_IFIFO) return ESPIPE;
  if (advice < 0 || advice > POSIX_FADV_NOREUSE || len < 0) return EINVAL;
  return 0;
}

/** Implements fadvise64(2): advice is accepted and has no effect. i386 passes (fd, offset pair, len, advice). */
export const fadvise64: Handler = (t, a) =>
  a.wordSize === 8 ? doFadvise(t, a.int(0), a.long(2), a.int(3)) : doFadvise(t, a.int(0), a.int(3), a.int(4));
/** Implements fadvise64_64(2) (i386): (fd, offset pair, len pair, advice). */
export const fadvise64_64: Handler = (t, a) => doFadvise(t, a.int(0), Number(a.pair64(3)), a.int(5));

/** Implements sync(2): nothing is cached on the way to the host. */
export const sync: Handler = () => 0;

/** Implements syncfs(2). */
export const syncfs: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  return f instanceof Errno ? f : 0;
};

const SYNC_FILE_RANGE_VALID = 7;

/** Implements sync_file_range(2) (i386 and aarch64 pass the same arguments in other registers; the checks are what matter). */
export const sync_file_range: Handler = (t, a) => {
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  const flags = a.wordSize === 8 ? a.uint(3) : a.uint(5);
  if (flags & ~SYNC_FILE_RANGE_VALID) return EINVAL;
  const type = f.stat().mode & 0o170000;
  if (type !== 0o100000 && type !== 0o040000 && type !== 0o060000 && type !== 0o120000) return ESPIPE;
  return 0;
};

/** Implements flock(2). */
export const flock: Handler = (t, a) => {
  const f = t.fds.get(a.int(0));
  if (!f) return EBADF;
  const op = a.int(1);
  const kind = op & ~LOCK_NB;
  if (kind !== LOCK_SH && kind !== LOCK_EX && kind !== LOCK_UN) return EINVAL;
  if (isPathFile(f)) return EBADF;
  return lockFile(f, op);
};

const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
/** The longest memfd name: NAME_MAX minus the "memfd:" prefix. */
const MFD_NAME_MAX = 249;

/** Implements memfd_create(2). */
export const memfd_create: Handler = (t, a) => {
  const flags = a.uint(1);
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) return EINVAL;
  if (flags & MFD_HUGETLB) return EINVAL;
  if ((flags & (MFD_NOEXEC_SEAL | MFD_EXEC)) === (MFD_NOEXEC_SEAL | MFD_EXEC)) return EINVAL;
  const name = readPath(t, a.ptr(0));
  if (name instanceof Errno) return name === EFAULT ? EFAULT : EINVAL;
  if (name.length > MFD_NAME_MAX) return EINVAL;
  const file = createMemfd(name, (flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL)) !== 0, t.proc.euid, t.proc.egid, t.arch.wordSize);
  const fd = t.fds.install(file, (flags & MFD_CLOEXEC) !== 0);
  return fd;
};


