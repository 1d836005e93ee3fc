/**
 * Processes (thread groups) and their relations: parent, children, process
 * group and session, exit status and reaping. Linux: kernel/fork.c, kernel/exit.c.
 */
import type { ExitStatus, Task } from "./task";
import { GroupSignals } from "./signal";
import { WaitQueue } from "./waitqueue";

/** A futex sleeper: woken by FUTEX_WAKE on its address with a matching bitset. */
export interface FutexWaiter {
  bitset: number;
  wake(): void;
}

export class ThreadGroup {
  readonly threads = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  /** Woken whenever a child changes state (wait4/waitid sleep here). */
  readonly childEvents = new WaitQueue();
  /** Private futex sleepers by guest address. */
  readonly futexes = new Map<number | string, FutexWaiter[]>();
  /** Signals sent to the whole process (kill), taken by whichever thread can. */
  readonly signals = new GroupSignals();
  /** The interval timers by ITIMER_* number (alarm, setitimer): each pending host timer and its schedule. */
  readonly itimers: Array<{ timer: NodeJS.Timeout; due: number; interval: number } | undefined> = [];
  /** Set when the whole group has exited; the group is a zombie until its parent reaps it. */
  exit: ExitStatus | undefined;
  /** exit_group or a fatal signal in progress: every thread must stop. */
  exiting: ExitStatus | undefined;
  reaped = false;
  /** The signal that stopped the group (SIGSTOP, SIGTSTP...), while it is stopped. */
  stopped: number | undefined;
  /** A stop or continue the parent has not collected with WUNTRACED/WCONTINUED yet. */
  waitEvent: "stopped" | "continued" | undefined;
  /** A vfork parent sleeps here until this process execs or exits. */
  vforkDone: WaitQueue | undefined;
  /** The signal the parent gets when this process ends (clone's CSIGNAL; SIGCHLD for fork). */
  exitSignal = 17;
  /** Resource usage to report at wait time (user/system CPU in microseconds). */
  cpuMicros = 0;

  constructor(readonly pid: number, public parent: ThreadGroup | undefined, public pgid: number, public sid: number) {
    parent?.children.add(this);
  }

  get zombie(): boolean { return this.exit !== undefined && !this.reaped; }
}

/** The pid allocator and process table of one sandbox (a pid namespace). */
export class ProcessTable {
  private nextPid = 1;
  readonly groups = new Map<number, ThreadGroup>();
  readonly tasks = new Map<number, Task>();

  /** Linux's pid_max default. */
  static readonly PID_MAX = 4194304;

  /** Start numbering at `first` (the sandbox's first process), then allocate upwards. */
  allocPidFrom(first: number): number {
    this.nextPid = Math.max(this.nextPid, first);
    return this.allocPid();
  }

  allocPid(): number {
    while (this.tasks.has(this.nextPid) || this.groups.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }
}
