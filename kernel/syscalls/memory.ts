/** Memory syscalls: brk, mmap/mmap2, munmap, mprotect, mremap, madvise. */
import type { Handler, SyscallArgs } from "../abi";
import { EACCES, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP, type Errno } from "../errno";
import { FileDescription, refFile, S_IFCHR, S_IFREG, unrefFile, type SysRet } from "../file";
import { DEV_ZERO } from "../vfs/devices";
import { isPathFile, VfsFile } from "../vfs/file";
import { pathOf } from "../vfs/namei";
import { writeBack } from "../writeback";
import { cachedPages, rememberPages } from "../pagecache";
import { lockedPages } from "../mlock";
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, pageUp } from "../memory";
import type { Task } from "../task";

/** mmap flags, from include/uapi/asm-generic/mman-common.h (shared by the three arches). */
const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f;
const MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_LOCKED = 0x2000, MAP_FIXED_NOREPLACE = 0x100000;
const PROT_SEM = 0x8, PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
/** LEGACY_MAP_MASK (include/linux/mman.h): every flag mmap knew before MAP_SHARED_VALIDATE, MAP_HUGE_* included. */
const LEGACY_MAP_MASK = 0x3 | 0x10 | 0x20 | 0x40 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 |
  0x40000 | 0x4000000 | (0x3f << 26);
const MADV_DONTNEED = 4, MADV_REMOVE = 9, MADV_FREE = 8;
/** Advice values Linux accepts (mm/madvise.c madvise_behavior_valid). */
const MADV_VALID = new Set([0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 100, 101]);

const aligned = (a: number): boolean => a % PAGE_SIZE === 0;
/** Whether argument `i` is page aligned, judged on its low bits: a 64-bit address past 2^53 rounds as a number. */
const alignedArg = (a: SyscallArgs, i: number): boolean => (a.uint(i) & (PAGE_SIZE - 1)) === 0;

function validProt(prot: number): boolean {
  return (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP)) === 0;
}

/** Implements brk(2). Linux returns the (possibly unchanged) break, never an errno. */
export const brk: Handler = (t, a) => {
  const mm = t.mm;
  const want = a.ptr(0);
  if (want < mm.brkStart) return mm.brkEnd;
  const oldTop = pageUp(mm.brkEnd), newTop = pageUp(want);
  if (newTop > oldTop) {
    if (!mm.isFree(oldTop, newTop)) return mm.brkEnd;
    mm.map(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE, "[heap]");
  } else if (newTop < oldTop) {
    mm.unmap(newTop, oldTop - newTop);
  }
  mm.brkEnd = want;
  return want;
};

function doMmap(t: Task, addr: number, len: number, prot: number, flags: number, fd: number, offset: number): SysRet {
  const mm = t.mm;
  // Linux's order: the offset (the arch's sys_mmap), the descriptor (ksys_mmap_pgoff), then do_mmap's checks.
  if (offset % PAGE_SIZE !== 0) return EINVAL;
  let file: FileDescription | undefined;
  let anonymous = (flags & MAP_ANONYMOUS) !== 0;
  if (!anonymous) {
    file = t.fds.get(fd);
    // fget refuses an O_PATH descriptor as it refuses a closed one.
    if (!file || isPathFile(file)) return EBADF;
  }
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return EINVAL;
  // MAP_SHARED_VALIDATE refuses flags it does not know, for a file (do_mmap); anonymous memory takes only MAP_SHARED.
  if (type === MAP_SHARED_VALIDATE && (anonymous || flags & ~LEGACY_MAP_MASK)) return anonymous ? EINVAL : EOPNOTSUPP;
  if (!validProt(prot)) return EINVAL;
  if (len === 0 || !Number.isSafeInteger(len)) return EINVAL;
  const size = pageUp(len);
  if (size > mm.layout.windowSize) return ENOMEM;

  if (file) {
    if (!file.readable) return EACCES;
    const st = file.stat();
    // /dev/zero maps as anonymous memory, private or shared (drivers/char/mem.c mmap_zero).
    if ((st.mode & 0o170000) === S_IFCHR && st.rdev === DEV_ZERO) {
      anonymous = true;
      file = undefined;
    } else if ((st.mode & 0o170000) !== S_IFREG) return ENODEV;
    else if (type !== MAP_PRIVATE && prot & PROT_WRITE && !file.writable) return EACCES;
  }

  let start: number | undefined;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (!aligned(addr)) return EINVAL;
    if (addr + size > mm.layout.windowSize) return ENOMEM;
    if (flags & MAP_FIXED_NOREPLACE && !(flags & MAP_FIXED) && !mm.isFree(addr, addr + size)) return EEXIST;
    start = addr;
  } else {
    const hint = addr - (addr % PAGE_SIZE);
    start = hint && mm.isFree(hint, hint + size) ? hint : mm.findFree(size);
    if (start === undefined) return ENOMEM;
  }
  const vprot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
  // /proc/self/maps names a file mapping by its path, and shared anonymous memory as Linux's shmem file does.
  const name = file instanceof VfsFile ? pathOf(t, file.path) ?? "" : type !== MAP_PRIVATE ? "/dev/zero (deleted)" : "";
  // Where another process already maps these file pages MAP_SHARED, this mapping is the same memory.
  const pages = type !== MAP_PRIVATE && file ? cachedPages(file, offset, size) : undefined;
  if (type === MAP_PRIVATE) mm.map(start, size, vprot, name);
  else {
    // A shared file mapping keeps its file description alive until its pages have gone back.
    if (file) refFile(file);
    mm.mapShared(start, size, vprot, name, file && { file, offset }, pages);
    if (file && !pages) rememberPages(file, mm, start, offset, size);
  }
  // MAP_LOCKED: the pages count as locked, as mlock would lock them (VmLck).
  if (flags & MAP_LOCKED) for (let p = start; p < start + size; p += PAGE_SIZE) lockedPages(mm).add(p);
  if (file && !pages) {
    const data = file.pread(t, len, offset);
    if (!(data instanceof Uint8Array)) {
      mm.unmap(start, size);
      return data;
    }
    mm.rawWrite(start, data);
  }
  return start;
}

/** Unmap [addr, addr+len), writing shared file pages back and letting go of their files. */
function unmapRange(t: Task, addr: number, len: number): void {
  writeBack(t, addr, len);
  const end = addr + len;
  const wholly = t.mm.mappings().filter((v) => v.backing && v.start >= addr && v.end <= end);
  t.mm.unmap(addr, len);
  for (const v of wholly) if (!t.mm.mappings().some((o) => o.backing?.file === v.backing!.file)) unrefFile(v.backing!.file as FileDescription);
}

/** Implements mmap(2); the offset is in bytes. */
export const mmap: Handler = (t, a) => doMmap(t, a.ptr(0), a.ulong(1), a.int(2), a.int(3), a.int(4), a.long(5));

/** Implements mmap2(2) (i386): the offset is in 4096-byte units. */
export const mmap2: Handler = (t, a) => doMmap(t, a.ptr(0), a.ulong(1), a.int(2), a.int(3), a.int(4), a.uint(5) * 4096);

/**
 * Implements the old i386 mmap(2), which takes one pointer to six longs
 * (arch/x86/kernel/sys_ia32.c: struct mmap_arg_struct32).
 */
export const oldMmap: Handler = (t, a) => {
  const p = a.ptr(0);
  const w = (i: number) => t.mm.u32(p + 4 * i);
  return doMmap(t, w(0), w(1), w(2) | 0, w(3) | 0, w(4) | 0, w(5));
};

/** Implements munmap(2). */
export const munmap: Handler = (t, a) => {
  const addr = a.ptr(0), len = a.ulong(1);
  if (!alignedArg(a, 0) || len === 0 || !Number.isSafeInteger(len)) return EINVAL;
  if (addr + len > t.mm.layout.windowSize) return EINVAL;
  unmapRange(t, addr, pageUp(len));
  return 0;
};

const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

/** Implements msync(2): shared file pages go back to their files. */
export const msync: Handler = (t, a) => {
  const addr = a.ptr(0), len = a.ulong(1), flags = a.int(2);
  if (!alignedArg(a, 0) || flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) || (flags & MS_ASYNC && flags & MS_SYNC)) return EINVAL;
  const size = pageUp(len);
  if (!t.mm.covered(addr, addr + size)) return ENOMEM;
  // Locked pages cannot be invalidated (mm/msync.c: MS_INVALIDATE on VM_LOCKED is EBUSY).
  if (flags & MS_INVALIDATE) {
    const locked = lockedPages(t.mm);
    for (let p = addr; p < addr + size; p += PAGE_SIZE) if (locked.has(p)) return EBUSY;
  }
  writeBack(t, addr, size);
  return 0;
};

/** Implements mprotect(2): ENOMEM when part of the range is unmapped. */
export const mprotect: Handler = (t, a) => {
  const addr = a.ptr(0), len = a.ulong(1), prot = a.int(2);
  if (!alignedArg(a, 0) || !validProt(prot)) return EINVAL;
  if (len === 0) return 0;
  const size = pageUp(len);
  if (addr + size > t.mm.layout.windowSize) return ENOMEM;
  // A shared mapping of a file not open for writing never may be written (no VM_MAYWRITE): EACCES.
  if (prot & PROT_WRITE && t.mm.mappings().some((v) => v.start < addr + size && v.end > addr && v.backing &&
    !(v.backing.file as FileDescription).writable)) return EACCES;
  return t.mm.protect(addr, size, prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) ? 0 : ENOMEM;
};

/** Implements mremap(2). Linux: mm/mremap.c. */
export const mremap: Handler = (t, a) => {
  const mm = t.mm;
  const old = a.ptr(0), oldLen = pageUp(a.ulong(1)), newLen = pageUp(a.ulong(2)), flags = a.int(3), newAddr = a.ptr(4);
  if (!aligned(old) || flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return EINVAL;
  if (newLen === 0) return EINVAL;
  const vma = mm.find(old);
  if (!vma || old + oldLen > vma.end) return EFAULT;
  if (flags & MREMAP_FIXED) {
    if (!aligned(newAddr)) return EINVAL;
    return move(t, old, oldLen, newLen, newAddr, vma.prot);
  }
  if (newLen <= oldLen) {
    if (newLen < oldLen) mm.unmap(old + newLen, oldLen - newLen);
    return old;
  }
  if (old + oldLen === vma.end && mm.isFree(old + oldLen, old + newLen)) {
    // Grow in place: the new tail starts zeroed, like fresh anonymous memory.
    mm.map(old + oldLen, newLen - oldLen, vma.prot, vma.name);
    return old;
  }
  if (!(flags & MREMAP_MAYMOVE)) return ENOMEM;
  const dest = mm.findFree(newLen);
  if (dest === undefined) return ENOMEM;
  return move(t, old, oldLen, newLen, dest, vma.prot);
};

function move(t: Task, old: number, oldLen: number, newLen: number, dest: number, prot: number): number | Errno {
  const mm = t.mm;
  if (dest + newLen > mm.layout.windowSize) return EINVAL;
  const data = mm.rawRead(old, Math.min(oldLen, newLen));
  mm.map(dest, newLen, prot);
  mm.rawWrite(dest, data);
  mm.unmap(old, oldLen);
  return dest;
}

/** Implements madvise(2): DONTNEED zeroes private anonymous pages; other advice is accepted. */
export const madvise: Handler = (t, a: SyscallArgs) => {
  const addr = a.ptr(0), len = a.ulong(1), advice = a.int(2);
  if (!alignedArg(a, 0) || !MADV_VALID.has(advice)) return EINVAL;
  if (len === 0) return 0;
  const size = pageUp(len);
  if (!t.mm.covered(addr, addr + size)) return ENOMEM;
  if (advice === MADV_DONTNEED || advice === MADV_REMOVE || advice === MADV_FREE) t.mm.rawZero(addr, size);
  return 0;
};
