/**
 * The IPC structs as each arch lays them out: struct ipc64_perm and the
 * msqid64_ds / semid64_ds / shmid64_ds that follow it (asm-generic for aarch64
 * and i386, arch/x86's own semid64_ds for x86_64, which pads each time), and
 * i386's old 16-bit-uid structs (compat_msqid_ds...) for ipc() without IPC_64.
 * Times are 64-bit everywhere: i386 splits each into (low, high) words.
 */
import type { Task } from "../task";
import type { IpcPerm } from "./namespace";

/** Which layout a ctl call reads and writes: the 64-bit structs, or i386's old ones (ipc_parse_version). */
export type Version = "64" | "old";

/** A zero-filled struct being built (the kernel memsets before it fills). */
class Out {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  constructor(size: number, readonly word: 4 | 8) {
    this.bytes = new Uint8Array(size);
    this.dv = new DataView(this.bytes.buffer);
  }
  u16(off: number, v: number): void { this.dv.setUint16(off, v & 0xffff, true); }
  u32(off: number, v: number): void { this.dv.setUint32(off, v >>> 0, true); }
  u64(off: number, v: number | bigint): void { this.dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true); }
  /** An unsigned long: truncated to 32 bits on i386, as the compat copy-outs do. */
  ulong(off: number, v: number | bigint): void {
    if (this.word === 8) this.u64(off, v);
    else this.u32(off, Number(BigInt.asUintN(32, BigInt(v))));
  }
}

/** high2lowuid: ids past 16 bits show as the overflow id in the old structs. */
const low = (id: number): number => (id > 0xffff ? 65534 : id);

const perm64Size = (w: 4 | 8): number => (w === 8 ? 48 : 36);
const OLD_PERM_SIZE = 16;

function putPerm(o: Out, p: IpcPerm, v: Version): number {
  o.u32(0, p.key);
  if (v === "old") {
    o.u16(4, low(p.uid)); o.u16(6, low(p.gid)); o.u16(8, low(p.cuid)); o.u16(10, low(p.cgid));
    o.u16(12, p.mode); o.u16(14, p.seq);
    return OLD_PERM_SIZE;
  }
  o.u32(4, p.uid); o.u32(8, p.gid); o.u32(12, p.cuid); o.u32(16, p.cgid);
  // __kernel_mode_t is 16 bits on i386 and 32 elsewhere; the little-endian low half is the same.
  o.u32(20, p.mode); o.u16(24, p.seq);
  return perm64Size(o.word);
}

/** What IPC_SET reads: the new owner and mode (and a queue's byte limit). */
export interface SetRequest { uid: number; gid: number; mode: number; qbytes: number }

function readPermSet(t: Task, addr: number, v: Version): Omit<SetRequest, "qbytes"> {
  if (v === "old") return { uid: t.mm.u16(addr + 4), gid: t.mm.u16(addr + 6), mode: t.mm.u16(addr + 12) };
  const mode = t.arch.wordSize === 4 ? t.mm.u16(addr + 20) : t.mm.u32(addr + 20);
  return { uid: t.mm.u32(addr + 4), gid: t.mm.u32(addr + 8), mode };
}

export interface MsqStat { perm: IpcPerm; stime: number; rtime: number; ctime: number; cbytes: number; qnum: number; qbytes: number; lspid: number; lrpid: number }

export function msqidBytes(t: Task, s: MsqStat, v: Version): Uint8Array {
  const w = t.arch.wordSize;
  if (v === "old") {
    // compat_msqid_ds: the counts in 16-bit fields, truncated as copy_compat_msqid_to_user does.
    const o = new Out(56, 4);
    putPerm(o, s.perm, v);
    o.u32(24, s.stime); o.u32(28, s.rtime); o.u32(32, s.ctime);
    o.u16(44, s.cbytes); o.u16(46, s.qnum); o.u16(48, s.qbytes); o.u16(50, s.lspid); o.u16(52, s.lrpid);
    return o.bytes;
  }
  const p = perm64Size(w);
  const o = new Out(p + 24 + 5 * w + 8, w);
  putPerm(o, s.perm, v);
  o.u64(p, s.stime); o.u64(p + 8, s.rtime); o.u64(p + 16, s.ctime);
  o.ulong(p + 24, s.cbytes); o.ulong(p + 24 + w, s.qnum); o.ulong(p + 24 + 2 * w, s.qbytes);
  o.u32(p + 24 + 3 * w, s.lspid); o.u32(p + 28 + 3 * w, s.lrpid);
  return o.bytes;
}

export function readMsqSet(t: Task, addr: number, v: Version): SetRequest {
  const w = t.arch.wordSize;
  if (v === "old") return { ...readPermSet(t, addr, v), qbytes: t.mm.u16(addr + 48) };
  t.mm.check(addr, perm64Size(w) + 24 + 5 * w + 8, 1);
  const at = addr + perm64Size(w) + 24 + 2 * w;
  return { ...readPermSet(t, addr, v), qbytes: w === 8 ? t.mm.u64n(at) : t.mm.u32(at) };
}

export interface SemStat { perm: IpcPerm; otime: number; ctime: number; nsems: number }

export function semidBytes(t: Task, s: SemStat, v: Version): Uint8Array {
  const w = t.arch.wordSize;
  if (v === "old") {
    const o = new Out(44, 4);
    putPerm(o, s.perm, v);
    o.u32(16, s.otime); o.u32(20, s.ctime); o.u16(40, s.nsems);
    return o.bytes;
  }
  const p = perm64Size(w);
  // x86_64's semid64_ds follows each time with an unused long; asm-generic's does not.
  const step = t.arch.name === "x86_64" ? 16 : 8;
  const o = new Out(p + 2 * step + 3 * w, w);
  putPerm(o, s.perm, v);
  o.u64(p, s.otime); o.u64(p + step, s.ctime); o.ulong(p + 2 * step, s.nsems);
  return o.bytes;
}

export function readSemSet(t: Task, addr: number, v: Version): SetRequest {
  return { ...readPermSet(t, addr, v), qbytes: 0 };
}

export interface ShmStat { perm: IpcPerm; segsz: number; atime: number; dtime: number; ctime: number; cpid: number; lpid: number; nattch: number }

export function shmidBytes(t: Task, s: ShmStat, v: Version): Uint8Array {
  const w = t.arch.wordSize;
  if (v === "old") {
    const o = new Out(48, 4);
    putPerm(o, s.perm, v);
    o.u32(16, s.segsz); o.u32(20, s.atime); o.u32(24, s.dtime); o.u32(28, s.ctime);
    o.u16(32, s.cpid); o.u16(34, s.lpid); o.u16(36, s.nattch);
    return o.bytes;
  }
  const p = perm64Size(w);
  const o = new Out(p + w + 32 + 3 * w, w);
  putPerm(o, s.perm, v);
  o.ulong(p, s.segsz);
  o.u64(p + w, s.atime); o.u64(p + w + 8, s.dtime); o.u64(p + w + 16, s.ctime);
  o.u32(p + w + 24, s.cpid); o.u32(p + w + 28, s.lpid);
  o.ulong(p + w + 32, s.nattch);
  return o.bytes;
}

export function readShmSet(t: Task, addr: number, v: Version): SetRequest {
  return { ...readPermSet(t, addr, v), qbytes: 0 };
}

/** struct msginfo (IPC_INFO, MSG_INFO): seven ints and a short, the same on every arch. */
export function msginfoBytes(f: { pool: number; map: number; max: number; mnb: number; mni: number; ssz: number; tql: number; seg: number }): Uint8Array {
  const o = new Out(32, 4);
  [f.pool, f.map, f.max, f.mnb, f.mni, f.ssz, f.tql].forEach((v, i) => o.u32(4 * i, v));
  o.u16(28, f.seg);
  return o.bytes;
}

/** struct seminfo (IPC_INFO, SEM_INFO): ten ints in this order. */
export function seminfoBytes(values: number[]): Uint8Array {
  const o = new Out(40, 4);
  values.forEach((v, i) => o.u32(4 * i, v));
  return o.bytes;
}

/**
 * struct shminfo64 (IPC_INFO): shmmax, shmmin, shmmni, shmseg, shmall and four
 * unused longs; i386 gets shmmax capped at INT_MAX and the rest truncated, as
 * copy_compat_shminfo_to_user gives them (five ints for the old layout).
 */
export function shminfoBytes(t: Task, f: { max: bigint; min: number; mni: number; seg: number; all: bigint }, v: Version): Uint8Array {
  const w = t.arch.wordSize;
  const max = w === 4 && f.max > 0x7fffffffn ? 0x7fffffffn : f.max;
  const o = new Out(v === "old" ? 20 : 9 * w, w);
  [max, f.min, f.mni, f.seg, f.all].forEach((x, i) => o.ulong(i * w, x));
  return o.bytes;
}

/** struct shm_info (SHM_INFO): an int, then five longs. */
export function shmInfoBytes(t: Task, f: { used: number; tot: number; rss: number }): Uint8Array {
  const w = t.arch.wordSize;
  const o = new Out(6 * w, w);
  o.u32(0, f.used);
  o.ulong(w, f.tot); o.ulong(2 * w, f.rss);
  return o.bytes;
}

/** The long at the head of a struct msgbuf (mtype). */
export function readLong(t: Task, addr: number): number {
  return t.arch.wordSize === 8 ? Number(BigInt.asIntN(64, t.mm.u64(addr))) : t.mm.i32(addr);
}

export function writeLong(t: Task, addr: number, v: number): void {
  if (t.arch.wordSize === 8) t.mm.setU64(addr, BigInt(v));
  else t.mm.setU32(addr, v);
}
