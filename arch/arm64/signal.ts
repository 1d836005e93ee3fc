/**
 * aarch64 signal frames (arch/arm64/kernel/signal.c): struct rt_sigframe { siginfo info; ucontext uc; }
 * followed by a frame record { fp, lr }. uc_mcontext.__reserved holds only the terminating
 * record: the FP/SIMD state is kept by syscage (SavedContexts).
 */
import { uc, type UnicornCpu } from "../../engine";
import type { SignalDelivery } from "../../kernel/abi";
import type { AddressSpace } from "../../kernel/memory";
import { alignDown, SavedContexts } from "../sigcontext";

const R = uc.arm64;
const UC = 128, SIGMASK = UC + 40, MCONTEXT = UC + 176;
const FAULT_ADDRESS = MCONTEXT, REGS = MCONTEXT + 8, SP = REGS + 8 * 31, PC = SP + 8, PSTATE = PC + 8;
const RESERVED = MCONTEXT + 288, RESERVED_SIZE = 4096;
const FRAME_SIZE = RESERVED + RESERVED_SIZE, RECORD = FRAME_SIZE, TOTAL = RECORD + 16;
const SA_RESTORER = 0x04000000, SS_ONSTACK = 1, SS_DISABLE = 2;
const XREG = (i: number): number => (i === 29 ? R.X29 : i === 30 ? R.X30 : R[`X${i}`]);

export function arm64Signals(cpu: UnicornCpu, mm: AddressSpace, sigtramp: () => number) {
  const saved = new SavedContexts(cpu);
  return {
    setupSignalFrame(d: SignalDelivery): boolean {
      let sp = d.altstack ? d.altstack.sp + d.altstack.size : cpu.regNum(R.SP);
      sp = alignDown(sp - TOTAL, 16);
      const b = new Uint8Array(TOTAL), v = new DataView(b.buffer);
      b.set(d.info, 0);
      const alt = d.altstack;
      v.setBigUint64(UC + 16, BigInt(alt?.sp ?? 0), true);
      v.setInt32(UC + 24, alt ? SS_ONSTACK : SS_DISABLE, true);
      v.setBigUint64(UC + 32, BigInt(alt?.size ?? 0), true);
      v.setBigUint64(SIGMASK, d.savedMask, true);
      if (d.sig === 11 || d.sig === 7) v.setBigUint64(FAULT_ADDRESS, new DataView(d.info.buffer).getBigUint64(16, true), true);
      for (let i = 0; i < 31; i++) v.setBigUint64(REGS + 8 * i, cpu.reg(XREG(i)), true);
      v.setBigUint64(SP, cpu.reg(R.SP), true);
      v.setBigUint64(PC, cpu.reg(R.PC), true);
      v.setBigUint64(PSTATE, cpu.reg(R.NZCV), true);
      v.setBigUint64(RECORD, cpu.reg(R.X29), true);
      v.setBigUint64(RECORD + 8, cpu.reg(R.X30), true);
      try {
        mm.write(sp, b);
      } catch {
        return false;
      }
      saved.save(sp);
      cpu.setReg(R.X0, d.sig);
      cpu.setReg(R.X1, sp);
      cpu.setReg(R.X2, sp + UC);
      cpu.setReg(R.SP, sp);
      cpu.setReg(R.X29, sp + RECORD);
      // Without SA_RESTORER the kernel returns through the vDSO's sigreturn trampoline; syscage maps one.
      cpu.setReg(R.X30, d.flags & SA_RESTORER ? d.restorer : sigtramp());
      cpu.setReg(R.PC, d.handler);
      return true;
    },

    sigreturn(_rt: boolean) {
      const frame = cpu.regNum(R.SP);
      let regs: bigint[], sp: bigint, pc: bigint, pstate: bigint, mask: bigint;
      try {
        regs = Array.from({ length: 31 }, (_, i) => mm.u64(frame + REGS + 8 * i));
        sp = mm.u64(frame + SP);
        pc = mm.u64(frame + PC);
        pstate = mm.u64(frame + PSTATE);
        mask = mm.u64(frame + SIGMASK);
      } catch {
        return undefined;
      }
      saved.restore(frame);
      regs.forEach((r, i) => cpu.setReg(XREG(i), r));
      cpu.setReg(R.SP, sp);
      cpu.setReg(R.NZCV, pstate & 0xf0000000n);
      cpu.setRegAfterStop(R.PC, pc);
      return { mask, ret: regs[0] };
    },
  };
}
