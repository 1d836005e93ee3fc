/** Clocks and sleeping: clock_gettime/getres (and i386's _time64 forms), gettimeofday, time, nanosleep. */
import type { Handler } from "../abi";
import { EINVAL } from "../errno";
import { Block, type SysRet } from "../file";
import type { Task } from "../task";
import {
  clockNow as now, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME_COARSE, CLOCK_THREAD_CPUTIME_ID, getTimespec,
  putTimespec, TIMER_ABSTIME,
} from "../clock";

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
