/** Process and thread state: ids, exit, TID address, robust list, rlimits, scheduling, futex. */
import type { Handler } from "../abi";
import { Errno, EINVAL, ENOSYS, EPERM, ESRCH } from "../errno";
import type { SysRet } from "../file";
import { RLIMIT_NOFILE, RLIM_INFINITY, RLIM_NLIMITS } from "../rlimits";
import type { Task } from "../task";

export const getpid: Handler = (t) => t.pid;
export const gettid: Handler = (t) => t.tid;
export const getuid: Handler = (t) => t.proc.uid;
export const geteuid: Handler = (t) => t.proc.euid;
export const getgid: Handler = (t) => t.proc.gid;
export const getegid: Handler = (t) => t.proc.egid;
// i386 keeps 16-bit-id variants under the plain names and 32-bit ones with a "32" suffix.
export const getuid32 = getuid, geteuid32 = geteuid, getgid32 = getgid, getegid32 = getegid;

/** Implements set_tid_address(2). */
export const set_tid_address: Handler = (t, a) => {
  t.clearChildTid = a.ptr(0);
  return t.tid;
};

/** Implements set_robust_list(2): the length must be sizeof(struct robust_list_head). */
export const set_robust_list: Handler = (t, a) => {
  if (a.ulong(1) !== 3 * t.arch.wordSize) return EINVAL;
  t.robustList = a.ptr(0);
  t.robustListLen = a.ulong(1);
  return 0;
};

/** rseq(2) is optional for libcs (glibc falls back when it is refused), so ENOSYS is Linux-compatible. */
export const rseq: Handler = () => ENOSYS;

function setLimit(t: Task, res: number, soft: bigint, hard: bigint): Errno | 0 {
  const cur = t.proc.rlimits.get(res)!;
  if (soft > hard) return EINVAL;
  if (hard > cur[1] && t.proc.euid !== 0) return EPERM;
  if (res === RLIMIT_NOFILE && hard > 1048576n) return EPERM;
  t.proc.rlimits.set(res, [soft, hard]);
  if (res === RLIMIT_NOFILE) t.fds.limit = Number(soft);
  return 0;
}

/** Implements prlimit64(2) for the calling process (pid 0 or its own). */
export const prlimit64: Handler = (t, a) => {
  const pid = a.int(0), res = a.uint(1), newp = a.ptr(2), oldp = a.ptr(3);
  if (res >= RLIM_NLIMITS) return EINVAL;
  if (pid !== 0 && pid !== t.pid) return ESRCH;
  const cur = t.proc.rlimits.get(res)!;
  let next: [bigint, bigint] | undefined;
  if (newp) next = [t.mm.u64(newp), t.mm.u64(newp + 8)];
  if (oldp) {
    t.mm.setU64(oldp, cur[0]);
    t.mm.setU64(oldp + 8, cur[1]);
  }
  return next ? setLimit(t, res, next[0], next[1]) : 0;
};

/** getrlimit in the arch's native long; `clamp` is the value RLIM_INFINITY shows as. */
function getLimitLong(t: Task, res: number, p: number, infinity: bigint): SysRet {
  if (res >= RLIM_NLIMITS) return EINVAL;
  const [soft, hard] = t.proc.rlimits.get(res)!;
  const show = (v: bigint) => (v > infinity ? infinity : v);
  if (t.arch.wordSize === 8) {
    t.mm.setU64(p, show(soft));
    t.mm.setU64(p + 8, show(hard));
  } else {
    t.mm.setU32(p, Number(show(soft)));
    t.mm.setU32(p + 4, Number(show(hard)));
  }
  return 0;
}

/**
 * Implements getrlimit(2). On i386 this is the old call whose RLIM_INFINITY is
 * 0x7fffffff (kernel/sys.c old_getrlimit); ugetrlimit is the modern one.
 */
export const getrlimit: Handler = (t, a) =>
  getLimitLong(t, a.uint(0), a.ptr(1), t.arch.wordSize === 8 ? RLIM_INFINITY : 0x7fffffffn);

/** Implements ugetrlimit(2) (i386). */
export const ugetrlimit: Handler = (t, a) => getLimitLong(t, a.uint(0), a.ptr(1), 0xffffffffn);

/** Implements setrlimit(2); on i386 an all-ones long means RLIM_INFINITY. */
export const setrlimit: Handler = (t, a) => {
  const res = a.uint(0), p = a.ptr(1);
  if (res >= RLIM_NLIMITS) return EINVAL;
  const w = t.arch.wordSize;
  const rd = (off: number) => {
    if (w === 8) return t.mm.u64(p + off);
    const v = t.mm.u32(p + off);
    return v === 0xffffffff ? RLIM_INFINITY : BigInt(v);
  };
  return setLimit(t, res, rd(0), rd(w));
};

/**
 * Implements sched_getaffinity(2): the guest sees one CPU. Linux returns the
 * size of its cpumask (a whole number of longs) and refuses smaller buffers.
 */
export const sched_getaffinity: Handler = (t, a) => {
  const pid = a.int(0), len = a.uint(1), p = a.ptr(2);
  if (pid !== 0 && pid !== t.pid) return ESRCH;
  const w = t.arch.wordSize;
  if (len < w || len % w !== 0) return EINVAL;
  const mask = new Uint8Array(w);
  mask[0] = 1;
  t.mm.write(p, mask);
  return w;
};

/** Implements sched_yield(2). */
export const sched_yield: Handler = () => 0;

const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
/** USER_HZ: the unit of times(2). */
const USER_HZ = 100;
const bootTime = process.hrtime.bigint();

/**
 * CPU time for the sandbox: the engine runs every guest task on the Node
 * thread, so the host's user and system time since the task started is an
 * honest upper bound for it.
 */
function cpuMicros(t: Task): { user: number; system: number } {
  const u = process.cpuUsage();
  const elapsed = Number(process.hrtime.bigint() - t.startTime) / 1000;
  return { user: Math.min(u.user, elapsed), system: Math.min(u.system, elapsed) };
}

/** Implements getrusage(2): times, max RSS (KiB) and zeros for the counters syscage does not keep. */
export const getrusage: Handler = (t, a) => {
  const who = a.int(0);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) return EINVAL;
  const w = t.arch.wordSize;
  const b = new Uint8Array(w === 8 ? 144 : 72), d = new DataView(b.buffer);
  const put = (i: number, v: number) => (w === 8 ? d.setBigInt64(8 * i, BigInt(Math.floor(v)), true) : d.setInt32(4 * i, Math.floor(v), true));
  if (who !== RUSAGE_CHILDREN) {
    const { user, system } = cpuMicros(t);
    put(0, user / 1e6); put(1, user % 1e6);
    put(2, system / 1e6); put(3, system % 1e6);
    put(4, process.memoryUsage().rss / 1024);
  }
  t.mm.write(a.ptr(1), b);
  return 0;
};

/** Implements times(2): the process's clock ticks, and ticks since boot as the result. */
export const times: Handler = (t, a) => {
  const p = a.ptr(0);
  if (p) {
    const w = t.arch.wordSize;
    const { user, system } = cpuMicros(t);
    const b = new Uint8Array(4 * w), d = new DataView(b.buffer);
    [user, system, 0, 0].forEach((us, i) => {
      const ticks = Math.floor((us * USER_HZ) / 1e6);
      if (w === 8) d.setBigInt64(8 * i, BigInt(ticks), true);
      else d.setInt32(4 * i, ticks, true);
    });
    t.mm.write(p, b);
  }
  return Number((process.hrtime.bigint() - bootTime) / BigInt(1e9 / USER_HZ));
};
