/**
 * Signals: dispositions, pending sets, and the decision of what delivering a
 * signal means (run a handler, ignore it, or end the process). Linux:
 * kernel/signal.c. Building the handler's stack frame is the arch's job
 * (ArchOps.setupSignalFrame / sigreturn).
 */
import type { ArchOps, SyscallArgs } from "./abi";
import type { AddressSpace } from "./memory";
import type { ThreadGroup } from "./process";
import type { Task } from "./task";

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
  SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15,
  SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23,
  SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGSYS = 31;
/** The first real-time signal: below it a signal is pending at most once (the kernel's SIGRTMIN; glibc keeps 32 and 33 for itself). */
export const SIGRTMIN = 32;
export const NSIG = 64;

export const SIG_DFL = 0, SIG_IGN = 1;
/** sa_flags, include/uapi/asm-generic/signal-defs.h. */
export const SA_NOCLDSTOP = 1, SA_NOCLDWAIT = 2, SA_SIGINFO = 4, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000,
  SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
/** si_code values, include/uapi/asm-generic/siginfo.h. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_TKILL = -6, SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2,
  FPE_INTDIV = 1, TRAP_BRKPT = 1, CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6;

export const bit = (sig: number): bigint => 1n << BigInt(sig - 1);
export const UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);

export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: bigint;
}

export const DEFAULT_ACTION: SigAction = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };

/** One queued signal with the siginfo fields that vary. */
export interface PendingSignal {
  sig: number;
  code: number;
  pid?: number;
  uid?: number;
  addr?: number;
  status?: number;
  /** SIGSYS from seccomp: si_errno, si_syscall, si_arch (the call's address is `addr`). */
  errno?: number;
  syscall?: number;
  arch?: number;
  /** A POSIX timer's signal (SI_TIMER): si_timerid, si_overrun, and si_value from its sigevent. */
  timerid?: number;
  overrun?: number;
  value?: bigint;
}

/** What a signal does when nobody handles it (kernel/signal.c sig_kernel_*). */
export function defaultAction(sig: number): "terminate" | "core" | "ignore" | "stop" | "continue" {
  switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS:
      return "core";
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return "ignore";
    case SIGCONT:
      return "continue";
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return "stop";
    default:
      return "terminate";
  }
}

/** Dispositions shared by the threads of a process (and by CLONE_SIGHAND children). */
export class SignalHandlers {
  readonly actions = new Map<number, SigAction>();
  get(sig: number): SigAction { return this.actions.get(sig) ?? DEFAULT_ACTION; }
  clone(): SignalHandlers {
    const c = new SignalHandlers();
    for (const [s, a] of this.actions) c.actions.set(s, { ...a });
    return c;
  }
  /** execve: handled signals go back to default; ignored ones stay ignored. */
  resetForExec(): void {
    for (const [s, a] of this.actions) if (a.handler !== SIG_IGN) this.actions.delete(s);
  }
}

/** The struct sigaction layout: handler, flags, [restorer,] mask, in the arch's words. */
export function readSigAction(mm: AddressSpace, arch: ArchOps, p: number): SigAction {
  const w = arch.wordSize;
  const word = (off: number) => (w === 8 ? mm.u64n(p + off) : mm.u32(p + off));
  // The flags are an int that libc sign-extends into an unsigned long: only the low 32 bits count
  // (read them as such: the whole 64-bit word would not survive the trip through a double).
  return { handler: word(0), flags: mm.u32(p + w), restorer: word(2 * w), mask: mm.u64(p + 3 * w) };
}

export function writeSigAction(mm: AddressSpace, arch: ArchOps, p: number, a: SigAction): void {
  const w = arch.wordSize;
  const b = new Uint8Array(arch.sigactionSize), d = new DataView(b.buffer);
  const put = (off: number, v: number) => (w === 8 ? d.setBigUint64(off, BigInt(v), true) : d.setUint32(off, v >>> 0, true));
  put(0, a.handler);
  put(w, a.flags);
  put(2 * w, a.restorer);
  d.setBigUint64(3 * w, a.mask, true);
  mm.write(p, b);
}

/** siginfo_t (128 bytes): signo, errno, code, then the union after the arch's alignment. */
export function encodeSiginfo(s: PendingSignal, wordSize: 4 | 8): Uint8Array {
  const b = new Uint8Array(128), d = new DataView(b.buffer);
  const u = wordSize === 8 ? 16 : 12;
  d.setInt32(0, s.sig, true);
  d.setInt32(8, s.code, true);
  if (s.errno !== undefined) d.setInt32(4, s.errno, true);
  if (s.addr !== undefined) {
    if (wordSize === 8) d.setBigUint64(u, BigInt(s.addr), true);
    else d.setUint32(u, s.addr >>> 0, true);
    if (s.syscall !== undefined) {
      d.setInt32(u + wordSize, s.syscall, true);
      d.setUint32(u + wordSize + 4, s.arch ?? 0, true);
    }
  } else if (s.timerid !== undefined) {
    d.setInt32(u, s.timerid, true);
    d.setInt32(u + 4, s.overrun ?? 0, true);
    if (wordSize === 8) d.setBigUint64(u + 8, s.value ?? 0n, true);
    else d.setUint32(u + 8, Number(BigInt.asUintN(32, s.value ?? 0n)), true);
  } else {
    d.setInt32(u, s.pid ?? 0, true);
    d.setUint32(u + 4, s.uid ?? 0, true);
    if (s.status !== undefined) d.setInt32(u + 8, s.status, true);
    // sigqueue's si_value (_rt.si_sigval), one word.
    else if (s.value !== undefined) {
      if (wordSize === 8) d.setBigUint64(u + 8, s.value, true);
      else d.setUint32(u + 8, Number(BigInt.asUintN(32, s.value)), true);
    }
  }
  return b;
}

/** Per-thread signal state. */
export class ThreadSignals {
  pending: PendingSignal[] = [];
  /** sigaltstack(2). */
  altstack: { sp: number; size: number; flags: number } | undefined;
  /** The mask rt_sigsuspend replaced, restored after the handler runs. */
  savedMask: bigint | undefined;
  /** Ignored signals thrown away on arrival, kept only for --strace to show when the thread next runs. */
  discarded: PendingSignal[] = [];
  /** A sleeping syscall a signal cut short: restarted or left as EINTR when the signal is delivered. */
  interrupted: { nr: number; args: SyscallArgs; name: string } | undefined;
  /** The set rt_sigtimedwait sleeps for: those signals end its wait instead of interrupting it. */
  awaited: bigint | undefined;
}

/** Pending signals of a whole process (kill), shared by its threads. */
export class GroupSignals {
  pending: PendingSignal[] = [];
}

/** The first pending signal `t` does not block, taken off its queue; thread-directed ones first. */
export function dequeue(t: Task, g: ThreadGroup): PendingSignal | undefined {
  for (const q of [t.signals.pending, g.signals.pending]) {
    const i = q.findIndex((s) => !(t.sigmask & bit(s.sig)) || s.sig === SIGKILL || s.sig === SIGSTOP);
    if (i >= 0) return q.splice(i, 1)[0];
  }
  return undefined;
}

export function hasDeliverable(t: Task): boolean {
  const ok = (s: PendingSignal) => !(t.sigmask & bit(s.sig)) || s.sig === SIGKILL;
  return t.signals.pending.some(ok) || t.group.signals.pending.some(ok);
}

/** Whether the thread's stack pointer is inside the alternate stack. */
export function isOnStack(t: Task, s: { sp: number; size: number }): boolean {
  const sp = t.arch.stackPointer();
  return sp > s.sp && sp <= s.sp + s.size;
}
