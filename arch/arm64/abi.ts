/** aarch64: `svc #0` traps; x8 = number, x0-x5 = arguments, x0 = result; TLS is TPIDR_EL0, set by the guest itself. */
import { Trap, uc, type UnicornCpu } from "../../engine";
import type { ArchOps } from "../../kernel/abi";
import type { AddressSpace } from "../../kernel/memory";
import type { ArchImpl } from "../arch";
import { writeStatGeneric } from "../stat";
import { PROT_EXEC, PROT_READ } from "../../kernel/memory";
import { arm64Signals } from "./signal";
import { syscalls } from "./syscalls";

const R = uc.arm64;
/** AUDIT_ARCH_AARCH64 = EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const WINDOW = 2 ** 39;
const STACK_TOP = 0x7f_ffff_f000;
/**
 * The page above the stack plays the vDSO's part for signals: Linux returns
 * from a handler without SA_RESTORER through the vDSO's __kernel_rt_sigreturn.
 */
const SIGTRAMP = STACK_TOP;
/** mov x8, #139 (rt_sigreturn); svc #0 */
const SIGTRAMP_CODE = Uint8Array.of(0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4);
/** CPACR_EL1.FPEN = 0b11: FP/SIMD usable at EL0 and EL1 (glibc's memcpy needs it). */
const CPACR_FPEN = 3 << 20;

export const arm64: ArchImpl = {
  name: "aarch64",
  wordSize: 8,
  table: syscalls,
  cpu: {
    ucArch: uc.ARCH_ARM64, ucMode: uc.MODE_ARM, cpuModel: uc.CPU_ARM64_A72, windowSize: WINDOW,
    sysregs: [R.X8, R.X0, R.X1, R.X2, R.X3, R.X4, R.X5], retreg: R.X0, ret32: false, trap: Trap.Svc,
  },
  layout: {
    taskSize: WINDOW, stackTop: STACK_TOP, stackSize: 8 << 20,
    mmapTop: STACK_TOP - 2 ** 28, mmapBottom: 2 ** 32, pieBase: 0x55_5555_0000,
  },
  platform: "aarch64",
  auditArch: AUDIT_ARCH_AARCH64,
  seccompNames: ["SCMP_ARCH_AARCH64", "arm64", "aarch64"],
  // HWCAP_FP | HWCAP_ASIMD | HWCAP_EVTSTRM | HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_CRC32 | HWCAP_CPUID, as a Cortex-A72 reports.
  hwcap: 0x8ff,
  hwcap2: 0,
  // Unicorn's EXCP_UDEF is 1 (an undefined instruction: SIGILL); EXCP_BKPT 7 (SIGTRAP); the rest are bad accesses.
  faultSignal: (intno) => (intno === 1 ? 4 : intno === 7 ? 5 : 11),
  pcReg: R.PC,
  trapLength: 4,
  hookPcLag: 0,
  spReg: R.SP,
  setTls: (cpu, _ops, _mm, tls) => cpu.setReg(R.TPIDR_EL0, tls),
  ops(cpu: UnicornCpu, _mm: AddressSpace): ArchOps {
    return {
      name: "aarch64", wordSize: 8, machine: "aarch64", auditArch: AUDIT_ARCH_AARCH64, table: syscalls,
      cloneBackwards: true,
      sigactionSize: 32,
      writeStat: (m, addr, st) => writeStatGeneric(m, addr, st),
      ...arm64Signals(cpu, _mm, () => SIGTRAMP),
      stackPointer: () => cpu.regNum(R.SP),
      pc: () => cpu.regNum(R.PC),
      registers: () => ["X0", "X1", "X2", "X3", "X8", "X29", "X30", "SP"]
        .map((r) => `${r.toLowerCase()}=0x${cpu.reg(R[r]).toString(16)}`).join(" "),
    };
  },
  start(cpu, mm, entry, sp) {
    mm.map(SIGTRAMP, 4096, PROT_READ | PROT_EXEC, "[vdso]");
    mm.rawWrite(SIGTRAMP, SIGTRAMP_CODE);
    cpu.setReg(R.CPACR_EL1, CPACR_FPEN);
    cpu.setReg(R.SP, sp);
    cpu.setReg(R.X0, 0);
    cpu.setReg(R.PC, entry);
  },
};
