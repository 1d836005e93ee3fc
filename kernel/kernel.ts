/**
 * One sandbox's kernel: the process table, the scheduler, and the process
 * lifecycle (clone, exit, reparenting, reaping). Linux: kernel/fork.c,
 * kernel/exit.c. The machine-specific parts (copying a CPU and its memory,
 * preparing a child's registers) come from the Machine it is given.
 */
import type { ArchOps, SyscallArgs } from "./abi";
import { EINTR } from "./errno";
import {
  bit, CLD_DUMPED, SIGRTMIN, CLD_EXITED, CLD_KILLED, defaultAction, dequeue, encodeSiginfo, isOnStack, SA_NOCLDWAIT, SA_NODEFER,
  SA_NOCLDSTOP, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SI_USER, SIG_DFL, SIG_IGN, SIGCHLD, SIGCONT, SIGKILL, UNBLOCKABLE,
  CLD_CONTINUED, CLD_STOPPED, type PendingSignal,
} from "./signal";
import { WaitQueue } from "./waitqueue";
import { leaveAddressSpace } from "./writeback";
import { afterExec } from "./capability";
import { closedBy } from "./vfs/locks";
import { releaseTimers } from "./posix-timers";
import { exitSem } from "./ipc/sem";
import type { AddressSpace } from "./memory";
import { ProcessTable, ThreadGroup } from "./process";
import type { Machine, Scheduler } from "./sched";
import type { ExitStatus, Task } from "./task";

/** What clone needs from the machine. */
export interface CloneMachine extends Machine {
  /**
   * execve's second half: load `data` as the new image of `t`'s process on a
   * new CPU (of the binary's arch). Returns an errno before the point of no
   * return, or 0 once the old image is gone (Kernel.execCommit has run).
   */
  execImage(t: Task, data: Uint8Array, argv: string[], envp: string[], execfn: string, exePath: string): number | import("./errno").Errno;
  /** Rewind `t` to re-execute its interrupted syscall `nr` with `args` (SA_RESTART). */
  restartSyscall(t: Task, nr: number, args: SyscallArgs): void;
  /** CLONE_VM without CLONE_THREAD: `child` runs on `parent`'s CPU and memory. */
  shareCpu(child: ThreadGroup, parent: ThreadGroup): void;
  /**
   * fork: a new CPU with a copy of `parent`'s memory and registers, handed to
   * a group by `attach`; ENOMEM when the host cannot hold another process.
   */
  forkProcess(parent: Task): { mm: AddressSpace; arch: ArchOps; attach(child: ThreadGroup): void } | import("./errno").Errno;
  /**
   * Give `child` a copy of `parent`'s registers as of this syscall, returning 0
   * from it, on a new stack (sp, unless 0) and TLS (tls, unless undefined).
   */
  prepareChild(parent: Task, child: Task, sp: number, tls: number | undefined): void;
}

/** The pid the first guest process gets; its parent is a virtual init (1) that reaps orphans. */
export const FIRST_PID = 1000;
export const INIT_PID = 1;

export class Kernel {
  /** Told of each process's end, before its parent can see it (--strace prints `+++ exited with N +++`). */
  onExit: ((g: ThreadGroup, status: ExitStatus) => void) | undefined;
  /**
   * Told of each signal a task takes off its queue, before it acts on it, and
   * of each one thrown away on arrival as ignored (--strace's `--- SIG... ---`).
   */
  onSignal: ((t: Task, info: PendingSignal) => void) | undefined;

  readonly processes = new ProcessTable();

  /** Woken whenever a signal is queued for a process (rt_sigtimedwait polls on it). */
  private readonly arrivals = new WeakMap<ThreadGroup, WaitQueue>();

  constructor(readonly machine: CloneMachine, readonly sched: Scheduler) {
    sched.onGroupExit = (g, status, last) => this.groupExited(g, status, last);
    sched.onThreadExit = (t) => this.threadExited(t);
    sched.onInterrupted = (t, nr, args) => {
      // The sleep ends with EINTR; delivery decides whether SA_RESTART turns it into a restart.
      machine.setResult(t, -EINTR.code);
      t.signals.interrupted = { nr, args, name: t.arch.table.names[nr] ?? "" };
    };
    sched.beforeRun = (t) => this.deliverSignals(t);
    sched.onFault = (t, f) => {
      const a = t.sighand.get(f.signal);
      if (a.handler === SIG_DFL || a.handler === SIG_IGN || t.sigmask & bit(f.signal)) return false;
      this.forceSignal(t, { sig: f.signal, code: f.code, addr: f.addr });
      return true;
    };
  }

  /** Register a process's first task (the sandbox's program, or fork's child). */
  adopt(t: Task, g: ThreadGroup): void {
    t.group = g;
    t.kernel = this;
    g.threads.add(t);
    this.processes.groups.set(g.pid, g);
    this.processes.tasks.set(t.tid, t);
  }

  /** A new thread in `g` (clone with CLONE_THREAD). */
  addThread(t: Task, g: ThreadGroup): void {
    t.group = g;
    t.kernel = this;
    g.threads.add(t);
    this.processes.tasks.set(t.tid, t);
  }

  /** execve past the point of no return: what of the process does not survive (fs/exec.c begin_new_exec). */
  execCommit(t: Task): void {
    leaveAddressSpace(t);
    t.proc.caps = afterExec(t.proc);
    for (const th of t.group.threads) if (th !== t) this.sched.killThread(th, { code: 0 });
    t.fds.closeOnExec();
    t.sighand = t.sighand.clone();
    t.sighand.resetForExec();
    t.signals.altstack = undefined;
    t.clearChildTid = 0;
    t.robustList = 0;
    t.group.vforkDone?.wake();
    t.group.vforkDone = undefined;
    releaseTimers(t.group);
  }

  /** CLONE_CHILD_CLEARTID: zero the tid word and wake one futex waiter, as mm_release does. */
  private threadExited(t: Task): void {
    this.processes.tasks.delete(t.tid);
    if (!t.clearChildTid || t.group.exit) return;
    try {
      t.mm.setU32(t.clearChildTid, 0);
      const waiters = t.group.futexes.get(t.clearChildTid);
      waiters?.shift()?.wake();
    } catch {
      // An unmapped tid word is ignored, as Linux ignores the failed put_user.
    }
  }

  private groupExited(g: ThreadGroup, status: ExitStatus, last: Task): void {
    this.onExit?.(g, status);
    g.exit = status;
    for (const it of g.itimers) if (it) clearTimeout(it.timer);
    releaseTimers(g);
    leaveAddressSpace(last);
    exitSem(last);
    g.vforkDone?.wake();
    // The process's record locks go with it (exit_files closes every descriptor: locks_remove_posix).
    for (const fd of last.fds.fds()) closedBy(last.fds.get(fd)!, last.proc);
    // Closing the descriptors is what gives pipe readers their EOF and peers their hang-up.
    last.fds.closeAll();
    // Orphans go to init, which reaps them as soon as they are zombies.
    for (const c of g.children) {
      c.parent = undefined;
      if (c.exit) this.reap(c);
    }
    g.children.clear();
    const parent = g.parent;
    if (!parent || parent.exit) {
      this.reap(g);
      return;
    }
    // A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never sees zombies: they are reaped at once.
    const act = [...parent.threads][0]?.sighand.get(SIGCHLD);
    if (act && (act.handler === SIG_IGN || act.flags & SA_NOCLDWAIT)) this.reap(g);
    else if (g.exitSignal) {
      const code = status.signal === undefined ? CLD_EXITED : status.core ? CLD_DUMPED : CLD_KILLED;
      this.signalGroup(parent, { sig: g.exitSignal, code, pid: g.pid, uid: last.proc.uid, status: status.signal ?? status.code });
    }
    parent.childEvents.wake();
  }

  // --- signals ----------------------------------------------------------------

  /** A promise that settles when the next signal is queued for `g`. */
  signalArrival(g: ThreadGroup): Promise<void> {
    let q = this.arrivals.get(g);
    if (!q) this.arrivals.set(g, (q = new WaitQueue()));
    return q.wait();
  }

  /** Whether `sig` would be thrown away on arrival (ignored, and not blocked so nobody could wait for it). */
  private ignored(t: Task, sig: number): boolean {
    if (t.sigmask & bit(sig)) return false;
    const a = t.sighand.get(sig);
    return a.handler === SIG_IGN || (a.handler === SIG_DFL && defaultAction(sig) === "ignore");
  }

  /** tkill/tgkill: a signal for one thread. */
  signalThread(t: Task, info: PendingSignal): void {
    if (t.exit || t.group.exiting) return;
    if (info.sig === SIGKILL) return this.sched.killGroup(t.group, { signal: SIGKILL, core: false });
    if (this.ignored(t, info.sig)) {
      this.traceDiscarded(t, info);
      return;
    }
    // A standard signal already pending is not queued twice (kernel/signal.c legacy_queue).
    if (info.sig < SIGRTMIN && t.signals.pending.some((s) => s.sig === info.sig)) return;
    t.signals.pending.push(info);
    this.arrivals.get(t.group)?.wake();
    this.notify(t, info.sig);
  }

  /** A signal the kernel raises for the thread itself (SIGPIPE from a write to a closed pipe or socket). */
  sendSignal(t: Task, sig: number): void {
    this.signalThread(t, { sig, code: SI_USER, pid: t.group.pid, uid: t.proc.uid });
  }

  /** Group stop (do_signal_stop): no thread runs until SIGCONT; the parent may see it with WUNTRACED. */
  private stopGroup(g: ThreadGroup, sig: number): void {
    if (g.stopped) return;
    g.stopped = sig;
    g.waitEvent = "stopped";
    this.notifyParent(g, CLD_STOPPED, sig);
  }

  /** A child stopped or continued: SIGCHLD (unless SA_NOCLDSTOP) and a wake-up for waiters. */
  private notifyParent(g: ThreadGroup, code: number, status: number): void {
    const parent = g.parent;
    if (!parent || parent.exit) return;
    const act = [...parent.threads][0]?.sighand.get(SIGCHLD);
    if (!(act && act.flags & SA_NOCLDSTOP)) {
      this.signalGroup(parent, { sig: SIGCHLD, code, pid: g.pid, uid: [...g.threads][0]?.proc.uid ?? 0, status });
    }
    parent.childEvents.wake();
  }

  /** SIGCONT: a stopped group runs again (and its parent may see it with WCONTINUED). */
  private continueGroup(g: ThreadGroup): void {
    // Stop signals still pending lose to SIGCONT, as in prepare_signal.
    const isStop = (s: PendingSignal) => defaultAction(s.sig) === "stop" && s.sig !== SIGCONT;
    g.signals.pending = g.signals.pending.filter((s) => !isStop(s));
    for (const th of g.threads) th.signals.pending = th.signals.pending.filter((s) => !isStop(s));
    if (!g.stopped) return;
    g.stopped = undefined;
    g.waitEvent = "continued";
    this.sched.continueGroup(g);
    this.notifyParent(g, CLD_CONTINUED, SIGCONT);
  }

  /** kill: a signal for a process, taken by the first thread that does not block it. */
  signalGroup(g: ThreadGroup, info: PendingSignal): void {
    if (g.exit || g.exiting) return;
    if (info.sig === SIGKILL) return this.sched.killGroup(g, { signal: SIGKILL, core: false });
    if (info.sig === SIGCONT) this.continueGroup(g);
    // A new stop signal cancels a pending SIGCONT.
    if (defaultAction(info.sig) === "stop") g.signals.pending = g.signals.pending.filter((s) => s.sig !== SIGCONT);
    const threads = [...g.threads];
    if (threads.length === 0) return;
    if (this.ignored(threads[0], info.sig)) {
      this.traceDiscarded(threads[0], info);
      return;
    }
    if (info.sig < SIGRTMIN && g.signals.pending.some((s) => s.sig === info.sig)) return;
    g.signals.pending.push(info);
    this.arrivals.get(g)?.wake();
    const taker = threads.find((t) => !(t.sigmask & bit(info.sig)));
    if (taker) this.notify(taker, info.sig);
  }

  /** An ignored signal is thrown away on arrival, but a tracer sees it go by when `t` next returns to its program. */
  private traceDiscarded(t: Task, info: PendingSignal): void {
    if (!this.onSignal) return;
    t.signals.discarded.push(info);
    // Off the CPU after this syscall, so the line follows the call that raised the signal.
    t.reschedule = true;
  }

  /** Faults and bad frames: the signal cannot be ignored or blocked (force_sig_info_to_task). */
  forceSignal(t: Task, info: PendingSignal): void {
    const a = t.sighand.get(info.sig);
    if (a.handler === SIG_IGN || t.sigmask & bit(info.sig)) {
      t.sighand.actions.delete(info.sig);
      t.sigmask &= ~bit(info.sig);
    }
    t.signals.pending.unshift(info);
    t.reschedule = true;
  }

  /** Make `t` act on a deliverable signal soon: wake it from a sleep, or stop it after its current syscall. */
  private notify(t: Task, sig: number): void {
    // A signal rt_sigtimedwait waits for is taken by that call (its arrival wakes it), not delivered.
    if (t.sigmask & bit(sig) || (t.signals.awaited ?? 0n) & bit(sig)) return;
    t.reschedule = true;
    this.sched.interrupt(t);
  }

  /**
   * Before `t` runs again: act on one deliverable signal (Linux's get_signal +
   * handle_signal): run its handler, or end the process.
   */
  deliverSignals(t: Task): void {
    for (const s of t.signals.discarded.splice(0)) this.onSignal?.(t, s);
    const intr = t.signals.interrupted;
    t.signals.interrupted = undefined;
    // Syscalls that return EINTR after a handler whatever SA_RESTART says (-ERESTARTNOHAND and friends).
    const restartable = intr !== undefined && !NO_RESTART.has(intr.name);
    for (;;) {
      const s = dequeue(t, t.group);
      if (!s) break;
      this.onSignal?.(t, s);
      const act = t.sighand.get(s.sig);
      if (act.handler === SIG_IGN) continue;
      if (act.handler === SIG_DFL) {
        const d = defaultAction(s.sig);
        if (d === "ignore" || d === "continue") continue;
        if (d === "stop") {
          this.stopGroup(t.group, s.sig);
          // The task stays put; an interrupted sleep resumes once it is continued.
          if (intr) this.machine.restartSyscall(t, intr.nr, intr.args);
          return;
        }
        t.exit = { signal: s.sig, core: false };
        this.sched.killGroup(t.group, t.exit);
        return;
      }
      if (intr && restartable && act.flags & SA_RESTART) this.machine.restartSyscall(t, intr.nr, intr.args);
      const savedMask = t.signals.savedMask ?? t.sigmask;
      t.signals.savedMask = undefined;
      const alt = t.signals.altstack;
      const ok = t.arch.setupSignalFrame({
        sig: s.sig, info: encodeSiginfo(s, t.arch.wordSize), handler: act.handler, flags: act.flags,
        restorer: act.restorer, savedMask,
        altstack: act.flags & SA_ONSTACK && alt && !isOnStack(t, alt) ? alt : undefined,
      });
      if (!ok) {
        t.exit = { signal: 11, core: false };
        this.sched.killGroup(t.group, t.exit);
        return;
      }
      t.sigmask = (t.sigmask | act.mask | (act.flags & SA_NODEFER ? 0n : bit(s.sig))) & ~UNBLOCKABLE;
      // SA_RESETHAND resets the handler only; the flags stay (get_signal: ka->sa.sa_handler = SIG_DFL).
      if (act.flags & SA_RESETHAND) t.sighand.actions.set(s.sig, { ...act, handler: SIG_DFL });
      return;
    }
    // No handler ran: an interrupted sleep simply goes on.
    if (intr) this.machine.restartSyscall(t, intr.nr, intr.args);
  }

  /** Remove a zombie for good (wait4 returned it, or init took it). */
  reap(g: ThreadGroup): void {
    g.reaped = true;
    g.parent?.children.delete(g);
    this.processes.groups.delete(g.pid);
  }
}

/** Syscalls Linux ends with EINTR when a handler runs, SA_RESTART or not (ERESTARTNOHAND, ERESTART_RESTARTBLOCK). */
const NO_RESTART = new Set([
  "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "epoll_wait", "epoll_pwait",
  "epoll_pwait2", "pause", "rt_sigsuspend", "sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "nanosleep",
  "clock_nanosleep", "clock_nanosleep_time64", "msgsnd", "msgrcv", "semop", "semtimedop", "semtimedop_time64", "ipc",
]);

export { ThreadGroup };
