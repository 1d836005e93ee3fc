/**
 * What the arch-neutral kernel needs from an architecture. arch/<name>/ builds
 * one of these per process; the kernel never imports arch/ or the engine.
 */
import type { StatInfo, SysRet } from "./file";
import type { AddressSpace } from "./memory";
import type { SyscallTable, ArchName } from "./syscall-table";
import type { Task } from "./task";

export interface ArchOps {
  readonly name: ArchName;
  readonly wordSize: 4 | 8;
  /** uname(2) machine field. */
  readonly machine: string;
  /** AUDIT_ARCH_* (include/uapi/linux/audit.h), as seccomp filters see it. */
  readonly auditArch: number;
  readonly table: SyscallTable;
  /** sizeof(struct sigaction) as rt_sigaction(2) reads it on this arch. */
  readonly sigactionSize: number;

  /** struct stat as the arch's stat/fstat/newfstatat (or i386's stat64 family) return it. */
  writeStat(mem: AddressSpace, addr: number, st: StatInfo, variant: "stat" | "stat64"): void;

  /** clone(2)'s raw argument order: i386 and aarch64 pass tls before child_tid (CONFIG_CLONE_BACKWARDS). */
  readonly cloneBackwards: boolean;
  /** x86_64 arch_prctl(2). */
  archPrctl?(code: number, addr: number): SysRet;
  /** i386 set_thread_area(2) / get_thread_area(2). */
  setThreadArea?(uinfo: number): SysRet;
  getThreadArea?(uinfo: number): SysRet;
  /**
   * Build a handler frame for a signal on the current stack (or the alternate
   * stack) and point the registers at the handler. False when the frame cannot
   * be written: the process then dies of SIGSEGV, as on Linux.
   */
  setupSignalFrame(d: SignalDelivery): boolean;
  /**
   * rt_sigreturn (rt) or i386's sigreturn: restore the registers saved in the
   * frame at the stack pointer. Returns the signal mask to restore and the
   * value the return register must keep, or undefined for a bad frame.
   */
  sigreturn(rt: boolean): { mask: bigint; ret: number | bigint } | undefined;
  /** The guest stack pointer (sigaltstack's "on the stack" test). */
  stackPointer(): number;
  /** The guest PC, for reports. */
  pc(): number;
  /** One-line register summary for fault reports. */
  registers(): string;
}

/**
 * Typed access to the six syscall arguments in the engine's shared io words
 * (lo/hi uint32 pairs). Linux truncates `int` arguments to 32 bits, so
 * int()/uint() read only the low word on every arch.
 */
export class SyscallArgs {
  constructor(private readonly io: Uint32Array, private readonly first: number, readonly wordSize: 4 | 8) {}

  /** A copy that keeps these values after the shared io words move on (a blocked syscall's arguments). */
  snapshot(): SyscallArgs {
    return new SyscallArgs(this.io.slice(), this.first, this.wordSize);
  }

  private lo(i: number): number { return this.io[this.first + 2 * i]; }
  private hi(i: number): number { return this.wordSize === 8 ? this.io[this.first + 2 * i + 1] : 0; }

  int(i: number): number { return this.lo(i) | 0; }
  uint(i: number): number { return this.lo(i) >>> 0; }
  /** A pointer or unsigned long (size_t). Values past 2^53 stay unsafe and fail range checks. */
  ulong(i: number): number { return this.hi(i) * 2 ** 32 + this.lo(i); }
  ptr(i: number): number { return this.ulong(i); }
  /** A signed long (off_t on 64-bit, long on i386). */
  long(i: number): number {
    return this.wordSize === 8 ? (this.hi(i) | 0) * 2 ** 32 + this.lo(i) : this.lo(i) | 0;
  }
  /** The full register, for strace. */
  raw(i: number): bigint { return (BigInt(this.hi(i)) << 32n) | BigInt(this.lo(i)); }
  /**
   * A 64-bit value that i386 passes as a (lo, hi) register pair starting at i
   * (pread64, pwrite64, ...), and 64-bit arches in one register.
   */
  pair64(i: number): bigint {
    if (this.wordSize === 8) return BigInt.asIntN(64, this.raw(i));
    return BigInt.asIntN(64, (BigInt(this.lo(i + 1)) << 32n) | BigInt(this.lo(i)));
  }
}

/** What an arch needs to build a signal frame. */
export interface SignalDelivery {
  sig: number;
  /** siginfo_t, already encoded for the arch. */
  info: Uint8Array;
  handler: number;
  flags: number;
  restorer: number;
  /** The mask to restore when the handler returns (uc_sigmask). */
  savedMask: bigint;
  /** The alternate stack when the handler asked for it (SA_ONSTACK) and the thread is not on it already. */
  altstack: { sp: number; size: number; flags: number } | undefined;
}

export type Handler = (t: Task, a: SyscallArgs) => SysRet;
