/**
 * POSIX timers (timer_create and friends) and timerfd. Linux:
 * kernel/time/posix-timers.c, kernel/time/posix-cpu-timers.c, fs/timerfd.c.
 * The CPU-time clocks run on wall time since the task started, as
 * clock_gettime reads them (kernel/clock.ts): syscage keeps no CPU accounting.
 */
import type { Handler } from "../abi";
import { capable } from "../capability";
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
  CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME_COARSE, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
  CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, clockNow, getTimespec, NSEC_PER_SEC, putTimespec, TIMER_ABSTIME, timespecSize,
  validTimespec,
} from "../clock";
import { EBADF, EINVAL, EOPNOTSUPP, EPERM, type Errno } from "../errno";
import { O_NONBLOCK } from "../file";
import type { ClockTimer } from "../hrtimer";
import { DELAYTIMER_MAX, PosixTimer, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, timerTable } from "../posix-timers";
import { NSIG, SIGALRM } from "../signal";
import type { Task } from "../task";
import { TimerFdFile } from "../timerfd";

const CAP_WAKE_ALARM = 35;
const O_CLOEXEC = 0o2000000;
const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;
/** CPU-clock ids (include/linux/posix-timers.h): ~pid << 3 | perthread << 2 | which; which 3 is a clock fd. */
const CPUCLOCK_PERTHREAD = 4, CPUCLOCK_WHICH_MASK = 3, CLOCKFD = 3;

interface Itimerspec { interval: bigint; value: bigint }

/** struct itimerspec: it_interval then it_value; i386's plain calls use 32-bit time_t. */
function readItimerspec(t: Task, p: number, wide: boolean): Itimerspec | undefined {
  const interval = getTimespec(t, p, wide), value = getTimespec(t, p + timespecSize(t, wide), wide);
  if (!validTimespec(interval) || !validTimespec(value)) return undefined;
  return { interval: interval[0] * NSEC_PER_SEC + interval[1], value: value[0] * NSEC_PER_SEC + value[1] };
}

function writeItimerspec(t: Task, p: number, wide: boolean, s: Itimerspec): void {
  putTimespec(t, p, s.interval, wide);
  putTimespec(t, p + timespecSize(t, wide), s.value, wide);
}

const current = (timer: ClockTimer): Itimerspec => ({ interval: timer.interval, value: timer.remaining() });

/** Arm `timer` for `value` on `clock` (absolute with TIMER_ABSTIME), or disarm it for a zero value. */
function arm(t: Task, timer: ClockTimer, clock: number, abs: boolean, spec: Itimerspec): void {
  if (spec.value === 0n) return timer.disarm();
  const relative = abs ? spec.value - (clockNow(t, clock) ?? 0n) : spec.value;
  timer.arm(relative, spec.interval);
}

/**
 * The clock and the task whose CPU time it counts for a timer_create clock id
 * (clockid_to_kclock; posix_cpu_timer_create's lookup_task for CPU clocks).
 */
function timerClock(t: Task, id: number): { clock: number; owner: Task } | Errno {
  if (id >= 0) {
    switch (id) {
      case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_TAI:
      case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        return { clock: id, owner: t };
      case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
        return capable(t.proc, CAP_WAKE_ALARM) ? { clock: id, owner: t } : EPERM;
      case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
        return EOPNOTSUPP; // clocks that can be read but have no timers
      default:
        return EINVAL;
    }
  }
  if ((id & CPUCLOCK_WHICH_MASK) === CLOCKFD) return EINVAL;
  const pid = ~(id >> 3), perThread = (id & CPUCLOCK_PERTHREAD) !== 0;
  const target = pid === 0 ? t : t.kernel.processes.tasks.get(pid);
  if (!target || target.exit) return EINVAL;
  if (perThread) return target.group === t.group ? { clock: CLOCK_THREAD_CPUTIME_ID, owner: target } : EINVAL;
  return target.tid === target.pid ? { clock: CLOCK_PROCESS_CPUTIME_ID, owner: target } : EINVAL;
}

/** Implements timer_create(2). Linux: do_timer_create, good_sigevent. */
export const timer_create: Handler = (t, a) => {
  const sevp = a.ptr(1), idp = a.ptr(2), w = t.arch.wordSize;
  // struct sigevent: sigev_value (a pointer-sized union), sigev_signo, sigev_notify, then the thread id.
  const raw = sevp ? t.mm.read(sevp, 64) : undefined;
  const ev = raw && new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const clock = timerClock(t, a.int(0));
  if (!("clock" in clock)) return clock;
  let notify = SIGEV_SIGNAL, signo = SIGALRM, target: Task | undefined;
  const tab = timerTable(t.group);
  let value = BigInt(tab.next);
  if (ev) {
    value = w === 8 ? ev.getBigUint64(0, true) : BigInt(ev.getUint32(0, true));
    signo = ev.getInt32(w, true);
    notify = ev.getInt32(w + 4, true);
    // good_sigevent: a thread id must name a thread of this process, and a signal must be a signal.
    if (notify === (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
      target = t.kernel.processes.tasks.get(ev.getInt32(w + 8, true));
      if (!target || target.exit || target.group !== t.group) return EINVAL;
    } else if (notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD && notify !== SIGEV_NONE) return EINVAL;
    if (notify !== SIGEV_NONE && (signo <= 0 || signo > NSIG)) return EINVAL;
  }
  const id = tab.next;
  t.mm.setU32(idp, id);
  tab.next++;
  tab.timers.set(id, new PosixTimer(id, clock.clock, clock.owner, t, notify, signo, value, target));
  return 0;
};

const lookup = (t: Task, id: number): PosixTimer | undefined => timerTable(t.group).timers.get(id);

/** timer_settime(2) and timer_settime64 (i386). */
const timerSettime = (wide: boolean): Handler => (t, a) => {
  const id = a.int(0), flags = a.int(1), np = a.ptr(2), op = a.ptr(3);
  if (!np) return EINVAL;
  const spec = readItimerspec(t, np, wide);
  if (!spec) return EINVAL;
  const p = lookup(t, id);
  if (!p) return EINVAL;
  const old = current(p.timer);
  arm(p.clockTask, p.timer, p.clock, (flags & TIMER_ABSTIME) !== 0, spec);
  // Off the CPU after this call, so the scheduler gives a busy task slices from now on (Scheduler.alwaysSlice).
  if (p.notify !== SIGEV_NONE) t.reschedule = true;
  if (op) writeItimerspec(t, op, wide, old);
  return 0;
};
/** Implements timer_settime(2). */
export const timer_settime = timerSettime(false);
export const timer_settime64 = timerSettime(true);

/** timer_gettime(2) and timer_gettime64 (i386). */
const timerGettime = (wide: boolean): Handler => (t, a) => {
  const p = lookup(t, a.int(0));
  if (!p) return EINVAL;
  writeItimerspec(t, a.ptr(1), wide, current(p.timer));
  return 0;
};
/** Implements timer_gettime(2). */
export const timer_gettime = timerGettime(false);
export const timer_gettime64 = timerGettime(true);

/** Implements timer_getoverrun(2): the overrun of the timer's last signal taken, capped at DELAYTIMER_MAX. */
export const timer_getoverrun: Handler = (t, a) => {
  const p = lookup(t, a.int(0));
  if (!p) return EINVAL;
  return Math.min(DELAYTIMER_MAX, p.overrun());
};

/** Implements timer_delete(2). */
export const timer_delete: Handler = (t, a) => {
  const tab = timerTable(t.group), p = tab.timers.get(a.int(0));
  if (!p) return EINVAL;
  p.delete();
  tab.timers.delete(p.id);
  return 0;
};

/** Implements timerfd_create(2). */
export const timerfd_create: Handler = (t, a) => {
  const clock = a.int(0), flags = a.int(1);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return EINVAL;
  const known = [CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM];
  if (!known.includes(clock)) return EINVAL;
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && !capable(t.proc, CAP_WAKE_ALARM)) return EPERM;
  return t.fds.install(new TimerFdFile(clock, (flags & O_NONBLOCK) !== 0), (flags & O_CLOEXEC) !== 0);
};

/** timerfd_fget: EBADF for no descriptor, EINVAL for one that is not a timerfd. */
function timerfd(t: Task, fd: number): TimerFdFile | Errno {
  const file = t.fds.get(fd);
  if (!file) return EBADF;
  return file instanceof TimerFdFile ? file : EINVAL;
}

/**
 * timerfd_settime(2) and timerfd_settime64 (i386). TFD_TIMER_CANCEL_ON_SET is
 * accepted; nothing in the sandbox sets the realtime clock, so it never cancels.
 */
const timerfdSettime = (wide: boolean): Handler => (t, a) => {
  const flags = a.int(1), np = a.ptr(2), op = a.ptr(3);
  const spec = readItimerspec(t, np, wide);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) || !spec) return EINVAL;
  const file = timerfd(t, a.int(0));
  if (!("timer" in file)) return file;
  const old = current(file.timer);
  file.clearTicks();
  arm(t, file.timer, file.clock, (flags & TFD_TIMER_ABSTIME) !== 0, spec);
  if (op) writeItimerspec(t, op, wide, old);
  return 0;
};
/** Implements timerfd_settime(2). */
export const timerfd_settime = timerfdSettime(false);
export const timerfd_settime64 = timerfdSettime(true);

/** timerfd_gettime(2) and timerfd_gettime64 (i386). */
const timerfdGettime = (wide: boolean): Handler => (t, a) => {
  const file = timerfd(t, a.int(0));
  if (!("timer" in file)) return file;
  writeItimerspec(t, a.ptr(1), wide, current(file.timer));
  return 0;
};
/** Implements timerfd_gettime(2). */
export const timerfd_gettime = timerfdGettime(false);
export const timerfd_gettime64 = timerfdGettime(true);
