/** What i386 and x86_64 share: the signal for each CPU exception, arch_prctl's CPUID commands. */
import { ENODEV, type Errno } from "../kernel/errno";

/** The signal for each CPU exception (arch/x86/kernel/traps.c). */
export function x86FaultSignal(vector: number): number {
  switch (vector) {
    case 0: return 8;      // #DE divide error: SIGFPE
    case 1: case 3: return 5; // debug, int3: SIGTRAP
    case 4: case 5: return 11; // into, bound: SIGSEGV
    case 6: return 4;      // #UD: SIGILL
    case 16: case 19: return 8; // x87 / SIMD floating point: SIGFPE
    case 17: return 7;     // #AC alignment check: SIGBUS
    default: return 11;    // #GP, #PF, #SS, #NP...: SIGSEGV
  }
}

const ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;

/**
 * arch_prctl's CPUID faulting commands, the same on i386 and x86_64: the CPU syscage offers
 * has no CPUID faulting (no cpuid_fault in /proc/cpuinfo), so CPUID stays on and setting it is ENODEV.
 */
export function cpuidArchPrctl(code: number): number | Errno | undefined {
  if (code === ARCH_GET_CPUID) return 1;
  if (code === ARCH_SET_CPUID) return ENODEV;
  return undefined;
}
