/**
 * An architecture as syscage runs it: how its CPU is configured and traps,
 * where things live in its address space, its auxv values, and the ArchOps
 * the kernel uses for the parts of the ABI that differ.
 */
import type { CpuConfig, UnicornCpu } from "../engine";
import type { ArchOps } from "../kernel/abi";
import type { AddressSpace } from "../kernel/memory";
import type { ArchName, SyscallTable } from "../kernel/syscall-table";

export interface ArchLayout {
  /** The highest guest user address + 1 (Linux's TASK_SIZE). */
  taskSize: number;
  /** Top of the initial stack and how much of it is mapped up front. */
  stackTop: number;
  stackSize: number;
  /** mmap places mappings top-down from mmapTop, never below mmapBottom. */
  mmapTop: number;
  mmapBottom: number;
  /** Where a static-PIE (ET_DYN) image is loaded. */
  pieBase: number;
}

export interface ArchImpl {
  readonly name: ArchName;
  /** ELF e_machine this arch runs. */
  readonly wordSize: 4 | 8;
  /** The generated syscall table. */
  readonly table: SyscallTable;
  readonly cpu: CpuConfig;
  readonly layout: ArchLayout;
  /** AT_PLATFORM string. */
  readonly platform: string;
  readonly hwcap: number;
  /** AUDIT_ARCH_* (seccomp_data.arch), and the names seccomp profiles give this arch (libseccomp's, then Go's). */
  readonly auditArch: number;
  readonly seccompNames: readonly string[];
  readonly hwcap2: number | undefined;
  /** Per-process ArchOps bound to this CPU. */
  ops(cpu: UnicornCpu, mm: AddressSpace): ArchOps;
  /** Put the CPU in the state the ELF entry point expects. */
  start(cpu: UnicornCpu, mm: AddressSpace, entry: number, sp: number): void;
  /** The signal Linux sends for CPU exception `intno` (Unicorn's interrupt numbers). */
  faultSignal(intno: number): number;
  /**
   * How far the PC read inside the syscall hook is behind the return address:
   * Unicorn advances RIP past `syscall` only after the hook (helper_syscall),
   * while int 0x80 and svc trap with the PC already past the instruction.
   */
  readonly hookPcLag: number;
  /** Bytes of the trap instruction (syscall and int 0x80: 2; svc: 4), to re-execute a restarted syscall. */
  readonly trapLength: number;
  /** The stack pointer register (clone's new stack). */
  readonly spReg: number;
  /** Install clone's `tls` argument in the CPU's current registers (CLONE_SETTLS). */
  setTls(cpu: UnicornCpu, ops: ArchOps, mm: AddressSpace, tls: number): void;
  /** The register that holds the PC, to resume after a stop. */
  readonly pcReg: number;
}
