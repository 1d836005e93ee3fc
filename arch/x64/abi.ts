/** x86_64: `syscall` traps; rax = number, rdi rsi rdx r10 r8 r9 = arguments; TLS through arch_prctl. */
import { Trap, uc, type UnicornCpu } from "../../engine";
import type { ArchOps } from "../../kernel/abi";
import { EINVAL, EPERM } from "../../kernel/errno";
import type { AddressSpace } from "../../kernel/memory";
import type { ArchImpl } from "../arch";
import { cpuidArchPrctl, x86FaultSignal } from "../x86-common";
import { writeStatX64 } from "../stat";
import { x64Signals } from "./signal";
import { syscalls } from "./syscalls";

const R = uc.x86;
/** AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
const AUDIT_ARCH_X86_64 = 0xc000003e;
const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
/**
 * The guest window, reserved on the host per process: 512 GiB keeps ~250
 * processes within the host's 128 TiB (Go's 0xc000000000 arena hint falls back to any address).
 */
const WINDOW = 2 ** 39;
const STACK_TOP = 0x7f_ffff_f000;
/** CPUID.1:EDX of QEMU's qemu64 CPU, which the guest's CPUID reports and Linux puts in AT_HWCAP on x86. */
const HWCAP = 0x078bfbff;

export const x64: ArchImpl = {
  name: "x86_64",
  wordSize: 8,
  table: syscalls,
  cpu: {
    ucArch: uc.ARCH_X86, ucMode: uc.MODE_64, cpuModel: uc.CPU_X86_QEMU64, windowSize: WINDOW, cpuidEdx: HWCAP,
    sysregs: [R.RAX, R.RDI, R.RSI, R.RDX, R.R10, R.R8, R.R9], retreg: R.RAX, ret32: false, trap: Trap.SyscallInsn,
  },
  layout: {
    taskSize: WINDOW, stackTop: STACK_TOP, stackSize: 8 << 20,
    mmapTop: STACK_TOP - 2 ** 28, mmapBottom: 2 ** 32, pieBase: 0x55_5555_4000,
  },
  platform: "x86_64",
  auditArch: AUDIT_ARCH_X86_64,
  seccompNames: ["SCMP_ARCH_X86_64", "amd64", "x86_64"],
  hwcap: HWCAP,
  hwcap2: 0x2,
  faultSignal: x86FaultSignal,
  pcReg: R.RIP,
  trapLength: 2,
  hookPcLag: 2,
  spReg: R.RSP,
  setTls: (cpu, _ops, _mm, tls) => cpu.setReg(R.FS_BASE, tls),
  ops(cpu: UnicornCpu, mm: AddressSpace): ArchOps {
    return {
      name: "x86_64", wordSize: 8, machine: "x86_64", auditArch: AUDIT_ARCH_X86_64, table: syscalls,
      cloneBackwards: false,
      sigactionSize: 32,
      writeStat: (m, addr, st) => writeStatX64(m, addr, st),
      ...x64Signals(cpu, mm),
      archPrctl(code, addr) {
        switch (code) {
          case ARCH_SET_FS:
          case ARCH_SET_GS:
            if (addr >= WINDOW) return EPERM;
            cpu.setReg(code === ARCH_SET_FS ? R.FS_BASE : R.GS_BASE, addr);
            return 0;
          case ARCH_GET_FS:
          case ARCH_GET_GS:
            mm.setU64(addr, cpu.reg(code === ARCH_GET_FS ? R.FS_BASE : R.GS_BASE));
            return 0;
          default:
            return cpuidArchPrctl(code) ?? EINVAL;
        }
      },
      stackPointer: () => cpu.regNum(R.RSP),
      pc: () => cpu.regNum(R.RIP),
      registers: () => ["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP"]
        .map((r) => `${r.toLowerCase()}=0x${cpu.reg(R[r]).toString(16)}`).join(" "),
    };
  },
  start(cpu, _mm, entry, sp) {
    cpu.setReg(R.RSP, sp);
    // rdx holds a function for atexit in the ELF ABI; none for a static program.
    cpu.setReg(R.RDX, 0);
    cpu.setReg(R.RIP, entry);
  },
};
