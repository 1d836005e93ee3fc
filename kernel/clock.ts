/**
 * The clocks a guest can read and arm timers on (include/uapi/linux/time.h),
 * and struct timespec as each ABI lays it out. Shared by clock_gettime and
 * friends (syscalls/time.ts) and the timers (hrtimer.ts, timerfd.ts).
 */
import type { Task } from "./task";

export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
  CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
export const TIMER_ABSTIME = 1;
export const NSEC_PER_SEC = 1_000_000_000n;

/**
 * The realtime clock runs at the monotonic clock's pace from where the host's
 * wall clock stood at start: readings never step back, so an absolute timer
 * armed from one (timer_settime, clock_nanosleep) waits no longer than asked.
 */
const REALTIME_OFFSET = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** TAI is ahead of UTC by the leap seconds so far. */
const TAI_OFFSET = 37n * NSEC_PER_SEC;

/**
 * Nanoseconds on `clock`, or undefined for a clock Linux does not have. The
 * CPU-time clocks count wall time since the task started: syscage keeps no
 * per-task CPU accounting, and wall time bounds CPU time from above.
 */
export function clockNow(t: Task, clock: number): bigint | undefined {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM:
      return process.hrtime.bigint() + REALTIME_OFFSET;
    case CLOCK_TAI:
      return process.hrtime.bigint() + REALTIME_OFFSET + TAI_OFFSET;
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
export function putTimespec(t: Task, p: number, ns: bigint, wide: boolean): void {
  const sec = ns / NSEC_PER_SEC, nsec = ns % NSEC_PER_SEC;
  if (wide || t.arch.wordSize === 8) {
    t.mm.setU64(p, sec);
    t.mm.setU64(p + 8, nsec);
  } else {
    t.mm.setU32(p, Number(BigInt.asUintN(32, sec)));
    t.mm.setU32(p + 4, Number(nsec));
  }
}

export function getTimespec(t: Task, p: number, wide: boolean): [bigint, bigint] {
  if (wide || t.arch.wordSize === 8) return [BigInt.asIntN(64, t.mm.u64(p)), BigInt.asIntN(64, t.mm.u64(p + 8))];
  return [BigInt(t.mm.i32(p)), BigInt(t.mm.i32(p + 4))];
}

/** sizeof(struct timespec) for the call's width. */
export const timespecSize = (t: Task, wide: boolean): number => (wide || t.arch.wordSize === 8 ? 16 : 8);

/** A timespec Linux accepts as a timer value (timespec64_valid): not negative, nsec below a second. */
export const validTimespec = ([sec, nsec]: [bigint, bigint]): boolean => sec >= 0n && nsec >= 0n && nsec < NSEC_PER_SEC;
