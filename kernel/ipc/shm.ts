/**
 * System V shared memory: shmget, shmat, shmdt, shmctl. Linux: ipc/shm.c.
 *
 * A segment's pages are one host shared memory object that every attach maps
 * (AddressSpace.mapSysv), so all processes see the same bytes; the segment
 * holds it from its first attach until it is destroyed. shm_nattch is counted
 * from the attaches the live address spaces hold — fork copies them, exit,
 * execve and munmap drop them — rather than by open/close hooks, and a segment
 * removed with IPC_RMID goes when a count finds it unattached.
 */
import type { Handler } from "../abi";
import { capable } from "../capability";
import { EACCES, EINVAL, ENOMEM, ENOSPC, EPERM, Errno } from "../errno";
import type { SysRet } from "../file";
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, pageUp, type AddressSpace, type SharedMemory } from "../memory";
import type { Task } from "../task";
import {
  CAP_IPC_LOCK, ctlAllowed, IPC_64, IPC_INFO, IPC_PRIVATE, IPC_RMID, IPC_SET, IPC_STAT, ipcget, ipcOf, ipcperms, IpcPerm,
  now, S_IRUGO, S_IWUGO, S_IXUGO, updatePerm, type IpcNamespace,
} from "./namespace";
import { readShmSet, shmidBytes, shmInfoBytes, shminfoBytes, type Version } from "./layout";

/** include/uapi/linux/shm.h. */
const SHM_HUGETLB = 0o4000, SHM_RDONLY = 0o10000, SHM_RND = 0o20000, SHM_REMAP = 0o40000, SHM_EXEC = 0o100000;
const SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
/** Mode bits beyond the permissions: IPC_RMID waits for the last detach; SHM_LOCK held. */
const SHM_DEST = 0o1000, SHM_LOCKED = 0o2000;
const SHMMIN = 1;
/** SHMLBA: the page size on the three arches (arm64's 16 KiB applies only to its compat tasks). */
const SHMLBA = PAGE_SIZE;
const RLIMIT_MEMLOCK = 8;

export class ShmSegment {
  /** The host memory every attach maps, made by the first shmat. */
  mem: SharedMemory | undefined;
  atime = 0; dtime = 0; ctime = now();
  lpid = 0;
  constructor(readonly perm: IpcPerm, readonly size: number, readonly cpid: number) {}
  get pages(): number { return Math.ceil(this.size / PAGE_SIZE); }
  /** Resident pages: every page once the memory exists (it was attached); nothing is ever swapped. */
  get rssPages(): number { return this.mem ? this.pages : 0; }
}

/** The address spaces of the sandbox's live processes, each once (a vfork child shares its parent's). */
function addressSpaces(t: Task): Set<AddressSpace> {
  const out = new Set<AddressSpace>([t.mm]);
  for (const g of t.kernel?.processes.groups.values() ?? []) {
    if (g.exit) continue;
    const first = g.threads.values().next().value;
    if (first) out.add(first.mm);
  }
  return out;
}

/** shm_nattch: every address space counts each distinct attach of the segment it still maps. */
export function nattch(t: Task, seg: ShmSegment): number {
  let n = 0;
  for (const mm of addressSpaces(t)) {
    n += new Set(mm.mappings().filter((v) => v.sysv?.segment === seg).map((v) => v.sysv)).size;
  }
  return n;
}

function destroy(ns: IpcNamespace, seg: ShmSegment): void {
  ns.shm.remove(seg);
  ns.shmTot -= seg.pages;
  seg.mem?.release();
  seg.mem = undefined;
}

/** shm_may_destroy, run before each call: segments marked SHM_DEST that nothing maps any more go. */
export function reap(t: Task, ns: IpcNamespace): void {
  for (const seg of ns.shm.all()) if (seg.perm.mode & SHM_DEST && nattch(t, seg) === 0) destroy(ns, seg);
}

/** ksys_shmget: newseg's size checks, shm_more_checks for an existing key. */
export function doShmget(t: Task, key: number, size: number, flg: number): SysRet {
  const ns = ipcOf(t);
  reap(t, ns);
  return ipcget(t, ns.shm, key, flg, () => {
    if (size < SHMMIN || BigInt(size) > ns.shmMax) return EINVAL;
    const pages = Math.ceil(size / PAGE_SIZE);
    if (BigInt(ns.shmTot + pages) > ns.shmAll) return ENOSPC;
    // hugetlb_file_setup: EPERM outside CAP_IPC_LOCK and hugetlb_shm_group (0); then no huge page is reserved (nr_hugepages 0).
    if (flg & SHM_HUGETLB) {
      const inGroup0 = t.proc.egid === 0 || (t.proc.groups ?? []).includes(0);
      return capable(t.proc, CAP_IPC_LOCK) || inGroup0 ? ENOMEM : EPERM;
    }
    const seg = new ShmSegment(new IpcPerm(key, flg & 0o777, t), size, t.pid);
    const id = ns.shm.add(seg, ns.shmMni);
    if (!(id instanceof Errno)) ns.shmTot += pages;
    return id;
  }, (seg) => (seg.size < size ? EINVAL : undefined));
}

/** Implements shmget(2). */
export const shmget: Handler = (t, a) => doShmget(t, a.int(0), a.ulong(1), a.int(2));

/** do_shmat: the address rules, the permission the access needs, then a mapping of the segment's memory. */
export function doShmat(t: Task, shmid: number, shmaddr: number, flg: number): SysRet {
  if (shmid < 0) return EINVAL;
  let addr = shmaddr;
  if (addr) {
    if (addr % SHMLBA) {
      if (!(flg & SHM_RND)) return EINVAL;
      addr -= addr % SHMLBA;
      if (!addr && flg & SHM_REMAP) return EINVAL;
    }
  } else if (flg & SHM_REMAP) return EINVAL;
  let prot = PROT_READ, acc = S_IRUGO;
  if (!(flg & SHM_RDONLY)) {
    prot |= PROT_WRITE;
    acc |= S_IWUGO;
  }
  if (flg & SHM_EXEC) {
    prot |= PROT_EXEC;
    acc |= S_IXUGO;
  }
  const ns = ipcOf(t);
  reap(t, ns);
  const seg = ns.shm.get(shmid);
  if (seg instanceof Errno) return seg;
  if (!ipcperms(t, seg.perm, acc)) return EACCES;
  const len = pageUp(seg.size);
  const mm = t.mm;
  if (shmaddr) {
    if (!(flg & SHM_REMAP) && !mm.isFree(addr, addr + len)) return addr + len > mm.layout.windowSize ? ENOMEM : EINVAL;
    if (addr + len > mm.layout.windowSize) return ENOMEM;
  } else {
    const free = mm.findFree(len);
    if (free === undefined) return ENOMEM;
    addr = free;
  }
  const name = `/SYSV${(seg.perm.key >>> 0).toString(16).padStart(8, "0")} (deleted)`;
  seg.mem = mm.mapSysv(addr, len, prot, name, { segment: seg, start: addr }, seg.mem);
  seg.atime = now();
  seg.lpid = t.pid;
  return addr;
}

/** Implements shmat(2). */
export const shmat: Handler = (t, a) => doShmat(t, a.int(0), a.ptr(1), a.int(2));

/** Implements shmdt(2). Linux: ksys_shmdt unmaps every piece of the attach that started at `addr`. */
export const shmdt: Handler = (t, a) => doShmdt(t, a.ptr(0));

export function doShmdt(t: Task, addr: number): SysRet {
  if (addr % PAGE_SIZE) return EINVAL;
  const pieces = t.mm.mappings().filter((v) => v.sysv?.start === addr);
  if (pieces.length === 0) return EINVAL;
  const seg = pieces[0].sysv!.segment as ShmSegment;
  for (const v of pieces) t.mm.unmap(v.start, v.end - v.start);
  seg.dtime = now();
  seg.lpid = t.pid;
  reap(t, ipcOf(t));
  return 0;
}

/** ksys_shmctl: `v` picks the struct layout. */
export function doShmctl(t: Task, shmid: number, cmd: number, buf: number, v: Version): SysRet {
  const ns = ipcOf(t);
  if (cmd < 0 || shmid < 0) return EINVAL;
  reap(t, ns);
  switch (cmd) {
    case IPC_INFO:
      t.mm.write(buf, shminfoBytes(t, { max: ns.shmMax, min: SHMMIN, mni: ns.shmMni, seg: SHMSEG, all: ns.shmAll }, v));
      return Math.max(ns.shm.maxIdx(), 0);
    case SHM_INFO: {
      const rss = ns.shm.all().reduce((n, s) => n + s.rssPages, 0);
      t.mm.write(buf, shmInfoBytes(t, { used: ns.shm.inUse, tot: ns.shmTot, rss }));
      return Math.max(ns.shm.maxIdx(), 0);
    }
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY: {
      const seg = cmd === IPC_STAT ? ns.shm.get(shmid) : ns.shm.byIndex(shmid);
      if (seg instanceof Errno) return seg;
      if (cmd !== SHM_STAT_ANY && !ipcperms(t, seg.perm, S_IRUGO)) return EACCES;
      t.mm.write(buf, shmidBytes(t, { ...seg, segsz: seg.size, perm: seg.perm, nattch: nattch(t, seg), cpid: seg.cpid }, v));
      return cmd === IPC_STAT ? 0 : seg.perm.id;
    }
    case IPC_SET:
    case IPC_RMID: {
      const req = cmd === IPC_SET ? readShmSet(t, buf, v) : undefined;
      const seg = ns.shm.get(shmid);
      if (seg instanceof Errno) return seg;
      const denied = ctlAllowed(t, seg.perm);
      if (denied) return denied;
      if (req) {
        const bad = updatePerm(seg.perm, req.uid, req.gid, req.mode);
        if (bad) return bad;
        seg.ctime = now();
        return 0;
      }
      // do_shm_rmid: an attached segment lives on, unfindable by key, until its last detach.
      if (nattch(t, seg)) {
        seg.perm.mode |= SHM_DEST;
        seg.perm.key = IPC_PRIVATE;
      } else destroy(ns, seg);
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = ns.shm.get(shmid);
      if (seg instanceof Errno) return seg;
      if (!capable(t.proc, CAP_IPC_LOCK)) {
        if (t.proc.euid !== seg.perm.uid && t.proc.euid !== seg.perm.cuid) return EPERM;
        const memlock = t.proc.rlimits.get(RLIMIT_MEMLOCK)?.[0] ?? 8n * 1024n * 1024n;
        if (cmd === SHM_LOCK && memlock === 0n) return EPERM;
        // user_shm_lock: without CAP_IPC_LOCK the segment must fit in RLIMIT_MEMLOCK.
        if (cmd === SHM_LOCK && BigInt(seg.pages * PAGE_SIZE) > memlock) return ENOMEM;
      }
      if (cmd === SHM_LOCK) seg.perm.mode |= SHM_LOCKED;
      else seg.perm.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      return EINVAL;
  }
}

/** SHMSEG: SHMMNI (include/uapi/linux/shm.h). */
const SHMSEG = 4096;

/** Implements shmctl(2); i386's compat entry ignores the IPC_64 bit. */
export const shmctl: Handler = (t, a) => {
  const cmd = a.int(1);
  return doShmctl(t, a.int(0), t.arch.wordSize === 4 && cmd >= 0 ? cmd & ~IPC_64 : cmd, a.ptr(2), "64");
};
