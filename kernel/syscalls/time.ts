/** Clocks and sleeping: clock_gettime/getres (and i386's _time64 forms), gettimeofday, time, nanosleep. */
import type { Handler } from "../abi";
import { EINVAL } from "../errno";
import { Block, type SysRet } from "../file";
import type { Task } from "../task";

/** Clock ids, include/uapi/linux/time.h. */
const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
  CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
const TIMER_ABSTIME = 1;

/** Nanoseconds on `clock`, or undefined for a clock Linux does not have. */
function now(t: Task, clock: number): bigint | undefined {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM:
      return BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
    case CLOCK_TAI:
      return BigInt(Date.now() + 37000) * 1000000n;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return process.hrtime.bigint();
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
      return process.hrtime.bigint() - t.startTime;
    default:
      return undefined;
  }
}

/** A timespec of the given width: the arch's native long, or 64-bit for the *_time64 calls. */
function putTimespec(t: Task, p: number, ns: bigint, wide: boolean): void {
  const sec = ns / 1000000000n, nsec = ns % 1000000000n;
  if (wide || t.arch.wordSize === 8) {
    t.mm.setU64(p, sec);
    t.mm.setU64(p + 8, nsec);
  } else {
    t.mm.setU32(p, Number(BigInt.asUintN(32, sec)));
    t.mm.setU32(p + 4, Number(nsec));
  }
}

function getTimespec(t: Task, p: number, wide: boolean): [bigint, bigint] {
  if (wide || t.arch.wordSize === 8) return [BigInt.asIntN(64, t.mm.u64(p)), BigInt.asIntN(64, t.mm.u64(p + 8))];
  return [BigInt(t.mm.i32(p)), BigInt(t.mm.i32(p + 4))];
}

const gettime = (wide: boolean): Handler => (t, a) => {
  const ns = now(t, a.int(0));
  if (ns === undefined) return EINVAL;
  putTimespec(t, a.ptr(1), ns, wide);
  return 0;
};

const getres = (wide: boolean): Handler => (t, a) => {
  if (now(t, a.int(0)) === undefined) return EINVAL;
  const coarse = a.int(0) === CLOCK_REALTIME_COARSE || a.int(0) === CLOCK_MONOTONIC_COARSE;
  if (a.ptr(1)) putTimespec(t, a.ptr(1), coarse ? 4000000n : 1n, wide);
  return 0;
};

/** Implements clock_gettime(2) and clock_gettime64 (i386). */
export const clock_gettime = gettime(false);
export const clock_gettime64 = gettime(true);
/** Implements clock_getres(2) and clock_getres_time64 (i386). */
export const clock_getres = getres(false);
export const clock_getres_time64 = getres(true);

/** Implements gettimeofday(2); the timezone argument is filled with zeros, as Linux does by default. */
export const gettimeofday: Handler = (t, a) => {
  const tv = a.ptr(0), tz = a.ptr(1);
  const us = BigInt(Date.now()) * 1000n;
  const w = t.arch.wordSize;
  if (tv) {
    if (w === 8) { t.mm.setU64(tv, us / 1000000n); t.mm.setU64(tv + 8, us % 1000000n); }
    else { t.mm.setU32(tv, Number(us / 1000000n)); t.mm.setU32(tv + 4, Number(us % 1000000n)); }
  }
  if (tz) t.mm.write(tz, new Uint8Array(8));
  return 0;
};

/** Implements time(2). */
export const time: Handler = (t, a) => {
  const s = Math.floor(Date.now() / 1000);
  if (a.ptr(0)) {
    if (t.arch.wordSize === 8) t.mm.setU64(a.ptr(0), s);
    else t.mm.setU32(a.ptr(0), s);
  }
  return s;
};

function sleep(t: Task, clock: number, flags: number, req: number, wide: boolean): SysRet {
  const [sec, nsec] = getTimespec(t, req, wide);
  if (sec < 0n || nsec < 0n || nsec >= 1000000000n) return EINVAL;
  let ns = sec * 1000000000n + nsec;
  if (flags & TIMER_ABSTIME) {
    const cur = now(t, clock);
    if (cur === undefined) return EINVAL;
    ns = ns > cur ? ns - cur : 0n;
  }
  return sleepUntil(process.hrtime.bigint() + ns);
}

/** Sleep until the monotonic clock reaches `deadline`: Node's timers may fire a little early, so check and go on. */
function sleepUntil(deadline: bigint): SysRet {
  const left = deadline - process.hrtime.bigint();
  if (left <= 0n) return 0;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise((r) => (timer = setTimeout(r, Math.ceil(Number(left) / 1e6))));
  return new Block(done, () => sleepUntil(deadline), () => clearTimeout(timer));
}

/** Implements nanosleep(2). */
export const nanosleep: Handler = (t, a) => sleep(t, CLOCK_MONOTONIC, 0, a.ptr(0), false);

const clockSleep = (wide: boolean): Handler => (t, a) => {
  const clock = a.int(0);
  if (clock === CLOCK_THREAD_CPUTIME_ID) return EINVAL;
  if (now(t, clock) === undefined) return EINVAL;
  return sleep(t, clock, a.int(1), a.ptr(2), wide);
};

/** Implements clock_nanosleep(2) and clock_nanosleep_time64 (i386). */
export const clock_nanosleep = clockSleep(false);
export const clock_nanosleep_time64 = clockSleep(true);
