/**
 * Signal syscalls: dispositions, masks, sending, waiting, the alternate stack,
 * returning from handlers, and the interval timers. Linux: kernel/signal.c,
 * kernel/time/itimer.c. Delivery itself is Kernel.deliverSignals.
 */
import type { Handler } from "../abi";
import { capable, CAP_KILL } from "../capability";
import { EAGAIN, EINTR, EINVAL, ENOMEM, EPERM, ESRCH, Errno } from "../errno";
import { Block, type SysRet } from "../file";
import type { ThreadGroup } from "../process";
import {
  bit, NSIG, readSigAction, SA_NODEFER, SA_RESETHAND, SIG_IGN, SIGALRM, SIGCONT, SIGKILL, SIGPROF, SIGVTALRM, SIGSTOP, SI_TKILL, SI_USER, UNBLOCKABLE,
  writeSigAction, encodeSiginfo, hasDeliverable, isOnStack, type PendingSignal, type SigAction,
} from "../signal";
import type { Task } from "../task";

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;

/** Implements rt_sigaction(2). */
export const rt_sigaction: Handler = (t, a) => {
  const sig = a.int(0), act = a.ptr(1), oact = a.ptr(2);
  if (a.ulong(3) !== 8) return EINVAL;
  if (sig < 1 || sig > NSIG) return EINVAL;
  if (act && (sig === SIGKILL || sig === SIGSTOP)) return EINVAL;
  const incoming = act ? readSigAction(t.mm, t.arch, act) : undefined;
  if (oact) writeSigAction(t.mm, t.arch, oact, t.sighand.get(sig));
  if (incoming) setAction(t, sig, incoming);
  return 0;
};

/** Install `action` for `sig` (kernel/signal.c do_sigaction): SIGKILL and SIGSTOP stay unblockable, SIG_IGN discards what is pending. */
function setAction(t: Task, sig: number, action: SigAction): void {
  t.sighand.actions.set(sig, { ...action, mask: action.mask & ~UNBLOCKABLE });
  if (action.handler === SIG_IGN) discardPending(t.group, sig);
}

function discardPending(g: ThreadGroup, sig: number): void {
  g.signals.pending = g.signals.pending.filter((s) => s.sig !== sig);
  for (const th of g.threads) th.signals.pending = th.signals.pending.filter((s) => s.sig !== sig);
}

/** Implements rt_sigprocmask(2). */
export const rt_sigprocmask: Handler = (t, a) => {
  const how = a.int(0), set = a.ptr(1), oset = a.ptr(2);
  if (a.ulong(3) !== 8) return EINVAL;
  const old = t.sigmask;
  const next = set ? maskAfter(how, old, t.mm.u64(set), 0n) : old;
  if (next === undefined) return EINVAL;
  if (oset) t.mm.setU64(oset, old);
  if (set) setMask(t, next);
  return 0;
};

/** The mask sigprocmask's `how` makes of `old` and `bits`; SIG_SETMASK keeps the bits in `kept`. Undefined for a bad `how`. */
function maskAfter(how: number, old: bigint, bits: bigint, kept: bigint): bigint | undefined {
  if (how === SIG_BLOCK) return old | bits;
  if (how === SIG_UNBLOCK) return old & ~bits;
  if (how === SIG_SETMASK) return (old & kept) | bits;
  return undefined;
}

/** A new signal mask; unblocking a pending signal delivers it as this syscall returns. */
function setMask(t: Task, mask: bigint): void {
  t.sigmask = mask & ~UNBLOCKABLE;
  if (hasDeliverable(t)) t.reschedule = true;
}

/** The signals pending for `t`, its own and its process's. */
function pendingSet(t: Task): bigint {
  let set = 0n;
  for (const s of [...t.signals.pending, ...t.group.signals.pending]) set |= bit(s.sig);
  return set;
}

/** Implements rt_sigpending(2): what is pending and blocked, for this thread and its process. */
export const rt_sigpending: Handler = (t, a) => {
  if (a.ulong(1) > 8) return EINVAL;
  t.mm.setU64(a.ptr(0), pendingSet(t) & t.sigmask);
  return 0;
};

/** Implements rt_sigreturn(2). */
export const rt_sigreturn: Handler = (t) => sigreturnImpl(t, true);
/** Implements sigreturn(2) (i386, for handlers without SA_SIGINFO). */
export const sigreturn: Handler = (t) => sigreturnImpl(t, false);

function sigreturnImpl(t: Task, rt: boolean): SysRet {
  const r = t.arch.sigreturn(rt);
  if (!r) {
    // A frame the guest cannot have built: Linux sends SIGSEGV (force_sig).
    t.kernel.forceSignal(t, { sig: 11, code: SI_USER });
    return 0;
  }
  t.sigmask = r.mask & ~UNBLOCKABLE;
  if (hasDeliverable(t)) t.reschedule = true;
  return r.ret;
}

function checkSig(sig: number): boolean {
  return sig >= 0 && sig <= NSIG;
}

/** Implements kill(2). Everyone in the sandbox is the same user, so permission always holds. */
export const kill: Handler = (t, a) => {
  const pid = a.int(0), sig = a.int(1);
  if (!checkSig(sig)) return EINVAL;
  // A zombie is still there to be signalled (kill succeeds); the signal just does nothing.
  const groups = [...t.kernel.processes.groups.values()];
  let targets: ThreadGroup[];
  if (pid > 0) targets = groups.filter((g) => g.pid === pid);
  else if (pid === 0) targets = groups.filter((g) => g.pgid === t.group.pgid);
  else if (pid === -1) targets = groups.filter((g) => g !== t.group);
  else targets = groups.filter((g) => g.pgid === -pid);
  if (targets.length === 0) return ESRCH;
  // Of a group of targets, those the caller may not signal are left out; EPERM only when that is all of them.
  const allowed = targets.filter((g) => mayKill(t, g, sig));
  if (allowed.length === 0) return EPERM;
  if (sig === 0) return 0;
  const info: PendingSignal = { sig, code: SI_USER, pid: t.group.pid, uid: t.proc.uid };
  for (const g of allowed) if (!g.exit) t.kernel.signalGroup(g, info);
  return 0;
};

/**
 * kernel/signal.c check_kill_permission: the sender's real or effective uid is the
 * target's real or saved uid, or it has CAP_KILL; SIGCONT within a session is always allowed.
 */
function mayKill(t: Task, g: ThreadGroup, sig: number): boolean {
  // A zombie's credentials are gone with its threads here; signalling it does nothing anyway.
  const target = [...g.threads][0]?.proc;
  if (!target || capable(t.proc, CAP_KILL)) return true;
  if (sig === SIGCONT && g.sid === t.group.sid) return true;
  const { uid, euid } = t.proc;
  const tsuid = target.suid ?? target.uid;
  return euid === tsuid || euid === target.uid || uid === tsuid || uid === target.uid;
}

/** Send `info` to thread `tid` (of process `tgid`, when positive): do_send_specific. */
function sendToThread(t: Task, tgid: number, tid: number, info: PendingSignal): SysRet {
  const target = t.kernel.processes.tasks.get(tid);
  if (!target || target.exit || (tgid > 0 && target.group.pid !== tgid)) return ESRCH;
  if (!mayKill(t, target.group, info.sig)) return EPERM;
  if (info.sig !== 0) t.kernel.signalThread(target, info);
  return 0;
}

function threadKill(t: Task, tgid: number, tid: number, sig: number): SysRet {
  if (!checkSig(sig) || tid <= 0) return EINVAL;
  return sendToThread(t, tgid, tid, { sig, code: SI_TKILL, pid: t.group.pid, uid: t.proc.uid });
}

/** Implements tgkill(2). */
export const tgkill: Handler = (t, a) => (a.int(0) <= 0 ? EINVAL : threadKill(t, a.int(0), a.int(1), a.int(2)));
/** Implements tkill(2). */
export const tkill: Handler = (t, a) => threadKill(t, 0, a.int(0), a.int(1));

/** A wait that only a signal ends: the scheduler interrupts it, and the result is EINTR. */
const untilSignal = (): Block => new Block(new Promise<void>(() => undefined), () => EINTR);

/** Implements pause(2). */
export const pause: Handler = () => untilSignal();

/** Implements rt_sigsuspend(2): wait with a temporary mask, restored after the handler. */
export const rt_sigsuspend: Handler = (t, a) => {
  if (a.ulong(1) !== 8) return EINVAL;
  return suspendWith(t, t.mm.u64(a.ptr(0)));
};

/** Sleep under a temporary mask until a handler runs (kernel/signal.c sigsuspend); the old mask returns after it. */
function suspendWith(t: Task, mask: bigint): SysRet {
  t.signals.savedMask = t.sigmask;
  t.sigmask = mask & ~UNBLOCKABLE;
  if (hasDeliverable(t)) {
    t.reschedule = true;
    return EINTR;
  }
  return untilSignal();
}

/** rt_sigtimedwait(2) and its _time64 form: take a pending signal from `set` without running a handler. */
const sigtimedwait = (wide: boolean): Handler => (t, a) => {
  if (a.ulong(3) !== 8) return EINVAL;
  const set = t.mm.u64(a.ptr(0)) & ~UNBLOCKABLE, infop = a.ptr(1), tp = a.ptr(2);
  let ms: number | undefined;
  if (tp) {
    const w = wide ? 8 : t.arch.wordSize;
    const sec = w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(tp))) : t.mm.i32(tp);
    const nsec = w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(tp + 8))) : t.mm.i32(tp + 4);
    if (sec < 0 || nsec < 0 || nsec >= 1e9) return EINVAL;
    ms = sec * 1e3 + nsec / 1e6;
  }
  const take = (): SysRet => {
    for (const q of [t.signals.pending, t.group.signals.pending]) {
      const i = q.findIndex((s) => set & bit(s.sig));
      if (i >= 0) {
        const s = q.splice(i, 1)[0];
        if (infop) t.mm.write(infop, encodeSiginfo(s, t.arch.wordSize));
        return s.sig;
      }
    }
    return EAGAIN;
  };
  const now = take();
  if (now !== EAGAIN || ms === 0) return now;
  // While it sleeps, a signal of `set` wakes the call, which takes it (blocked or not: do_sigtimedwait
  // unblocks them for the sleep and dequeues before any handler could run); other signals interrupt it.
  const started = Date.now();
  const wait = (): SysRet => {
    const r = take();
    if (r !== EAGAIN) return (t.signals.awaited = undefined, r);
    const left = ms === undefined ? Infinity : ms - (Date.now() - started);
    if (left <= 0) return (t.signals.awaited = undefined, EAGAIN);
    t.signals.awaited = set;
    // The timeout must end the wait even when no signal comes.
    let timer: NodeJS.Timeout | undefined;
    const expiry = left === Infinity ? new Promise<void>(() => undefined) : new Promise<void>((r) => (timer = setTimeout(r, Math.ceil(left))));
    const done = () => clearTimeout(timer);
    return new Block(Promise.race([t.kernel.signalArrival(t.group), expiry]), () => (done(), wait()),
      () => (done(), t.signals.awaited = undefined));
  };
  return wait();
};
export const rt_sigtimedwait = sigtimedwait(false);
export const rt_sigtimedwait_time64 = sigtimedwait(true);

/** MINSIGSTKSZ: 2048 on x86, 5120 on arm64 (each arch's uapi asm/signal.h). */
const minSigStack = (t: Task): number => (t.arch.name === "aarch64" ? 5120 : 2048);

/** Implements sigaltstack(2). stack_t is { sp, flags, size } in the arch's words. */
export const sigaltstack: Handler = (t, a) => {
  const ss = a.ptr(0), old = a.ptr(1), w = t.arch.wordSize;
  const cur = t.signals.altstack;
  const onStack = cur !== undefined && isOnStack(t, cur);
  let next: { sp: number; size: number; flags: number } | undefined | "disable";
  if (ss) {
    const ssSp = w === 8 ? t.mm.u64n(ss) : t.mm.u32(ss);
    const flags = t.mm.i32(ss + w);
    const size = w === 8 ? t.mm.u64n(ss + 16) : t.mm.u32(ss + 8);
    if (onStack) return EPERM;
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return EINVAL;
    if (mode === SS_DISABLE) next = "disable";
    else {
      if (size < minSigStack(t)) return ENOMEM;
      next = { sp: ssSp, size, flags: flags & SS_AUTODISARM };
    }
  }
  if (old) {
    const b = new Uint8Array(w === 8 ? 24 : 12), d = new DataView(b.buffer);
    const flags = cur ? (onStack ? SS_ONSTACK : 0) | cur.flags : SS_DISABLE;
    if (w === 8) {
      d.setBigUint64(0, BigInt(cur?.sp ?? 0), true);
      d.setInt32(8, flags, true);
      d.setBigUint64(16, BigInt(cur?.size ?? 0), true);
    } else {
      d.setUint32(0, cur?.sp ?? 0, true);
      d.setInt32(4, flags, true);
      d.setUint32(8, cur?.size ?? 0, true);
    }
    t.mm.write(old, b);
  }
  if (next === "disable") t.signals.altstack = undefined;
  else if (next) t.signals.altstack = next;
  return 0;
};

const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;

/** The signal each interval timer raises. */
const ITIMER_SIGNAL = [SIGALRM, SIGVTALRM, SIGPROF];

/**
 * Arm (or with 0 disarm) one of the process's interval timers; returns the old one as
 * [remaining ms, interval ms]. syscage keeps no CPU-time accounting, so ITIMER_VIRTUAL and
 * ITIMER_PROF count wall time, an upper bound of the CPU time they measure (as the CPU clocks do).
 */
function setItimer(t: Task, which: number, valueMs: number, intervalMs: number): [number, number] {
  const g = t.group;
  const cur = g.itimers[which];
  const old: [number, number] = cur ? [Math.max(0, cur.due - Date.now()), cur.interval] : [0, 0];
  if (cur) clearTimeout(cur.timer);
  g.itimers[which] = undefined;
  if (valueMs > 0) {
    const fire = () => {
      const it = g.itimers[which];
      if (g.exit || !it) return;
      t.kernel.signalGroup(g, { sig: ITIMER_SIGNAL[which], code: 0x80 /* SI_KERNEL */ });
      if (intervalMs > 0) {
        it.due = Date.now() + intervalMs;
        it.timer = setTimeout(fire, intervalMs);
      } else g.itimers[which] = undefined;
    };
    g.itimers[which] = { timer: setTimeout(fire, valueMs), due: Date.now() + valueMs, interval: intervalMs };
    // The next run must be sliced, or a busy loop waiting for this timer's signal would never see it.
    t.reschedule = true;
  }
  return old;
}

/** Implements alarm(2): the previous alarm's remaining seconds, rounded as Linux does. */
export const alarm: Handler = (t, a) => {
  const [left] = setItimer(t, ITIMER_REAL, a.uint(0) * 1000, 0);
  return left > 0 ? Math.max(1, Math.round(left / 1000)) : 0;
};

/** struct itimerval: two timevals of arch longs. */
function readItimerval(t: Task, p: number): [number, number] | undefined {
  const w = t.arch.wordSize;
  const rd = (i: number) => (w === 8 ? Number(BigInt.asIntN(64, t.mm.u64(p + 8 * i))) : t.mm.i32(p + 4 * i));
  const [isec, iusec, vsec, vusec] = [rd(0), rd(1), rd(2), rd(3)];
  if (iusec < 0 || iusec >= 1e6 || vusec < 0 || vusec >= 1e6 || isec < 0 || vsec < 0) return undefined;
  return [vsec * 1e3 + vusec / 1e3, isec * 1e3 + iusec / 1e3];
}

function writeItimerval(t: Task, p: number, valueMs: number, intervalMs: number): void {
  const w = t.arch.wordSize;
  const parts = [intervalMs, valueMs].flatMap((ms) => [Math.floor(ms / 1e3), Math.round((ms % 1e3) * 1e3)]);
  const b = new Uint8Array(4 * w), d = new DataView(b.buffer);
  parts.forEach((v, i) => (w === 8 ? d.setBigInt64(8 * i, BigInt(v), true) : d.setInt32(4 * i, v, true)));
  t.mm.write(p, b);
}

/** Implements setitimer(2). */
export const setitimer: Handler = (t, a) => {
  const which = a.int(0), nv = a.ptr(1), ov = a.ptr(2);
  if (which !== ITIMER_REAL && which !== ITIMER_VIRTUAL && which !== ITIMER_PROF) return EINVAL;
  const v = nv ? readItimerval(t, nv) : ([0, 0] as [number, number]);
  if (!v) return EINVAL;
  const [left, interval] = setItimer(t, which, v[0], v[1]);
  if (ov) writeItimerval(t, ov, left, interval);
  return 0;
};

/** Implements getitimer(2). */
export const getitimer: Handler = (t, a) => {
  const which = a.int(0);
  if (which !== ITIMER_REAL && which !== ITIMER_VIRTUAL && which !== ITIMER_PROF) return EINVAL;
  const it = t.group.itimers[which];
  writeItimerval(t, a.ptr(1), it ? Math.max(0, it.due - Date.now()) : 0, it?.interval ?? 0);
  return 0;
};

// --- i386's old signal calls: a 32-bit old_sigset_t and struct old_sigaction (kernel/signal.c) ---

const LOW_WORD = 0xffffffffn;

/** Implements sigprocmask(2) (i386): only the first 32 signals' bits change. */
export const sigprocmask: Handler = (t, a) => {
  const how = a.int(0), set = a.ptr(1), oset = a.ptr(2);
  const old = t.sigmask;
  const next = set ? maskAfter(how, old, BigInt(t.mm.u32(set)), ~LOW_WORD) : old;
  if (next === undefined) return EINVAL;
  if (set) setMask(t, next);
  if (oset) t.mm.setU32(oset, Number(old & LOW_WORD));
  return 0;
};

/** Implements sigpending(2) (i386). */
export const sigpending: Handler = (t, a) => {
  t.mm.setU32(a.ptr(0), Number(pendingSet(t) & t.sigmask & LOW_WORD));
  return 0;
};

/** Implements sigsuspend(2) (i386: the mask is the third argument, one word). */
export const sigsuspend: Handler = (t, a) => suspendWith(t, BigInt(a.uint(2)));

/** struct old_sigaction (i386): handler, a one-word mask, flags, restorer. */
const OLD_SIGACTION_SIZE = 16;

/** Implements sigaction(2) (i386). */
export const sigaction: Handler = (t, a) => {
  const sig = a.int(0), act = a.ptr(1), oact = a.ptr(2);
  if (sig < 1 || sig > NSIG) return EINVAL;
  if (act && (sig === SIGKILL || sig === SIGSTOP)) return EINVAL;
  const incoming = act && {
    handler: t.mm.u32(act), mask: BigInt(t.mm.u32(act + 4)), flags: t.mm.u32(act + 8), restorer: t.mm.u32(act + 12),
  };
  if (oact) {
    const cur = t.sighand.get(sig);
    const b = new DataView(new ArrayBuffer(OLD_SIGACTION_SIZE));
    b.setUint32(0, cur.handler >>> 0, true);
    b.setUint32(4, Number(cur.mask & LOW_WORD), true);
    b.setUint32(8, cur.flags >>> 0, true);
    b.setUint32(12, cur.restorer >>> 0, true);
    t.mm.write(oact, new Uint8Array(b.buffer));
  }
  if (incoming) setAction(t, sig, incoming);
  return 0;
};

/** Implements signal(2) (i386): a one-shot handler that does not block its signal; returns the old handler. */
export const signal: Handler = (t, a) => {
  const sig = a.int(0), handler = a.uint(1);
  if (sig < 1 || sig > NSIG || sig === SIGKILL || sig === SIGSTOP) return EINVAL;
  const old = t.sighand.get(sig).handler;
  setAction(t, sig, { handler, flags: SA_RESETHAND | SA_NODEFER, restorer: 0, mask: 0n });
  return old >>> 0;
};

/**
 * The siginfo a caller of rt_sigqueueinfo/rt_tgsigqueueinfo supplies (do_rt_sigqueueinfo): only for
 * itself may it claim a kernel or kill()/tkill() origin (si_code >= 0 or SI_TKILL), else EPERM.
 */
function userSiginfo(t: Task, sig: number, p: number, target: number): PendingSignal | Errno {
  const u = t.arch.wordSize === 8 ? 16 : 12;
  const code = t.mm.i32(p + 8);
  if ((code >= 0 || code === SI_TKILL) && target !== t.tid) return EPERM;
  const value = t.arch.wordSize === 8 ? t.mm.u64(p + u + 8) : BigInt(t.mm.u32(p + u + 8));
  return { sig, code, pid: t.mm.i32(p + u), uid: t.mm.u32(p + u + 4), value };
}

/** Implements rt_sigqueueinfo(2): a signal with the caller's siginfo for a process. */
export const rt_sigqueueinfo: Handler = (t, a) => {
  const pid = a.int(0), sig = a.int(1);
  if (!checkSig(sig)) return EINVAL;
  const info = userSiginfo(t, sig, a.ptr(2), pid);
  if (info instanceof Errno) return info;
  // Any task's id names its process here (kill_proc_info: find_vpid), a thread's too.
  const g = pid > 0 ? t.kernel.processes.groups.get(pid) ?? t.kernel.processes.tasks.get(pid)?.group : undefined;
  if (!g) return ESRCH;
  if (!mayKill(t, g, sig)) return EPERM;
  if (sig !== 0 && !g.exit) t.kernel.signalGroup(g, info);
  return 0;
};

/** Implements rt_tgsigqueueinfo(2): the same for one thread of a process. */
export const rt_tgsigqueueinfo: Handler = (t, a) => {
  const tgid = a.int(0), tid = a.int(1), sig = a.int(2);
  if (tgid <= 0 || tid <= 0 || !checkSig(sig)) return EINVAL;
  const info = userSiginfo(t, sig, a.ptr(3), tgid);
  return info instanceof Errno ? info : sendToThread(t, tgid, tid, info);
};
