/**
 * An architecture as syscage runs it: how its CPU is configured and traps,
 * where things live in its address space, its auxv values, and the ArchOps
 * the kernel uses for the parts of the ABI that differ.
 */
import type { CpuConfig, UnicornCpu } from "../engine";
import type { ArchOps } from "../kernel/abi";
import type { AddressSpace } from "../kernel/memory";
import type { ArchName } from "../kernel/syscall-table";

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
  readonly cpu: CpuConfig;
  readonly layout: ArchLayout;
  /** AT_PLATFORM string. */
  readonly platform: string;
  readonly hwcap: number;
  readonly hwcap2: number | undefined;
  /** Per-process ArchOps bound to this CPU. */
  ops(cpu: UnicornCpu, mm: AddressSpace): ArchOps;
  /** Put the CPU in the state the ELF entry point expects. */
  start(cpu: UnicornCpu, mm: AddressSpace, entry: number, sp: number): void;
  /** The signal Linux sends for CPU exception `intno` (Unicorn's interrupt numbers). */
  faultSignal(intno: number): number;
  /** The register that holds the PC, to resume after a stop. */
  readonly pcReg: number;
}
