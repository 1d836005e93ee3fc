/**
 * x86_64 signal frames: struct rt_sigframe { pretcode; struct ucontext uc; struct siginfo info; }
 * (arch/x86/include/asm/sigframe.h, arch/x86/kernel/signal.c). The FP state is kept by
 * syscage (SavedContexts), so uc_mcontext.fpstate is NULL.
 */
import { uc, type UnicornCpu } from "../../engine";
import type { SignalDelivery } from "../../kernel/abi";
import type { AddressSpace } from "../../kernel/memory";
import { alignDown, SavedContexts } from "../sigcontext";

const R = uc.x86;
const UC = 8, MCONTEXT = UC + 40, SIGMASK = UC + 296, INFO = UC + 304, FRAME_SIZE = INFO + 128;
/** uc_mcontext's general registers, in struct sigcontext order (arch/x86/include/uapi/asm/sigcontext.h). */
const GREGS = ["R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15", "RDI", "RSI", "RBP", "RBX", "RDX", "RAX", "RCX", "RSP", "RIP"];
const EFLAGS_OFF = MCONTEXT + 8 * GREGS.length;
/** The flags a frame may change (FIX_EFLAGS), and the ones cleared for the handler. */
const FIX_EFLAGS = 0x40dd5, DF = 0x400, TF = 0x100, RF = 0x10000;
const RED_ZONE = 128, SS_ONSTACK = 1, SS_DISABLE = 2;
const USER_CS = 0x33, USER_DS = 0x2b;

export function x64Signals(cpu: UnicornCpu, mm: AddressSpace) {
  const saved = new SavedContexts(cpu);
  return {
    setupSignalFrame(d: SignalDelivery): boolean {
      const rsp = cpu.regNum(R.RSP);
      let sp = d.altstack ? d.altstack.sp + d.altstack.size : rsp - RED_ZONE;
      sp = alignDown(sp - FRAME_SIZE, 16) - 8;
      const b = new Uint8Array(FRAME_SIZE), v = new DataView(b.buffer);
      v.setBigUint64(0, BigInt(d.restorer), true);
      const alt = d.altstack;
      v.setBigUint64(UC + 16, BigInt(alt?.sp ?? 0), true);
      v.setInt32(UC + 24, alt ? SS_ONSTACK : SS_DISABLE, true);
      v.setBigUint64(UC + 32, BigInt(alt?.size ?? 0), true);
      GREGS.forEach((r, i) => v.setBigUint64(MCONTEXT + 8 * i, cpu.reg(R[r]), true));
      v.setBigUint64(EFLAGS_OFF, cpu.reg(R.RFLAGS), true);
      v.setUint16(EFLAGS_OFF + 8, USER_CS, true);
      v.setUint16(EFLAGS_OFF + 14, USER_DS, true);
      v.setBigUint64(SIGMASK, d.savedMask, true);
      b.set(d.info, INFO);
      try {
        mm.write(sp, b);
      } catch {
        return false;
      }
      saved.save(sp);
      cpu.setReg(R.RSP, sp);
      cpu.setReg(R.RDI, d.sig);
      cpu.setReg(R.RSI, sp + INFO);
      cpu.setReg(R.RDX, sp + UC);
      cpu.setReg(R.RAX, 0);
      cpu.setReg(R.RFLAGS, cpu.reg(R.RFLAGS) & ~BigInt(DF | TF | RF));
      cpu.setReg(R.RIP, d.handler);
      return true;
    },

    sigreturn(_rt: boolean) {
      // The handler's `ret` popped pretcode.
      const frame = cpu.regNum(R.RSP) - 8;
      let regs: bigint[], flags: bigint, mask: bigint;
      try {
        regs = GREGS.map((_, i) => mm.u64(frame + MCONTEXT + 8 * i));
        flags = mm.u64(frame + EFLAGS_OFF);
        mask = mm.u64(frame + SIGMASK);
      } catch {
        return undefined;
      }
      const oldFlags = cpu.reg(R.RFLAGS);
      saved.restore(frame);
      // RIP waits for the stop: written inside the hook it would cancel the stop that delivers the next signal.
      GREGS.forEach((r, i) => { if (r !== "RIP") cpu.setReg(R[r], regs[i]); });
      cpu.setReg(R.RFLAGS, (oldFlags & ~BigInt(FIX_EFLAGS)) | (flags & BigInt(FIX_EFLAGS)));
      cpu.setRegAfterStop(R.RIP, regs[GREGS.indexOf("RIP")]);
      return { mask, ret: regs[GREGS.indexOf("RAX")] };
    },
  };
}
