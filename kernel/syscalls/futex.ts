/** futex(2): wait queues keyed by guest address within a process, or by shared memory across processes. Linux: kernel/futex/. */
import type { Handler } from "../abi";
import { EAGAIN, EINVAL, ENOSYS, ETIMEDOUT } from "../errno";
import { Block, type SysRet } from "../file";
import type { FutexWaiter } from "../process";
import type { Task } from "../task";

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
  FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/**
 * Where waiters on a futex word queue (kernel/futex/core.c get_futex_key): a private
 * futex by address within its process; a shared one in shared memory by that memory's
 * identity, so processes mapping it (at any address) meet; in private memory a shared
 * futex is private after all.
 */
interface FutexKey { space: Map<number | string, FutexWaiter[]>; key: number | string }

/** Shared futexes of every process of a sandbox, by the kernel that runs them. */
const sharedSpaces = new WeakMap<object, Map<number | string, FutexWaiter[]>>();

function keyOf(t: Task, addr: number, priv: boolean): FutexKey {
  const shared = priv ? undefined : t.mm.sharedKey(addr);
  if (shared === undefined) return { space: t.group.futexes, key: addr };
  let space = sharedSpaces.get(t.kernel);
  if (!space) sharedSpaces.set(t.kernel, (space = new Map()));
  return { space, key: shared };
}

function queue(k: FutexKey): FutexWaiter[] {
  let q = k.space.get(k.key);
  if (!q) k.space.set(k.key, (q = []));
  return q;
}

function wake(k: FutexKey, n: number, bitset: number): number {
  const q = k.space.get(k.key);
  if (!q) return 0;
  let woken = 0;
  for (let i = 0; i < q.length && woken < n; ) {
    if (q[i].bitset & bitset) {
      q.splice(i, 1)[0].wake();
      woken++;
    } else i++;
  }
  if (q.length === 0) k.space.delete(k.key);
  return woken;
}

/** A timeout in milliseconds from a guest timespec: relative for FUTEX_WAIT, absolute for the bitset form. */
function timeoutMs(t: Task, tp: number, wide: boolean, absolute: boolean, realtime: boolean): number | undefined | typeof EINVAL {
  if (!tp) return undefined;
  // i386's futex takes a 32-bit timespec, its futex_time64 and every 64-bit arch a 64-bit one.
  const w = wide ? 8 : t.arch.wordSize;
  const sec = w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(tp))) : t.mm.i32(tp);
  const nsec = w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(tp + 8))) : t.mm.i32(tp + 4);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return EINVAL;
  const ms = sec * 1e3 + nsec / 1e6;
  if (!absolute) return ms;
  const now = realtime ? Date.now() : Number(process.hrtime.bigint()) / 1e6;
  return Math.max(0, ms - now);
}

function waitOn(t: Task, addr: number, k: FutexKey, val: number, bitset: number, ms: number | undefined): SysRet {
  if (t.mm.u32(addr) !== val) return EAGAIN;
  let woken = false;
  let timer: NodeJS.Timeout | undefined;
  const q = queue(k);
  let waiter!: FutexWaiter;
  const done = new Promise<void>((resolve) => {
    waiter = { bitset, wake: () => { woken = true; if (timer) clearTimeout(timer); resolve(); } };
    q.push(waiter);
    if (ms !== undefined) {
      timer = setTimeout(() => {
        const i = q.indexOf(waiter);
        if (i >= 0) q.splice(i, 1);
        resolve();
      }, ms);
    }
  });
  const cancel = () => {
    if (timer) clearTimeout(timer);
    const i = q.indexOf(waiter);
    if (i >= 0) q.splice(i, 1);
  };
  return new Block(done, () => (woken ? 0 : ETIMEDOUT), cancel);
}

/** FUTEX_WAKE_OP's encoded operation on *uaddr2 and its comparison (include/uapi/linux/futex.h). */
function wakeOp(t: Task, uaddr2: number, encoded: number): boolean {
  const op = (encoded >>> 28) & 7, cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20;
  const cmparg = (encoded << 20) >> 20;
  if ((encoded >>> 28) & 8) oparg = 1 << (oparg & 31);
  const old = t.mm.i32(uaddr2);
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op];
  if (next === undefined) throw new RangeError("bad op");
  t.mm.setU32(uaddr2, next >>> 0);
  return [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg][cmp] ?? false;
}

/** Implements futex(2) and futex_time64 (i386). */
const futexImpl = (wide: boolean): Handler => (t, a) => {
  const uaddr = a.ptr(0), opFull = a.int(1), val = a.uint(2);
  const op = opFull & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const realtime = (opFull & FUTEX_CLOCK_REALTIME) !== 0;
  const priv = (opFull & FUTEX_PRIVATE_FLAG) !== 0;
  if (uaddr % 4 !== 0) return EINVAL;
  const key = (addr: number) => keyOf(t, addr, priv);
  if (realtime && op !== FUTEX_WAIT_BITSET && op !== FUTEX_WAIT) return ENOSYS;
  switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = op === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      if (bitset === 0) return EINVAL;
      const ms = timeoutMs(t, a.ptr(3), wide, op === FUTEX_WAIT_BITSET, realtime);
      if (ms === EINVAL) return EINVAL;
      return waitOn(t, uaddr, key(uaddr), val, bitset, ms as number | undefined);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = op === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      if (bitset === 0) return EINVAL;
      return wake(key(uaddr), val, bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const n2 = a.uint(3), uaddr2 = a.ptr(4);
      if (uaddr2 % 4 !== 0 || (val | 0) < 0 || (n2 | 0) < 0) return EINVAL;
      if (op === FUTEX_CMP_REQUEUE && t.mm.u32(uaddr) !== a.uint(5)) return EAGAIN;
      const from = key(uaddr);
      const woken = wake(from, val, FUTEX_BITSET_MATCH_ANY);
      const q = from.space.get(from.key) ?? [];
      const moved = q.splice(0, n2);
      if (q.length === 0) from.space.delete(from.key);
      if (moved.length) queue(key(uaddr2)).push(...moved);
      return woken + moved.length;
    }
    case FUTEX_WAKE_OP: {
      const n2 = a.uint(3), uaddr2 = a.ptr(4);
      if (uaddr2 % 4 !== 0) return EINVAL;
      let cond: boolean;
      try { cond = wakeOp(t, uaddr2, a.uint(5)); } catch { return ENOSYS; }
      return wake(key(uaddr), val, FUTEX_BITSET_MATCH_ANY) + (cond ? wake(key(uaddr2), n2, FUTEX_BITSET_MATCH_ANY) : 0);
    }
    default:
      return ENOSYS;
  }
};

export const futex = futexImpl(false);
export const futex_time64 = futexImpl(true);

/** futex_waitv(2) limits and flags (include/uapi/linux/futex.h): FUTEX_32 is the only size 6.1 knows. */
const FUTEX_WAITV_MAX = 128, FUTEX_32 = 2, FUTEX2_VALID_MASK = FUTEX_32 | FUTEX_PRIVATE_FLAG;
/** struct futex_waitv: u64 val, u64 uaddr, u32 flags, u32 __reserved. */
const FUTEX_WAITV_SIZE = 24;
const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1;

/**
 * Implements futex_waitv(2): sleep on up to 128 futexes at once until one is
 * woken, returning its index. Linux: kernel/futex/syscalls.c, waitwake.c
 * futex_wait_multiple_setup (every value is compared before any waiter queues).
 */
export const futex_waitv: Handler = (t, a) => {
  const waiters = a.ptr(0), n = a.uint(1), flags = a.uint(2), tp = a.ptr(3), clock = a.int(4);
  if (flags) return EINVAL;
  if (!n || n > FUTEX_WAITV_MAX || !waiters) return EINVAL;
  let ms: number | undefined;
  if (tp) {
    if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC) return EINVAL;
    // An absolute __kernel_timespec on every arch, as FUTEX_WAIT_BITSET takes it.
    const r = timeoutMs(t, tp, true, true, clock === CLOCK_REALTIME);
    if (r === EINVAL) return EINVAL;
    ms = r as number;
  }
  const vec: { uaddr: number; val: number; priv: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const p = waiters + i * FUTEX_WAITV_SIZE;
    const raw = t.mm.read(p, FUTEX_WAITV_SIZE);
    const d = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const wflags = d.getUint32(16, true);
    if (wflags & ~FUTEX2_VALID_MASK || d.getUint32(20, true) !== 0) return EINVAL;
    if (!(wflags & FUTEX_32)) return EINVAL;
    vec.push({ val: d.getUint32(0, true), uaddr: Number(d.getBigUint64(8, true)), priv: (wflags & FUTEX_PRIVATE_FLAG) !== 0 });
  }
  // get_futex_key for each, then each value read and compared; a mismatch anywhere is EAGAIN.
  const keys: FutexKey[] = [];
  for (const w of vec) {
    if (w.uaddr % 4 !== 0) return EINVAL;
    keys.push(keyOf(t, w.uaddr, w.priv));
  }
  for (const w of vec) if (t.mm.u32(w.uaddr) !== w.val) return EAGAIN;
  let woken = -1;
  let timer: NodeJS.Timeout | undefined;
  const entries: FutexWaiter[] = [];
  const unqueue = () => {
    keys.forEach((k, i) => {
      const q = k.space.get(k.key);
      const at = q ? q.indexOf(entries[i]) : -1;
      if (at >= 0) q!.splice(at, 1);
      if (q && q.length === 0) k.space.delete(k.key);
    });
  };
  const done = new Promise<void>((resolve) => {
    keys.forEach((k, i) => {
      const w: FutexWaiter = {
        bitset: FUTEX_BITSET_MATCH_ANY,
        wake: () => {
          // The first wake wins; the other queues forget this sleeper at once so no later wake counts it.
          woken = i;
          if (timer) clearTimeout(timer);
          unqueue();
          resolve();
        },
      };
      entries.push(w);
      queue(k).push(w);
    });
    if (ms !== undefined) {
      timer = setTimeout(() => { unqueue(); resolve(); }, ms);
    }
  });
  const cancel = () => {
    if (timer) clearTimeout(timer);
    unqueue();
  };
  return new Block(done, () => (woken >= 0 ? woken : ETIMEDOUT), cancel);
};
