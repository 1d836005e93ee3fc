/**
 * Small process and system calls: sysinfo, personality, getcpu, setfsuid and
 * setfsgid, the mlock family and mincore, i386's sgetmask/ssetmask, and
 * get_robust_list. Linux: kernel/sys.c, kernel/exec_domain.c, mm/mlock.c,
 * mm/mincore.c, kernel/signal.c, kernel/futex/syscalls.c.
 */
import type { Handler } from "../abi";
import { capable, CAP_SETGID, CAP_SETUID } from "../capability";
import { EFAULT, EINVAL, ENOMEM, EPERM, ESRCH } from "../errno";
import type { SysRet } from "../file";
import { PAGE_SIZE } from "../memory";
import { lockedPages } from "../mlock";
import { hasDeliverable, UNBLOCKABLE } from "../signal";
import type { Task } from "../task";

const CAP_IPC_LOCK = 14, CAP_SYS_PTRACE = 19;
const RLIMIT_MEMLOCK = 8;
const INVALID_ID = 0xffffffff;

/** The machine /proc/meminfo describes: 4 GiB, half of it free, no swap. */
const TOTAL_RAM_PAGES = (4 * 1024 * 1024 * 1024) / PAGE_SIZE;
/** /proc/uptime's clock: the sandbox counts as booted a second before its first process. */
const bootTime = Date.now() - 1000;

/**
 * Implements sysinfo(2). Memory is counted in pages and turned into bytes
 * unless that overflows an unsigned long, as do_sysinfo does: a 32-bit guest
 * sees mem_unit 4096.
 */
export const sysinfo: Handler = (t, a) => {
  const w = t.arch.wordSize;
  const fits = BigInt(TOTAL_RAM_PAGES) * BigInt(PAGE_SIZE) < 1n << BigInt(8 * w);
  const unit = fits ? 1 : PAGE_SIZE, scale = fits ? PAGE_SIZE : 1;
  const b = new Uint8Array(w === 8 ? 112 : 64), d = new DataView(b.buffer);
  const put = (i: number, v: number) => (w === 8 ? d.setBigUint64(8 * i, BigInt(v), true) : d.setUint32(4 * i, v, true));
  put(0, Math.ceil((Date.now() - bootTime) / 1000)); // uptime, rounded up as do_sysinfo does; loads[3] stay 0
  put(4, TOTAL_RAM_PAGES * scale); // totalram
  put(5, (TOTAL_RAM_PAGES / 2) * scale); // freeram; sharedram, bufferram, totalswap, freeswap stay 0
  d.setUint16(10 * w, Math.min(0xffff, t.kernel.processes.tasks.size), true); // procs
  d.setUint32(w === 8 ? 104 : 52, unit, true); // mem_unit, after totalhigh and freehigh
  t.mm.write(a.ptr(0), b);
  return 0;
};

/** Implements personality(2): 0xffffffff only asks; fork and execve keep the value. */
export const personality: Handler = (t, a) => {
  const old = t.proc.personality ?? 0;
  if (a.uint(0) !== INVALID_ID) t.proc.personality = a.uint(0);
  return old;
};

/** Implements getcpu(2): the guest has one CPU on one node. */
export const getcpu: Handler = (t, a) => {
  if (a.ptr(0)) t.mm.setU32(a.ptr(0), 0);
  if (a.ptr(1)) t.mm.setU32(a.ptr(1), 0);
  return 0;
};

/** __sys_setfsuid: the old fsuid whatever happens; the new one must be one of the caller's ids unless it has CAP_SETUID. */
function doSetfsuid(t: Task, uid: number): number {
  const p = t.proc, old = p.fsuid ?? p.euid;
  if (uid === INVALID_ID) return old;
  const own = [p.uid, p.euid, p.suid ?? p.uid, old].includes(uid);
  if (own || capable(p, CAP_SETUID)) p.fsuid = uid;
  return old;
}

/** __sys_setfsgid. */
function doSetfsgid(t: Task, gid: number): number {
  const p = t.proc, old = p.fsgid ?? p.egid;
  if (gid === INVALID_ID) return old;
  const own = [p.gid, p.egid, p.sgid ?? p.gid, old].includes(gid);
  if (own || capable(p, CAP_SETGID)) p.fsgid = gid;
  return old;
}

/** Implements setfsuid(2) and i386's setfsuid32; i386's 16-bit setfsuid is in uid16.ts. */
export const setfsuid: Handler = (t, a) => doSetfsuid(t, a.uint(0));
/** Implements setfsgid(2) and i386's setfsgid32. */
export const setfsgid: Handler = (t, a) => doSetfsgid(t, a.uint(0));
export const setfsuid32 = setfsuid, setfsgid32 = setfsgid;

/** mlock flags, include/uapi/asm-generic/mman-common.h and mman.h. */
const MLOCK_ONFAULT = 1, MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;


const memlockLimit = (t: Task): bigint => t.proc.rlimits.get(RLIMIT_MEMLOCK)?.[0] ?? 0n;
/** can_do_mlock. */
const canMlock = (t: Task): boolean => memlockLimit(t) !== 0n || capable(t.proc, CAP_IPC_LOCK);
/**
 * The page-aligned range mlock and munlock work on: the start rounded down and
 * the length rounded up to cover it, in the arch's unsigned long, so a length
 * near the top wraps as it does in Linux (PAGE_ALIGN), and an end past the top
 * comes back below the start.
 */
function pageRange(t: Task, addr: bigint, len: bigint): [number, number] {
  const top = 1n << BigInt(8 * t.arch.wordSize), page = BigInt(PAGE_SIZE);
  const offset = addr % page, start = addr - offset;
  const aligned = ((len + offset + page - 1n) % top) & ~(page - 1n);
  return [Number(start), Number((start + aligned) % top)];
}

/** apply_vma_lock_flags: every page of the range must be mapped. */
function applyLock(t: Task, start: number, end: number, lock: boolean): SysRet {
  if (end < start) return EINVAL;
  if (end === start) return 0;
  if (!t.mm.covered(start, end)) return ENOMEM;
  const set = lockedPages(t.mm);
  for (let page = start; page < end; page += PAGE_SIZE) {
    if (lock) set.add(page);
    else set.delete(page);
  }
  return 0;
}

/** do_mlock: RLIMIT_MEMLOCK bounds the locked pages unless CAP_IPC_LOCK; pages locked already count once. */
function doMlock(t: Task, addr: bigint, len: bigint): SysRet {
  if (!canMlock(t)) return EPERM;
  const [start, end] = pageRange(t, addr, len);
  const set = lockedPages(t.mm);
  let again = 0;
  for (const page of set) if (page >= start && page < end) again++;
  const locked = BigInt(Math.max(0, end - start) / PAGE_SIZE + set.size - again);
  if (locked > memlockLimit(t) / BigInt(PAGE_SIZE) && !capable(t.proc, CAP_IPC_LOCK)) return ENOMEM;
  return applyLock(t, start, end, true);
}

/** Implements mlock(2). Pages are always resident in syscage, so locking only records the range. */
export const mlock: Handler = (t, a) => doMlock(t, a.raw(0), a.raw(1));

/** Implements mlock2(2): MLOCK_ONFAULT is the only flag. */
export const mlock2: Handler = (t, a) => (a.uint(2) & ~MLOCK_ONFAULT ? EINVAL : doMlock(t, a.raw(0), a.raw(1)));

/** Implements munlock(2). */
export const munlock: Handler = (t, a) => {
  const [start, end] = pageRange(t, a.raw(0), a.raw(1));
  return applyLock(t, start, end, false);
};

/**
 * Implements mlockall(2). MCL_CURRENT locks what is mapped now and must fit
 * RLIMIT_MEMLOCK; MCL_FUTURE is accepted, and as pages never leave memory
 * here it changes nothing the guest can see.
 */
export const mlockall: Handler = (t, a) => {
  const flags = a.int(0);
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) return EINVAL;
  if (!canMlock(t)) return EPERM;
  if (!(flags & MCL_CURRENT)) return 0;
  const total = t.mm.mappings().reduce((n, v) => n + (v.end - v.start) / PAGE_SIZE, 0);
  if (BigInt(total) > memlockLimit(t) / BigInt(PAGE_SIZE) && !capable(t.proc, CAP_IPC_LOCK)) return ENOMEM;
  for (const v of t.mm.mappings()) applyLock(t, v.start, v.end, true);
  return 0;
};

/** Implements munlockall(2). */
export const munlockall: Handler = (t) => {
  lockedPages(t.mm).clear();
  return 0;
};

/**
 * Implements mincore(2): every mapped page is resident (syscage never pages
 * out). An unmapped page ends the walk with ENOMEM after the pages before it
 * are reported, as do_mincore does one mapping at a time.
 */
export const mincore: Handler = (t, a) => {
  const start = a.ptr(0), len = a.ulong(1), vec = a.ptr(2);
  if (start % PAGE_SIZE) return EINVAL;
  const limit = t.mm.layout.windowSize;
  if (start + len > limit) return ENOMEM;
  const pages = Math.ceil(len / PAGE_SIZE);
  if (vec + pages > limit) return EFAULT;
  let done = 0;
  while (done < pages) {
    const v = t.mm.find(start + done * PAGE_SIZE);
    if (!v) return ENOMEM;
    const n = Math.min(pages - done, (v.end - (start + done * PAGE_SIZE)) / PAGE_SIZE);
    t.mm.write(vec + done, new Uint8Array(n).fill(1));
    done += n;
  }
  return 0;
};

/** Implements sgetmask(2) (i386): the first 32 signals of the blocked mask. */
export const sgetmask: Handler = (t) => Number(t.sigmask & 0xffffffffn) | 0;

/** Implements ssetmask(2) (i386): the new mask replaces the whole set, so signals 33-64 are unblocked. */
export const ssetmask: Handler = (t, a) => {
  const old = Number(t.sigmask & 0xffffffffn) | 0;
  t.sigmask = BigInt(a.uint(0)) & ~UNBLOCKABLE;
  if (hasDeliverable(t)) t.reschedule = true;
  return old;
};

/**
 * Implements get_robust_list(2). Another task's list needs ptrace access:
 * CAP_SYS_PTRACE, or the caller's real ids matching all of the target's.
 */
export const get_robust_list: Handler = (t, a) => {
  const pid = a.int(0);
  const target = pid === 0 ? t : t.kernel.processes.tasks.get(pid);
  if (!target || target.exit) return ESRCH;
  if (!mayPtraceRead(t, target)) return EPERM;
  const w = t.arch.wordSize;
  const put = (p: number, v: number) => (w === 8 ? t.mm.setU64(p, v) : t.mm.setU32(p, v));
  put(a.ptr(2), 3 * w); // sizeof(struct robust_list_head)
  put(a.ptr(1), target.robustList);
  return 0;
};

/** __ptrace_may_access with PTRACE_MODE_REALCREDS, for a reader. */
function mayPtraceRead(t: Task, target: Task): boolean {
  if (target.group === t.group || capable(t.proc, CAP_SYS_PTRACE)) return true;
  const me = t.proc, it = target.proc;
  const uids = [it.uid, it.euid, it.suid ?? it.uid], gids = [it.gid, it.egid, it.sgid ?? it.gid];
  return uids.every((u) => u === me.uid) && gids.every((g) => g === me.gid);
}
