/**
 * Scheduling attributes: policies and real-time priorities (sched_*), nice
 * values (nice, getpriority, setpriority) and I/O priorities (ioprio_*).
 * Linux: kernel/sched/syscalls.c, kernel/sys.c, block/ioprio.c. syscage runs
 * every task on one host thread, so these only change what the guest reads
 * back; the values are checked as Linux checks them. A process's threads
 * share one set (Linux keeps one per thread).
 */
import type { Handler } from "../abi";
import { capable } from "../capability";
import { E2BIG, EACCES, EBUSY, EINVAL, EPERM, ESRCH, type Errno } from "../errno";
import type { SysRet } from "../file";
import type { ProcessInfo, Task } from "../task";

/** Policies, include/uapi/linux/sched.h. */
const SCHED_NORMAL = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
const SCHED_RESET_ON_FORK = 0x40000000;
/** sched_attr.sched_flags, include/uapi/linux/sched.h. */
const SCHED_FLAG_RESET_ON_FORK = 0x01, SCHED_FLAG_KEEP_POLICY = 0x08, SCHED_FLAG_KEEP_PARAMS = 0x10,
  SCHED_FLAG_UTIL_CLAMP = 0x60, SCHED_FLAG_ALL = 0x7f, SCHED_FLAG_SUGOV = 0x10000000;
const SCHED_ATTR_SIZE_VER0 = 48, SCHED_ATTR_SIZE_VER1 = 56;
const MAX_RT_PRIO = 100, MIN_NICE = -20, MAX_NICE = 19, NICE_WIDTH = 40;
/** sysctl_sched_dl_period_{min,max} defaults, in ns; and sched_rt_runtime/period_us (950000/1000000). */
const DL_PERIOD_MIN = 100_000n, DL_PERIOD_MAX = (1n << 22n) * 1000n, DL_SCALE = 10n;
/** RR_TIMESLICE: 100 ms. */
const RR_TIMESLICE_NS = 100_000_000n;
const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
const CAP_SYS_NICE = 23, CAP_SYS_ADMIN = 21;
const RLIMIT_NICE = 13, RLIMIT_RTPRIO = 14;
const PAGE_SIZE = 4096;
/** I/O priority classes, include/uapi/linux/ioprio.h. */
const IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3;
const IOPRIO_CLASS_SHIFT = 13, IOPRIO_BITS = 16, IOPRIO_NR_LEVELS = 8;
const IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3;

export interface SchedState {
  policy: number;
  /** sched_priority: 1..99 for SCHED_FIFO/RR, 0 otherwise. */
  priority: number;
  nice: number;
  resetOnFork: boolean;
  /** SCHED_DEADLINE parameters, in ns. */
  runtime: bigint; deadline: bigint; period: bigint;
  /** ioprio_set's value; IOPRIO_CLASS_NONE (0) until set. */
  ioprio: number;
  /** The process this was set for: another one holding it got it by fork (see state()). */
  owner?: ProcessInfo;
}

const DEFAULT: SchedState = {
  policy: SCHED_NORMAL, priority: 0, nice: 0, resetOnFork: false, runtime: 0n, deadline: 0n, period: 0n, ioprio: 0,
};

/**
 * The process's settings. fork copies ProcessInfo, so a process holding a
 * state set for another one is a child meeting it for the first time: that is
 * when sched_fork's SCHED_RESET_ON_FORK applies (real-time and deadline
 * policies back to SCHED_NORMAL, a negative nice back to 0).
 */
function state(p: ProcessInfo): SchedState {
  const s = p.sched;
  if (!s) return DEFAULT;
  if (s.owner === p) return s;
  let inherited: SchedState = { ...s, owner: p };
  if (s.resetOnFork) {
    inherited = { ...inherited, resetOnFork: false };
    if (!isFair(s.policy)) Object.assign(inherited, { policy: SCHED_NORMAL, priority: 0, nice: 0 });
    else if (s.nice < 0) inherited.nice = 0;
  }
  return (p.sched = inherited);
}
const update = (p: ProcessInfo, change: Partial<SchedState>): void => { p.sched = { ...state(p), ...change, owner: p }; };

const isRt = (policy: number): boolean => policy === SCHED_FIFO || policy === SCHED_RR;
const isFair = (policy: number): boolean => policy === SCHED_NORMAL || policy === SCHED_BATCH || policy === SCHED_IDLE;
const validPolicy = (policy: number): boolean => isFair(policy) || isRt(policy) || policy === SCHED_DEADLINE;

/** find_process_by_pid: 0 is the caller. */
function findTask(t: Task, pid: number): Task | undefined {
  if (pid === 0) return t;
  const target = t.kernel.processes.tasks.get(pid);
  return target && !target.exit ? target : undefined;
}

const rlimit = (t: Task, res: number): bigint => t.proc.rlimits.get(res)?.[0] ?? 0n;
/** nice_to_rlimit: RLIMIT_NICE counts 1..40 for nice 19..-20. */
const niceToRlimit = (nice: number): number => MAX_NICE - nice + 1;
/** can_nice: lowering nice needs RLIMIT_NICE room or CAP_SYS_NICE. */
const canNice = (t: Task, nice: number): boolean =>
  BigInt(niceToRlimit(nice)) <= rlimit(t, RLIMIT_NICE) || capable(t.proc, CAP_SYS_NICE);
/** check_same_owner: the caller's euid is the target's uid or euid. */
const sameOwner = (t: Task, p: Task): boolean => t.proc.euid === p.proc.euid || t.proc.euid === p.proc.uid;

interface Attr {
  policy: number; flags: number; nice: number; priority: number; runtime: bigint; deadline: bigint; period: bigint;
}

/** __checkparam_dl: runtime <= deadline <= period, within the sysctl bounds. */
function checkDeadline(a: Attr): boolean {
  if (a.flags & SCHED_FLAG_SUGOV) return true;
  if (a.deadline === 0n || a.runtime < 1n << DL_SCALE) return false;
  if (a.deadline >= 1n << 63n || a.period >= 1n << 63n) return false;
  const period = a.period || a.deadline;
  if (period < a.deadline || a.deadline < a.runtime) return false;
  return period >= DL_PERIOD_MIN && period <= DL_PERIOD_MAX;
}

/** user_check_sched_setscheduler: what an unprivileged caller may not do without CAP_SYS_NICE. */
function needsPrivilege(t: Task, p: Task, a: Attr, policy: number, resetOnFork: boolean): boolean {
  const cur = state(p.proc);
  if (isFair(policy) && a.nice < cur.nice && !canNice(p, a.nice)) return true;
  if (isRt(policy)) {
    const rtprio = rlimit(p, RLIMIT_RTPRIO);
    if (policy !== cur.policy && rtprio === 0n) return true;
    if (a.priority > cur.priority && BigInt(a.priority) > rtprio) return true;
  }
  if (policy === SCHED_DEADLINE) return true;
  if (cur.policy === SCHED_IDLE && policy !== SCHED_IDLE && !canNice(p, cur.nice)) return true;
  if (!sameOwner(t, p)) return true;
  return cur.resetOnFork && !resetOnFork;
}

/** __sched_setscheduler: a policy below 0 keeps the current one (sched_setparam). */
function setScheduler(t: Task, p: Task, a: Attr): SysRet {
  const cur = state(p.proc);
  let policy = a.policy, resetOnFork = cur.resetOnFork;
  if (policy < 0) policy = cur.policy;
  else {
    resetOnFork = (a.flags & SCHED_FLAG_RESET_ON_FORK) !== 0;
    if (!validPolicy(policy)) return EINVAL;
  }
  if (a.flags & ~(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV)) return EINVAL;
  if (a.priority >>> 0 > MAX_RT_PRIO - 1) return EINVAL;
  if ((policy === SCHED_DEADLINE && !checkDeadline(a)) || isRt(policy) !== (a.priority !== 0)) return EINVAL;
  if (needsPrivilege(t, p, a, policy, resetOnFork) && !capable(t.proc, CAP_SYS_NICE)) return EPERM;
  // sched_dl_overflow: one CPU whose deadline bandwidth is capped at sched_rt_runtime/period (95%).
  if (policy === SCHED_DEADLINE && a.runtime * 100n > (a.period || a.deadline) * 95n) return EBUSY;
  const change: Partial<SchedState> = { policy, resetOnFork, priority: isRt(policy) ? a.priority : 0 };
  if (isFair(policy)) change.nice = a.nice;
  if (policy === SCHED_DEADLINE) Object.assign(change, { runtime: a.runtime, deadline: a.deadline, period: a.period });
  update(p.proc, change);
  return 0;
}

/** do_sched_setscheduler: sched_setscheduler and sched_setparam read a struct sched_param (one int). */
function setFromParam(t: Task, pid: number, policy: number, param: number): SysRet {
  if (!param || pid < 0) return EINVAL;
  const priority = t.mm.i32(param);
  const p = findTask(t, pid);
  if (!p) return ESRCH;
  const flags = policy >= 0 && policy & SCHED_RESET_ON_FORK ? SCHED_FLAG_RESET_ON_FORK : 0;
  if (policy >= 0) policy &= ~SCHED_RESET_ON_FORK;
  const nice = state(p.proc).nice;
  return setScheduler(t, p, { policy, flags, nice, priority, runtime: 0n, deadline: 0n, period: 0n });
}

/** Implements sched_setscheduler(2). */
export const sched_setscheduler: Handler = (t, a) => {
  if (a.int(1) < 0) return EINVAL;
  return setFromParam(t, a.int(0), a.int(1), a.ptr(2));
};

/** Implements sched_setparam(2): the current policy with a new priority. */
export const sched_setparam: Handler = (t, a) => setFromParam(t, a.int(0), -1, a.ptr(1));

/** Implements sched_getscheduler(2). */
export const sched_getscheduler: Handler = (t, a) => {
  if (a.int(0) < 0) return EINVAL;
  const p = findTask(t, a.int(0));
  if (!p) return ESRCH;
  const s = state(p.proc);
  return s.policy | (s.resetOnFork ? SCHED_RESET_ON_FORK : 0);
};

/** Implements sched_getparam(2). */
export const sched_getparam: Handler = (t, a) => {
  const pid = a.int(0), param = a.ptr(1);
  if (!param || pid < 0) return EINVAL;
  const p = findTask(t, pid);
  if (!p) return ESRCH;
  t.mm.setU32(param, state(p.proc).priority);
  return 0;
};

/** Implements sched_get_priority_max(2). */
export const sched_get_priority_max: Handler = (_t, a) => {
  const policy = a.int(0);
  if (isRt(policy)) return MAX_RT_PRIO - 1;
  return validPolicy(policy) ? 0 : EINVAL;
};

/** Implements sched_get_priority_min(2). */
export const sched_get_priority_min: Handler = (_t, a) => {
  const policy = a.int(0);
  if (isRt(policy)) return 1;
  return validPolicy(policy) ? 0 : EINVAL;
};

/**
 * sched_rr_get_interval(2) and its _time64 form: SCHED_RR's 100 ms slice, 0 for
 * SCHED_FIFO; a fair task gets CFS's slice for a lone task on its CPU
 * (sysctl_sched_base_slice, 3 ms, as get_rr_interval_fair gives it).
 */
const rrInterval = (wide: boolean): Handler => (t, a) => {
  const pid = a.int(0), tp = a.ptr(1);
  if (pid < 0) return EINVAL;
  const p = findTask(t, pid);
  if (!p) return ESRCH;
  const policy = state(p.proc).policy;
  const ns = policy === SCHED_RR ? RR_TIMESLICE_NS : isFair(policy) ? CFS_SLICE_NS : 0n;
  const sec = ns / 1_000_000_000n, nsec = ns % 1_000_000_000n;
  if (wide || t.arch.wordSize === 8) {
    t.mm.setU64(tp, sec);
    t.mm.setU64(tp + 8, nsec);
  } else {
    t.mm.setU32(tp, Number(sec));
    t.mm.setU32(tp + 4, Number(nsec));
  }
  return 0;
};
const CFS_SLICE_NS = 3_000_000n;
/** Implements sched_rr_get_interval(2). */
export const sched_rr_get_interval = rrInterval(false);
export const sched_rr_get_interval_time64 = rrInterval(true);

/**
 * Implements sched_setaffinity(2): the guest has one CPU, so the mask must
 * include CPU 0. A shorter mask is zero-extended and a longer one cut, as
 * get_user_cpu_mask does.
 */
export const sched_setaffinity: Handler = (t, a) => {
  const len = a.uint(1), mask = a.ptr(2);
  const first = len > 0 ? t.mm.read(mask, 1)[0] : 0;
  const p = findTask(t, a.int(0));
  if (!p) return ESRCH;
  if (!sameOwner(t, p) && !capable(t.proc, CAP_SYS_NICE)) return EPERM;
  return first & 1 ? 0 : EINVAL;
};

/** Implements sched_setattr(2). Linux: sched_copy_attr, then __sched_setscheduler. */
export const sched_setattr: Handler = (t, a) => {
  const pid = a.int(0), p = a.ptr(1);
  if (!p || pid < 0 || a.uint(2) !== 0) return EINVAL;
  let size = t.mm.u32(p);
  if (size > PAGE_SIZE) return tooBig(t, p);
  if (size === 0) size = SCHED_ATTR_SIZE_VER0;
  if (size < SCHED_ATTR_SIZE_VER0) return tooBig(t, p);
  const raw = t.mm.read(p, size);
  // copy_struct_from_user: a newer struct is fine while its unknown tail is zero.
  if (raw.subarray(SCHED_ATTR_SIZE_VER1).some((b) => b !== 0)) return tooBig(t, p);
  const d = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const flags = Number(d.getBigUint64(8, true) & 0xffffffffn) + (d.getUint32(12, true) ? 2 ** 32 : 0);
  if (flags & SCHED_FLAG_UTIL_CLAMP && size < SCHED_ATTR_SIZE_VER1) return EINVAL;
  const attr: Attr = {
    policy: d.getInt32(4, true), flags, nice: Math.min(MAX_NICE, Math.max(MIN_NICE, d.getInt32(16, true))),
    priority: d.getUint32(20, true), runtime: d.getBigUint64(24, true), deadline: d.getBigUint64(32, true),
    period: d.getBigUint64(40, true),
  };
  if (attr.policy < 0) return EINVAL;
  if (attr.flags & SCHED_FLAG_KEEP_POLICY) attr.policy = -1;
  const target = findTask(t, pid);
  if (!target) return ESRCH;
  if (attr.flags & SCHED_FLAG_KEEP_PARAMS) {
    const s = state(target.proc);
    Object.assign(attr, { nice: s.nice, priority: s.priority, runtime: s.runtime, deadline: s.deadline, period: s.period });
  }
  return setScheduler(t, target, attr);
};

/** sched_copy_attr's E2BIG also tells the caller the size the kernel knows. */
function tooBig(t: Task, p: number): Errno {
  t.mm.setU32(p, SCHED_ATTR_SIZE_VER1);
  return E2BIG;
}

/** Implements sched_getattr(2): at most `usize` bytes, with size saying how many are meaningful. */
export const sched_getattr: Handler = (t, a) => {
  const pid = a.int(0), p = a.ptr(1), usize = a.uint(2);
  if (!p || pid < 0 || usize > PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 || a.uint(3) !== 0) return EINVAL;
  const target = findTask(t, pid);
  if (!target) return ESRCH;
  const s = state(target.proc);
  const b = new Uint8Array(SCHED_ATTR_SIZE_VER1), d = new DataView(b.buffer);
  const size = Math.min(usize, SCHED_ATTR_SIZE_VER1);
  d.setUint32(0, size, true);
  d.setUint32(4, s.policy, true);
  d.setBigUint64(8, BigInt(s.resetOnFork ? SCHED_FLAG_RESET_ON_FORK : 0), true);
  if (s.policy === SCHED_DEADLINE) {
    d.setBigUint64(24, s.runtime, true);
    d.setBigUint64(32, s.deadline, true);
    d.setBigUint64(40, s.period, true);
  } else if (isRt(s.policy)) d.setUint32(20, s.priority, true);
  else d.setInt32(16, s.nice, true);
  // util_min and util_max stay 0: a kernel without CONFIG_UCLAMP_TASK.
  t.mm.write(p, b.subarray(0, size));
  return 0;
};

/** Implements nice(2) (i386): EPERM, not EACCES, for a decrease the caller may not make. */
export const nice: Handler = (t, a) => {
  const inc = Math.min(NICE_WIDTH, Math.max(-NICE_WIDTH, a.int(0)));
  const value = Math.min(MAX_NICE, Math.max(MIN_NICE, state(t.proc).nice + inc));
  if (inc < 0 && !canNice(t, value)) return EPERM;
  update(t.proc, { nice: value });
  return 0;
};

/** The processes `which`/`who` names (kernel/sys.c): one per process, since its threads share one nice. */
function prioTargets(t: Task, which: number, who: number): Task[] {
  const groups = [...t.kernel.processes.groups.values()].filter((g) => !g.exit);
  const leader = (g: (typeof groups)[number]) => [...g.threads][0];
  if (which === PRIO_PROCESS) {
    const p = findTask(t, who);
    return p ? [p] : [];
  }
  if (which === PRIO_PGRP) {
    const pgid = who || t.group.pgid;
    return groups.filter((g) => g.pgid === pgid).map(leader).filter((p) => p !== undefined);
  }
  const uid = who || t.proc.uid;
  return groups.map(leader).filter((p) => p !== undefined && p.proc.uid === uid);
}

/** Implements getpriority(2): the highest priority among the targets, as 20 - nice so it is never negative. */
export const getpriority: Handler = (t, a) => {
  const which = a.int(0);
  if (which < PRIO_PROCESS || which > PRIO_USER) return EINVAL;
  const targets = prioTargets(t, which, a.int(1));
  if (targets.length === 0) return ESRCH;
  return Math.max(...targets.map((p) => niceToRlimit(state(p.proc).nice)));
};

/** Implements setpriority(2). Linux: set_one_prio; the last failure wins, and any success clears ESRCH. */
export const setpriority: Handler = (t, a) => {
  const which = a.int(0);
  if (which < PRIO_PROCESS || which > PRIO_USER) return EINVAL;
  const value = Math.min(MAX_NICE, Math.max(MIN_NICE, a.int(2)));
  let error: number | Errno = ESRCH;
  for (const p of prioTargets(t, which, a.int(1))) {
    const mayChange = p.proc.uid === t.proc.euid || p.proc.euid === t.proc.euid || capable(t.proc, CAP_SYS_NICE);
    if (!mayChange) error = EPERM;
    else if (value < state(p.proc).nice && !canNice(t, value)) error = EACCES;
    else {
      if (error === ESRCH) error = 0;
      update(p.proc, { nice: value });
    }
  }
  return error;
};

const ioprioClass = (v: number): number => (v >> IOPRIO_CLASS_SHIFT) & 7;
const ioprioLevel = (v: number): number => v & 7;

/** ioprio_check_cap. */
function checkIoprio(t: Task, v: number): Errno | 0 {
  if (v >= 1 << IOPRIO_BITS) return EINVAL;
  switch (ioprioClass(v)) {
    case IOPRIO_CLASS_RT:
      if (!capable(t.proc, CAP_SYS_NICE) && !capable(t.proc, CAP_SYS_ADMIN)) return EPERM;
      return ioprioLevel(v) >= IOPRIO_NR_LEVELS ? EINVAL : 0;
    case IOPRIO_CLASS_BE:
      return ioprioLevel(v) >= IOPRIO_NR_LEVELS ? EINVAL : 0;
    case IOPRIO_CLASS_IDLE:
      return 0;
    case IOPRIO_CLASS_NONE:
      return ioprioLevel(v) ? EINVAL : 0;
    default:
      return EINVAL;
  }
}

/** The targets of ioprio_get/ioprio_set; undefined for a `which` Linux does not know. */
function ioprioTargets(t: Task, which: number, who: number): Task[] | undefined {
  if (which === IOPRIO_WHO_PROCESS) return prioTargets(t, PRIO_PROCESS, who);
  if (which === IOPRIO_WHO_PGRP) return prioTargets(t, PRIO_PGRP, who);
  if (which === IOPRIO_WHO_USER) return prioTargets(t, PRIO_USER, who);
  return undefined;
}

/** Implements ioprio_set(2). Linux: set_task_ioprio needs the caller to own the target or CAP_SYS_NICE. */
export const ioprio_set: Handler = (t, a) => {
  const value = a.int(2);
  const bad = checkIoprio(t, value);
  if (bad) return bad;
  const targets = ioprioTargets(t, a.int(0), a.int(1));
  if (!targets) return EINVAL;
  if (targets.length === 0) return ESRCH;
  for (const p of targets) {
    if (p.proc.uid !== t.proc.euid && p.proc.uid !== t.proc.uid && !capable(t.proc, CAP_SYS_NICE)) return EPERM;
    update(p.proc, { ioprio: value });
  }
  return 0;
};

/** ioprio_best: the numerically lowest. */
const ioprioBest = (x: number, y: number): number => Math.min(x, y);

/** Implements ioprio_get(2). */
export const ioprio_get: Handler = (t, a) => {
  const targets = ioprioTargets(t, a.int(0), a.int(1));
  if (!targets) return EINVAL;
  if (targets.length === 0) return ESRCH;
  return targets.map((p) => state(p.proc).ioprio).reduce(ioprioBest);
};
