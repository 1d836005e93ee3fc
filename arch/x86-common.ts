/** What i386 and x86_64 share: the signal for each CPU exception (arch/x86/kernel/traps.c). */
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
