/**
 * Small syscalls with little state of their own: membarrier, readahead,
 * restart_syscall, the i386 old stat and readdir calls, ustat, sysfs,
 * remap_file_pages, protection keys, fanotify_mark without fanotify
 * instances, and name_to_handle_at.
 */
import type { Handler, SyscallArgs } from "../abi";
import {
  EBADF, EFAULT, EINTR, EINVAL, ENOENT, ENOMEM, ENOSPC, ENOTDIR, EOPNOTSUPP, EOVERFLOW, EPERM, Errno,
} from "../errno";
import { FileDescription, S_IFREG, type StatInfo, type SysRet } from "../file";
import { PAGE_SIZE, pageDown, type AddressSpace } from "../memory";
import { cachedPages } from "../pagecache";
import type { Task } from "../task";
import { writeBack } from "../writeback";
import { DirFile, isPathFile } from "../vfs/file";
import type { Inode } from "../vfs/inode";
import { FILESYSTEMS } from "../vfs/kconfig";
import { fsOf, readPath } from "../vfs/namei";
import { lookupAt } from "../vfs/ops";
import { TmpFs } from "../vfs/tmpfs";
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, S_IFMT, bytes, major, makedev, minor } from "../vfs/types";
import { mprotect } from "./memory";

// --- membarrier -------------------------------------------------------------

/** enum membarrier_cmd, include/uapi/linux/membarrier.h. */
const MEMBARRIER_CMD_QUERY = 0, MEMBARRIER_CMD_GLOBAL = 1, MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2,
  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4, MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256;
const MEMBARRIER_CMD_FLAG_CPU = 1;
/**
 * MEMBARRIER_CMD_BITMASK of a kernel without CONFIG_RSEQ (rseq(2) is ENOSYS
 * here) on an arch with ARCH_HAS_MEMBARRIER_SYNC_CORE (x86 and arm64 both).
 */
const MEMBARRIER_SUPPORTED = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED |
  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED |
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE |
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;

/** mm->membarrier_state: which private expedited kinds the address space registered for; execve starts a fresh one. */
const membarrierReady = new WeakMap<AddressSpace, number>();

/**
 * Implements membarrier(2). Linux: kernel/sched/membarrier.c. syscage runs one
 * guest instruction stream at a time, so every barrier is already complete;
 * what remains are the argument and registration rules.
 */
export const membarrier: Handler = (t, a) => {
  const cmd = a.int(0), flags = a.uint(1);
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags & ~MEMBARRIER_CMD_FLAG_CPU : flags) return EINVAL;
  const ready = membarrierReady.get(t.mm) ?? 0;
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      return MEMBARRIER_SUPPORTED;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
      // Each kind must be registered for first (membarrier_private_expedited's EPERM).
      return ready & (cmd << 1) ? 0 : EPERM;
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
      membarrierReady.set(t.mm, ready | cmd);
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
      // !IS_ENABLED(CONFIG_RSEQ).
      return EINVAL;
    default:
      return EINVAL;
  }
};

// --- readahead, restart_syscall ---------------------------------------------

/**
 * Implements readahead(2). Linux: mm/readahead.c ksys_readahead. Every page is
 * already in memory, so once the descriptor qualifies there is nothing to do.
 * i386 passes the 64-bit offset as a register pair.
 */
export const readahead: Handler = (t, a) => {
  const f = t.fds.get(a.int(0));
  if (!f || isPathFile(f) || !f.readable) return EBADF;
  if ((f.stat().mode & S_IFMT) !== S_IFREG) return EINVAL;
  const count = t.arch.wordSize === 8 ? a.raw(2) : BigInt(a.uint(3));
  // generic_fadvise takes the count as a signed loff_t.
  return BigInt.asIntN(64, count) < 0n ? EINVAL : 0;
};

/**
 * Implements restart_syscall(2). syscage restarts an interrupted call by
 * re-running it, so no restart block is ever left behind and the call finds
 * do_no_restart_syscall: EINTR.
 */
export const restart_syscall: Handler = () => EINTR;

// --- i386 relics: oldstat, readdir ------------------------------------------

/** overflowuid/overflowgid: what a 16-bit id field shows for an id that does not fit (kernel/sys.c). */
const OVERFLOW_ID = 65534;
/** struct __old_kernel_stat (arch/x86/include/uapi/asm/stat.h): seven u16s, then size and three times as u32s. */
const OLD_STAT_SIZE = 32;

/** cp_old_stat (fs/stat.c): EOVERFLOW when the inode number, link count or (32-bit kernel) size do not fit. */
function putOldStat(t: Task, p: number, st: StatInfo | Errno): SysRet {
  if (st instanceof Errno) return st;
  if (st.ino > 0xffff || st.nlink > 0xffff || st.size > 0x7fffffff) return EOVERFLOW;
  const b = new Uint8Array(OLD_STAT_SIZE), d = new DataView(b.buffer);
  // old_encode_dev: major in the high byte, minor in the low one, cut to 16 bits.
  const oldDev = (dev: number) => ((major(dev) << 8) | minor(dev)) & 0xffff;
  const id = (v: number) => (v > 0xffff ? OVERFLOW_ID : v);
  [oldDev(st.dev), st.ino, st.mode, st.nlink, id(st.uid), id(st.gid), oldDev(st.rdev)].forEach((v, i) => d.setUint16(2 * i, v, true));
  [st.size, st.atimeMs, st.mtimeMs, st.ctimeMs].forEach((v, i) => d.setUint32(16 + 4 * i, i ? Math.floor(v / 1000) >>> 0 : v, true));
  t.mm.write(p, b);
  return 0;
}

function oldPathStat(t: Task, a: SyscallArgs, flags: number): SysRet {
  const path = readPath(t, a.ptr(0));
  if (path instanceof Errno) return path;
  const p = lookupAt(t, AT_FDCWD, path, flags);
  if (p instanceof Errno) return p;
  return putOldStat(t, a.ptr(1), p instanceof FileDescription ? p.stat() : p.d.inode.stat());
}

/** Implements oldstat(2) (i386). */
export const oldstat: Handler = (t, a) => oldPathStat(t, a, 0);
/** Implements oldlstat(2) (i386). */
export const oldlstat: Handler = (t, a) => oldPathStat(t, a, AT_SYMLINK_NOFOLLOW);
/** Implements oldfstat(2) (i386). */
export const oldfstat: Handler = (t, a) => {
  const f = t.fds.get(a.int(0));
  return putOldStat(t, a.ptr(1), f ? f.stat() : EBADF);
};

/**
 * Implements readdir(2) (i386 old_readdir, fs/readdir.c): one struct
 * old_linux_dirent { u32 d_ino; u32 d_offset; u16 d_namlen; char d_name[] }
 * per call, whatever the count; 1 for an entry, 0 at the end. d_offset is the
 * entry's own position, not the next one's.
 */
export const readdir: Handler = (t, a) => {
  const f = t.fds.get(a.int(0));
  if (!f || isPathFile(f)) return EBADF;
  if (!(f instanceof DirFile)) return ENOTDIR;
  const entries = f.entries(t);
  if (entries instanceof Errno) return entries;
  const e = entries[0];
  if (!e) return 0;
  if (e.ino > 0xffffffff) return EOVERFLOW;
  const name = bytes(e.name);
  const rec = new Uint8Array(10 + name.length + 1), d = new DataView(rec.buffer);
  d.setUint32(0, e.ino, true);
  d.setUint32(4, f.pos, true);
  d.setUint16(8, name.length, true);
  rec.set(name, 10);
  t.mm.write(a.ptr(1), rec);
  f.advance(e.next);
  return 1;
};

// --- ustat, sysfs -------------------------------------------------------------

/**
 * Implements ustat(2). Linux: fs/statfs.c. The device is any mounted
 * filesystem's (user_get_super), anonymous ones included; struct ustat is
 * { int f_tfree; unsigned long f_tinode; char f_fname[6], f_fpack[6]; }.
 */
export const ustat: Handler = (t, a) => {
  const raw = a.uint(0);
  // new_decode_dev of the 32-bit argument.
  const dev = makedev(major(raw), minor(raw));
  const mnt = fsOf(t).ns.mounts().find((m) => m.fs.dev === dev);
  if (!mnt) return EINVAL;
  const sf = mnt.fs.statfs();
  const w = t.arch.wordSize;
  const b = new Uint8Array(w === 8 ? 32 : 20), d = new DataView(b.buffer);
  d.setInt32(0, sf.bfree | 0, true);
  if (w === 8) d.setBigUint64(8, BigInt(sf.ffree), true);
  else d.setUint32(4, sf.ffree >>> 0, true);
  t.mm.write(a.ptr(1), b);
  return 0;
};

/**
 * Implements sysfs(2). Linux: fs/filesystems.c. Option 1 maps a filesystem
 * type name to its index, 2 an index to its name, 3 counts the types, over
 * the list /proc/filesystems shows.
 */
export const sysfs: Handler = (t, a) => {
  switch (a.int(0)) {
    case 1: {
      const name = readPath(t, a.ptr(1));
      if (name instanceof Errno) return name;
      // getname refuses an empty name.
      if (name === "") return ENOENT;
      const i = FILESYSTEMS.indexOf(name);
      return i >= 0 ? i : EINVAL;
    }
    case 2: {
      // fs_name takes the index as an unsigned int.
      const name = FILESYSTEMS[a.uint(1)];
      if (name === undefined) return EINVAL;
      t.mm.write(a.ptr(2), Buffer.concat([bytes(name), Buffer.of(0)]));
      return 0;
    }
    case 3:
      return FILESYSTEMS.length;
    default:
      return EINVAL;
  }
};

// --- remap_file_pages ---------------------------------------------------------

/**
 * Implements remap_file_pages(2), deprecated: Linux (mm/mmap.c) emulates it by
 * mapping the file pages at `pgoff` over the range again, MAP_SHARED|MAP_FIXED,
 * and so does this. The new pages are the file's own (the pages other
 * mappings of the file see), as the page cache makes them on Linux.
 *
 * Deviation: shared memory without a file behind it here (MAP_SHARED|MAP_ANONYMOUS,
 * System V segments) keeps no page offsets, so it cannot be rearranged: EINVAL,
 * where Linux rearranges the shmem object's pages.
 */
export const remap_file_pages: Handler = (t, a) => {
  const prot = a.ulong(2), pgoff = a.ulong(3);
  if (prot) return EINVAL;
  const start = pageDown(a.ptr(0)), size = pageDown(a.ulong(1));
  const end = start + size;
  const limit = 2 ** (8 * t.arch.wordSize);
  if (end <= start || end >= limit) return EINVAL;
  if (pgoff + size / PAGE_SIZE >= limit) return EINVAL;
  const mm = t.mm;
  const vma = mm.find(start);
  if (!vma || !vma.shared) return EINVAL;
  // The range may span several VMAs, but only adjacent pieces of the same mapping.
  let reach = vma.end;
  for (const next of mm.mappings()) {
    if (reach >= end) break;
    if (next.end <= reach) continue;
    if (next.start !== reach || next.backing?.file !== vma.backing?.file || next.prot !== vma.prot || !next.shared) return EINVAL;
    reach = next.end;
  }
  if (reach < end) return EINVAL;
  if (!vma.backing) return EINVAL;
  const file = vma.backing.file as FileDescription;
  const offset = pgoff * PAGE_SIZE;
  // What the old pages hold goes back to the file before they are replaced.
  writeBack(t, start, size);
  const pages = cachedPages(file, offset, size);
  mm.mapShared(start, size, vma.prot, vma.name, { file, offset }, pages);
  if (!pages) {
    const data = file.pread(t, size, offset);
    if (data instanceof Errno) return data;
    mm.rawWrite(start, data);
  }
  return 0;
};

// --- protection keys ----------------------------------------------------------

/** PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE: the only init_val bits (include/uapi/asm-generic/mman-common.h). */
const PKEY_ACCESS_MASK = 3;
const PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;

/**
 * Implements pkey_alloc(2). Linux: mm/mprotect.c. The CPU syscage offers has no
 * protection keys: on x86 mm_pkey_alloc finds key 0 free but
 * arch_set_user_pkey_access refuses without OSPKE (EINVAL); arm64 (6.1, no
 * ARCH_HAS_PKEYS) has the generic one key, always taken (ENOSPC).
 */
export const pkey_alloc: Handler = (t, a) => {
  if (a.ulong(0)) return EINVAL;
  if (a.ulong(1) & ~PKEY_ACCESS_MASK) return EINVAL;
  return t.arch.name === "aarch64" ? ENOSPC : EINVAL;
};

/** Implements pkey_free(2): no key is ever allocated, so none can be freed (mm_pkey_free's EINVAL). */
export const pkey_free: Handler = () => EINVAL;

/**
 * Implements pkey_mprotect(2) (mm/mprotect.c do_mprotect_pkey): mprotect's
 * checks, then the key must be allocated. Key -1 means none; the generic
 * pkeys of arm64 count key 0 as allocated, x86 without OSPKE none at all.
 */
export const pkey_mprotect: Handler = (t, a) => {
  const pkey = a.int(3);
  if (pkey === -1 || (pkey === 0 && t.arch.name === "aarch64")) return mprotect(t, a);
  const addr = a.ptr(0), len = a.ulong(1), prot = a.int(2);
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP) || addr % PAGE_SIZE) return EINVAL;
  if (len === 0) return 0;
  if (addr + len > 2 ** (8 * t.arch.wordSize)) return ENOMEM;
  // arch_validate_prot's EINVAL, then the unallocated key's: the same answer either way.
  return EINVAL;
};

// --- fanotify_mark --------------------------------------------------------------

/** fanotify_mark flags and event bits, include/uapi/linux/fanotify.h and include/linux/fanotify.h (6.1). */
const FAN_MARK_ADD = 0x1, FAN_MARK_REMOVE = 0x2, FAN_MARK_DONT_FOLLOW = 0x4, FAN_MARK_ONLYDIR = 0x8,
  FAN_MARK_MOUNT = 0x10, FAN_MARK_IGNORED_MASK = 0x20, FAN_MARK_IGNORED_SURV_MODIFY = 0x40, FAN_MARK_FLUSH = 0x80,
  FAN_MARK_FILESYSTEM = 0x100, FAN_MARK_EVICTABLE = 0x200, FAN_MARK_IGNORE = 0x400;
const FAN_MARK_TYPE_BITS = FAN_MARK_MOUNT | FAN_MARK_FILESYSTEM;
const FAN_MARK_CMD_BITS = FAN_MARK_ADD | FAN_MARK_REMOVE | FAN_MARK_FLUSH;
const FAN_MARK_IGNORE_BITS = FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORE;
const FAN_MARK_FLAGS = FAN_MARK_TYPE_BITS | FAN_MARK_CMD_BITS | FAN_MARK_IGNORE_BITS | FAN_MARK_DONT_FOLLOW |
  FAN_MARK_ONLYDIR | FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE;
/** FANOTIFY_EVENTS | FANOTIFY_EVENT_FLAGS | FANOTIFY_PERM_EVENTS (CONFIG_FANOTIFY_ACCESS_PERMISSIONS). */
const FAN_VALID_MASK = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x1000 |
  0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x08000000 | 0x10000000 | 0x40000000;

/**
 * Implements fanotify_mark(2) (fs/notify/fanotify/fanotify_user.c
 * do_fanotify_mark). fanotify_init is refused as Docker refuses it, so no
 * fanotify group exists: past the flag and mask checks, a bad descriptor is
 * EBADF and any other is not a fanotify one (EINVAL). i386 passes the 64-bit
 * mask as a register pair.
 */
export const fanotify_mark: Handler = (t, a) => {
  const fd = a.int(0), flags = a.uint(1), mask = a.pair64(2);
  const markType = flags & FAN_MARK_TYPE_BITS, cmd = flags & FAN_MARK_CMD_BITS, ignore = flags & FAN_MARK_IGNORE_BITS;
  if (mask >> 32n) return EINVAL;
  if (flags & ~FAN_MARK_FLAGS) return EINVAL;
  if (markType === FAN_MARK_TYPE_BITS) return EINVAL;
  if (cmd === FAN_MARK_ADD || cmd === FAN_MARK_REMOVE) {
    if (!mask) return EINVAL;
  } else if (cmd === FAN_MARK_FLUSH) {
    if (flags & ~(FAN_MARK_TYPE_BITS | FAN_MARK_FLUSH)) return EINVAL;
  } else return EINVAL;
  if (Number(mask) & ~FAN_VALID_MASK) return EINVAL;
  if (ignore === FAN_MARK_IGNORE_BITS) return EINVAL;
  const f = t.fds.get(fd);
  if (!f || isPathFile(f)) return EBADF;
  return EINVAL;
};

// --- name_to_handle_at ----------------------------------------------------------

/** MAX_HANDLE_SZ (include/linux/exportfs.h); FILEID_INO32_GEN and FILEID_INVALID handle types. */
const MAX_HANDLE_SZ = 128, FILEID_INO32_GEN = 1, FILEID_INVALID = 255;
/** shmem_encode_fh: three u32s, generation then the 64-bit inode number. */
const SHMEM_HANDLE_BYTES = 12;
/** i_generation, random per inode as shmem_get_inode makes it. */
const generations = new WeakMap<Inode, number>();

/**
 * Implements name_to_handle_at(2). Linux: fs/fhandle.c. tmpfs (and
 * devtmpfs) have export operations and encode handles as shmem_encode_fh
 * does; proc, the overlay of host files and anonymous files have none
 * (EOPNOTSUPP), as 6.1's overlayfs has none without nfs_export. The handles
 * are only good for open_by_handle_at, which is refused as Docker refuses it.
 */
export const name_to_handle_at: Handler = (t, a) => {
  const dirfd = a.int(0), ufh = a.ptr(2), mntId = a.ptr(3), flags = a.int(4);
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const name = readPath(t, a.ptr(1));
  if (name instanceof Errno) return name;
  const p = lookupAt(t, dirfd, name, (flags & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW) | (flags & AT_EMPTY_PATH));
  if (p instanceof Errno) return p;
  if (p instanceof FileDescription || !(p.d.inode.fs instanceof TmpFs)) return EOPNOTSUPP;
  // copy_from_user of the whole struct file_handle header (handle_bytes, handle_type).
  const room = new DataView(t.mm.read(ufh, 8).buffer).getUint32(0, true);
  if (room > MAX_HANDLE_SZ) return EINVAL;
  const inode = p.d.inode;
  let gen = generations.get(inode);
  if (gen === undefined) {
    const r = new Uint8Array(4);
    t.proc.random(r);
    generations.set(inode, (gen = new DataView(r.buffer).getUint32(0, true)));
  }
  // Room is counted in whole u32s.
  const fits = (room & ~3) >= SHMEM_HANDLE_BYTES;
  const out = new Uint8Array(8 + (fits ? SHMEM_HANDLE_BYTES : 0)), d = new DataView(out.buffer);
  d.setUint32(0, SHMEM_HANDLE_BYTES, true);
  d.setInt32(4, fits ? FILEID_INO32_GEN : FILEID_INVALID, true);
  if (fits) {
    d.setUint32(8, gen, true);
    d.setUint32(12, inode.ino >>> 0, true);
    d.setUint32(16, Math.floor(inode.ino / 2 ** 32), true);
  }
  t.mm.setU32(mntId, p.mnt.id);
  t.mm.write(ufh, out);
  return fits ? 0 : EOVERFLOW;
};
