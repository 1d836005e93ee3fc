/**
 * The scheduler: multiplexes every guest task on the Node event loop. A
 * runnable task runs for a bounded slice; a task whose syscall returned a
 * Block is parked until the promise settles, then its syscall is retried
 * before it runs again. With nothing runnable the loop awaits the next wake,
 * so a guest that waits (accept, read, wait4) costs no CPU.
 */
import type { SyscallArgs } from "./abi";
import type { Dispatcher } from "./dispatch";
import { Block } from "./file";
import type { ThreadGroup } from "./process";
import type { ExitStatus, Task } from "./task";
import { WaitQueue } from "./waitqueue";

/** Why the machine handed a task back. */
export type RunStop =
  | { kind: "blocked"; nr: number; args: SyscallArgs; block: Block }
  | { kind: "preempted" }
  | { kind: "exited" }
  | { kind: "fault"; signal: number; code: number; addr: number; report: string };

/** What the scheduler needs from the machine that executes tasks (the sandbox implements it on the engine). */
export interface Machine {
  /** Put `t`'s registers on its CPU (before signal delivery looks at them). */
  load(t: Task): void;
  /** Run `t` until it blocks, exits, faults or its slice ends (sliceUs 0: no slice). */
  run(t: Task, sliceUs: number): Promise<RunStop> | RunStop;
  /** Put a finished syscall's result in `t`'s return register. */
  setResult(t: Task, value: number | bigint): void;
  /** The thread is gone: drop its saved context. */
  threadExited(t: Task): void;
  /** The whole process is gone: free its CPU and memory. */
  groupExited(g: ThreadGroup): void;
}

/** A slice when other tasks are waiting for the CPU or for events. */
const SLICE_US = 10_000;

interface Parked { nr: number; args: SyscallArgs; block: Block; ready: boolean; interrupted: boolean }

export class Scheduler {
  private readonly runq: Task[] = [];
  private readonly parked = new Map<Task, Parked>();
  /** Runnable tasks of stopped groups, set aside until SIGCONT. */
  private readonly stopped = new Set<Task>();
  private readonly wakeup = new WaitQueue();
  /**
   * Set while something outside the guest must be able to interrupt even a lone
   * task that never makes a syscall (--timeout, an armed interval timer).
   */
  alwaysSlice: () => boolean = () => false;
  /** A guest fault: true when a handler will take the signal. */
  onFault: (t: Task, stop: Extract<RunStop, { kind: "fault" }>) => boolean = () => false;
  /** A parked task was woken by a signal instead of its event. */
  onInterrupted: (t: Task, nr: number, args: SyscallArgs) => void = () => undefined;
  /** Runs before a task gets the CPU (its registers loaded): signal delivery. */
  beforeRun: (t: Task) => void = () => undefined;
  /** Called for every thread that ends, before its group is looked at. */
  onThreadExit: (t: Task) => void = () => undefined;
  /** Called when a thread group's last thread exits (exit status, reparenting, SIGCHLD). */
  onGroupExit: (g: ThreadGroup, status: ExitStatus, last: Task) => void = () => undefined;

  constructor(
    private readonly machine: Machine,
    /** Finish a parked syscall: its task's dispatcher retries it. */
    private readonly resume: (t: Task, nr: number, args: SyscallArgs, block: Block) => ReturnType<Dispatcher["resume"]>,
  ) {}

  /** Make a new or woken task runnable. */
  add(t: Task): void {
    this.runq.push(t);
    this.wakeup.wake();
  }

  /** End every thread of `g` with `status` (exit_group, a fatal signal). */
  killGroup(g: ThreadGroup, status: ExitStatus): void {
    if (g.exiting) return;
    g.exiting = status;
    for (const t of g.threads) {
      if (!t.exit) t.exit = status;
      if (this.parked.delete(t) || this.stopped.delete(t)) this.finishThread(t);
    }
    this.wakeup.wake();
  }

  /** SIGCONT: the group's set-aside tasks run again. */
  continueGroup(g: ThreadGroup): void {
    for (const t of this.stopped) {
      if (t.group !== g) continue;
      this.stopped.delete(t);
      this.add(t);
    }
  }

  /** End one thread quietly (execve's de_thread); its group lives on. */
  killThread(t: Task, status: ExitStatus): void {
    if (!t.exit) t.exit = status;
    const p = this.parked.get(t);
    if (p) {
      p.block.cancel?.();
      this.parked.delete(t);
      this.finishThread(t);
    }
  }

  /**
   * The state /proc/PID/stat shows (fs/proc/array.c task_state_array): R running or
   * runnable, S asleep in a syscall, T stopped, Z exited but not yet reaped.
   */
  stateOf(t: Task): "R" | "S" | "T" | "Z" {
    if (t.exit || t.group.exit) return "Z";
    if (t.group.stopped) return "T";
    const p = this.parked.get(t);
    return p && !p.ready ? "S" : "R";
  }

  /** Wake `t` from its sleep for a signal; false when it was not sleeping. */
  interrupt(t: Task): boolean {
    const p = this.parked.get(t);
    if (!p || p.ready) return false;
    p.block.cancel?.();
    p.ready = true;
    p.interrupted = true;
    this.add(t);
    return true;
  }

  /** Run until `done()` says the sandbox is over. */
  async loop(done: () => boolean): Promise<void> {
    while (!done()) {
      const t = this.runq.shift();
      if (!t) {
        // Everything waits: so does Node, on a timer that keeps the process alive (a guest
        // whose tasks all wait forever waits forever, as on Linux) without using any CPU.
        const keepAlive = setInterval(() => undefined, 1 << 30);
        await this.wakeup.wait();
        clearInterval(keepAlive);
        continue;
      }
      if (this.setAside(t)) continue;
      const parked = this.parked.get(t);
      if (parked?.interrupted) {
        this.parked.delete(t);
        this.onInterrupted(t, parked.nr, parked.args);
      } else if (parked) {
        this.parked.delete(t);
        const r = this.resume(t, parked.nr, parked.args, parked.block);
        if (r instanceof Block) {
          this.park(t, parked.nr, parked.args, r);
          continue;
        }
        this.machine.setResult(t, r);
        if (t.exit) {
          this.finishThread(t);
          continue;
        }
      }
      this.machine.load(t);
      this.beforeRun(t);
      if (this.setAside(t)) continue;
      const others = this.runq.length > 0 || this.parked.size > 0 || this.alwaysSlice();
      const stop = await this.machine.run(t, others ? SLICE_US : 0);
      switch (stop.kind) {
        case "blocked":
          this.park(t, stop.nr, stop.args, stop.block);
          break;
        case "preempted":
          this.runq.push(t);
          // Let timers and I/O callbacks run between slices.
          await new Promise((r) => setImmediate(r));
          break;
        case "exited":
          this.finishThread(t);
          break;
        case "fault":
          // A handler may take it (and fix things, or longjmp away); otherwise the process dies.
          if (this.onFault(t, stop)) {
            this.runq.push(t);
            break;
          }
          t.proc.warn(`syscage: ${stop.report}`);
          t.exit = { signal: stop.signal, core: false };
          this.killGroup(t.group, t.exit);
          this.finishThread(t);
          break;
      }
    }
  }

  /** A task that cannot run now: finished if it has exited, kept aside while its group is stopped. */
  private setAside(t: Task): boolean {
    if (t.exit) this.finishThread(t);
    else if (t.group.stopped) this.stopped.add(t);
    else return false;
    return true;
  }

  private park(t: Task, nr: number, args: SyscallArgs, block: Block): void {
    const p: Parked = { nr, args, block, ready: false, interrupted: false };
    this.parked.set(t, p);
    const ready = () => {
      if (this.parked.get(t) !== p || p.ready) return;
      p.ready = true;
      this.add(t);
    };
    block.wait.then(ready, ready);
  }

  private finishThread(t: Task): void {
    const g = t.group;
    if (!g.threads.has(t)) return;
    this.onThreadExit(t);
    g.threads.delete(t);
    this.machine.threadExited(t);
    if (g.threads.size === 0) {
      const status = g.exiting ?? t.exit ?? { code: 0 };
      // The kernel's part first: shared file pages go back to their files from the CPU's memory.
      this.onGroupExit(g, status, t);
      this.machine.groupExited(g);
    }
  }
}
