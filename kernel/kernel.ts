/**
 * One sandbox's kernel: the process table, the scheduler, and the process
 * lifecycle (clone, exit, reparenting, reaping). Linux: kernel/fork.c,
 * kernel/exit.c. The machine-specific parts (copying a CPU and its memory,
 * preparing a child's registers) come from the Machine it is given.
 */
import type { ArchOps } from "./abi";
import type { AddressSpace } from "./memory";
import { ProcessTable, ThreadGroup } from "./process";
import type { Machine, Scheduler } from "./sched";
import type { ExitStatus, Task } from "./task";

/** What clone needs from the machine. */
export interface CloneMachine extends Machine {
  /** CLONE_VM without CLONE_THREAD: `child` runs on `parent`'s CPU and memory. */
  shareCpu(child: ThreadGroup, parent: ThreadGroup): void;
  /** fork: a new CPU with a copy of `parent`'s memory and registers, for group `child`. */
  forkProcess(parent: Task, child: ThreadGroup): { mm: AddressSpace; arch: ArchOps };
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
  readonly processes = new ProcessTable();

  constructor(readonly machine: CloneMachine, readonly sched: Scheduler) {
    sched.onGroupExit = (g, status, last) => this.groupExited(g, status, last);
    sched.onThreadExit = (t) => this.threadExited(t);
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
    g.exit = status;
    g.vforkDone?.wake();
    // Closing the descriptors is what gives pipe readers their EOF and peers their hang-up.
    last.fds.closeAll();
    // Orphans go to init, which reaps them as soon as they are zombies.
    for (const c of g.children) {
      c.parent = undefined;
      if (c.exit) this.reap(c);
    }
    g.children.clear();
    if (g.parent) g.parent.childEvents.wake();
    else this.reap(g);
  }

  /** Remove a zombie for good (wait4 returned it, or init took it). */
  reap(g: ThreadGroup): void {
    g.reaped = true;
    g.parent?.children.delete(g);
    this.processes.groups.delete(g.pid);
  }
}

export { ThreadGroup };
