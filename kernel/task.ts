/**
 * A task: one guest thread of execution with its process state. Until
 * processes land there is one task per process and one process per sandbox.
 */
import type { ArchOps } from "./abi";
import type { FdTable } from "./file";
import type { AddressSpace } from "./memory";
import type { FsContext } from "./vfs/context";
import type { Kernel } from "./kernel";
import type { ThreadGroup } from "./process";
import type { SeccompState } from "./seccomp";
import type { Terminal } from "./tty";
import { SignalHandlers, ThreadSignals } from "./signal";
import { text } from "./vfs/types";

/** Process-wide settings the kernel reads (identity, names, limits). */
export interface ProcessInfo {
  uid: number; gid: number; euid: number; egid: number;
  /** Saved set-user and set-group ids (setresuid), and supplementary groups. */
  suid?: number; sgid?: number; groups?: number[];
  /** Capability sets once capset or a uid change has set them (kernel/capability.ts); replaced, never mutated, since fork copies this object shallowly. */
  caps?: import("./capability").CapSets;
  /** The task name prctl(PR_SET_NAME) gives (/proc/self/comm); the executable's name when unset. */
  comm?: string;
  hostname: string;
  /** The guest's view of its executable (readlink /proc/self/exe, AT_EXECFN). */
  exePath: string;
  /**
   * What /proc/self/exe reaches: the file execve found, or the image itself when the
   * program came from outside the guest's tree; found again by exePath when unset.
   */
  exe?: import("./vfs/inode").VfsPath | Uint8Array;
  /** /proc/PID/oom_score_adj and the floor an unprivileged writer may not go below, inherited by fork. */
  oomScoreAdj?: number; oomScoreAdjMin?: number;
  /** RLIMIT_* soft and hard limits by resource number, as bigint (RLIM_INFINITY = 2^64-1). */
  rlimits: Map<number, [bigint, bigint]>;
  /** Seed-able source of random bytes (getrandom, AT_RANDOM). */
  random(bytes: Uint8Array): void;
  /** Where kernel warnings go (unimplemented syscalls). */
  warn(message: string): void;
  /** The filesystem view: mount namespace, root, cwd, umask (kernel/vfs); a synthetic root without host files when unset. */
  vfs?: FsContext;
  /** The controlling terminal: the host terminal of the first session, until setsid leaves it. */
  ctty?: Terminal;
  /** Scheduling policy, priorities, nice and I/O priority (kernel/syscalls/sched.ts); replaced, never mutated, so fork inherits it. */
  sched?: import("./syscalls/sched").SchedState;
  /** personality(2): inherited by fork, kept by execve. */
  personality?: number;
  /** The ids file access is checked with (setfsuid, setfsgid); they follow euid and egid when unset. */
  fsuid?: number; fsgid?: number;
}

export type ExitStatus = { code: number; signal?: undefined } | { signal: number; core: boolean; code?: undefined };

export class Task {
  /** Set when this thread has exited (exit, exit_group, a fatal signal); the run loop stops the CPU when it sees it. */
  exit: ExitStatus | undefined;
  /** The process this thread belongs to; set by whoever creates the task (the sandbox, clone). */
  group!: ThreadGroup;
  /** The sandbox's kernel (process table, scheduler); set with `group`. */
  kernel!: Kernel;
  /** Set by a handler when the task must leave the CPU after its syscall (the scheduler runs others first). */
  reschedule = false;
  /** The register state while the task is off the CPU (the engine's opaque context). */
  context: object | undefined;
  /** set_tid_address(2): cleared (and futex-woken) when the thread exits. */
  clearChildTid = 0;
  robustList = 0;
  robustListLen = 0;
  /** Blocked signals (rt_sigprocmask), as a 64-bit set. */
  sigmask = 0n;
  /** Signal dispositions, shared by the threads of a process (CLONE_SIGHAND). */
  sighand = new SignalHandlers();
  /** prctl(PR_SET_NO_NEW_PRIVS): inherited by children and kept across execve, never cleared. */
  noNewPrivs = false;
  /** Seccomp mode and filters (kernel/seccomp.ts): inherited by children and kept across execve. */
  seccomp: SeccompState | undefined;
  /** This thread's pending signals and alternate stack. */
  readonly signals = new ThreadSignals();
  readonly startTime = process.hrtime.bigint();

  /** `pid` is the thread group id; execve replaces mm and arch, unshare-like clones replace fds. */
  constructor(
    public pid: number,
    readonly tid: number,
    public ppid: number,
    public mm: AddressSpace,
    public fds: FdTable,
    public arch: ArchOps,
    public proc: ProcessInfo,
  ) {}
}

/** TASK_COMM_LEN: a task name holds at most 15 bytes and its NUL. */
export const TASK_COMM_LEN = 16;

/**
 * The task's name as /proc/PID/comm and PR_GET_NAME give it, a byte string:
 * what PR_SET_NAME set, else the executable's file name cut to 15 bytes.
 */
export function comm(t: Task): string {
  if (t.proc.comm !== undefined) return t.proc.comm;
  const exe = text(t.proc.exePath);
  return exe.slice(exe.lastIndexOf("/") + 1).slice(0, TASK_COMM_LEN - 1);
}
