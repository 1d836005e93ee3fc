/**
 * A task: one guest thread of execution with its process state. Until
 * processes land there is one task per process and one process per sandbox.
 */
import type { ArchOps } from "./abi";
import type { FdTable } from "./file";
import type { AddressSpace } from "./memory";

/** Process-wide settings the kernel reads (identity, names, limits). */
export interface ProcessInfo {
  uid: number; gid: number; euid: number; egid: number;
  hostname: string;
  /** The guest's view of its executable (readlink /proc/self/exe, AT_EXECFN). */
  exePath: string;
  /** RLIMIT_* soft and hard limits by resource number, as bigint (RLIM_INFINITY = 2^64-1). */
  rlimits: Map<number, [bigint, bigint]>;
  /** Seed-able source of random bytes (getrandom, AT_RANDOM). */
  random(bytes: Uint8Array): void;
  /** Where kernel warnings go (unimplemented syscalls). */
  warn(message: string): void;
}

export type ExitStatus = { code: number; signal?: undefined } | { signal: number; core: boolean; code?: undefined };

export class Task {
  /** Set by exit/exit_group or a fatal signal; the run loop stops the CPU when it sees it. */
  exit: ExitStatus | undefined;
  /** set_tid_address(2): cleared (and futex-woken) when the thread exits. */
  clearChildTid = 0;
  robustList = 0;
  robustListLen = 0;
  /** Blocked signals (rt_sigprocmask), as a 64-bit set. */
  sigmask = 0n;
  /** The raw struct sigaction set for each signal (the arch's layout; kept for delivery and oldact). */
  readonly sigactions = new Map<number, Uint8Array>();
  readonly startTime = process.hrtime.bigint();

  constructor(
    readonly pid: number,
    readonly tid: number,
    readonly ppid: number,
    readonly mm: AddressSpace,
    readonly fds: FdTable,
    readonly arch: ArchOps,
    readonly proc: ProcessInfo,
  ) {}
}
