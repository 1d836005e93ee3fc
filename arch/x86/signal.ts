/**
 * i386 signal frames (arch/x86/include/asm/sigframe.h, ia32 layouts):
 * rt:  { pretcode, sig, pinfo, puc, siginfo info, ucontext uc, retcode[8] }
 * old: { pretcode, sig, sigcontext sc, extramask, retcode[8] } for handlers without SA_SIGINFO.
 * The FP state is kept by syscage (SavedContexts), so sc.fpstate is NULL.
 */
import { uc, type UnicornCpu } from "../../engine";
import type { SignalDelivery } from "../../kernel/abi";
import type { AddressSpace } from "../../kernel/memory";
import { SavedContexts } from "../sigcontext";

const R = uc.x86;
/** struct sigcontext_32 after the four segment words: the general registers, in order. */
const GREGS = ["EDI", "ESI", "EBP", "ESP", "EBX", "EDX", "ECX", "EAX"];
const SC_GREGS = 16, SC_EIP = 56, SC_CS = 60, SC_EFLAGS = 64, SC_ESP_AT_SIGNAL = 68, SC_SS = 72, SC_OLDMASK = 80, SC_SIZE = 88;
const RT_INFO = 16, RT_UC = 144, RT_SC = RT_UC + 20, RT_SIGMASK = RT_UC + 20 + SC_SIZE, RT_RETCODE = RT_SIGMASK + 8, RT_SIZE = RT_RETCODE + 8;
const OLD_SC = 8, OLD_EXTRAMASK = OLD_SC + SC_SIZE, OLD_RETCODE = OLD_EXTRAMASK + 4, OLD_SIZE = OLD_RETCODE + 8;
const FIX_EFLAGS = 0x40dd5, DF = 0x400, TF = 0x100, RF = 0x10000;
const SS_ONSTACK = 1, SS_DISABLE = 2, SA_SIGINFO = 4, SA_RESTORER = 0x04000000;
const USER_CS = 0x23, USER_DS = 0x2b;
/** The kernel's own trampolines, used when no SA_RESTORER is given: movl $NR, %eax; int $0x80. */
const RT_RETCODE_BYTES = [0xb8, 173, 0, 0, 0, 0xcd, 0x80, 0];
const OLD_RETCODE_BYTES = [0x58, 0xb8, 119, 0, 0, 0, 0xcd, 0x80];

export function x86Signals(cpu: UnicornCpu, mm: AddressSpace) {
  const saved = new SavedContexts(cpu);

  function sigcontext(v: DataView, at: number, mask: bigint): void {
    GREGS.forEach((r, i) => v.setUint32(at + SC_GREGS + 4 * i, cpu.regNum(R[r]), true));
    v.setUint32(at + SC_EIP, cpu.regNum(R.EIP), true);
    v.setUint32(at + SC_CS, USER_CS, true);
    v.setUint32(at + SC_EFLAGS, cpu.regNum(R.EFLAGS), true);
    v.setUint32(at + SC_ESP_AT_SIGNAL, cpu.regNum(R.ESP), true);
    v.setUint32(at + SC_SS, USER_DS, true);
    v.setUint32(at + SC_OLDMASK, Number(mask & 0xffffffffn), true);
  }

  return {
    setupSignalFrame(d: SignalDelivery): boolean {
      const rt = (d.flags & SA_SIGINFO) !== 0;
      const size = rt ? RT_SIZE : OLD_SIZE;
      let sp = d.altstack ? d.altstack.sp + d.altstack.size : cpu.regNum(R.ESP);
      // At the handler's entry (sp + 4) is 16-byte aligned, as after a call.
      sp = ((sp - size + 4) & ~15) - 4;
      sp = sp >>> 0;
      const b = new Uint8Array(size), v = new DataView(b.buffer);
      const retcode = rt ? RT_RETCODE : OLD_RETCODE;
      v.setUint32(0, d.flags & SA_RESTORER ? d.restorer : sp + retcode, true);
      v.setUint32(4, d.sig, true);
      if (rt) {
        v.setUint32(8, sp + RT_INFO, true);
        v.setUint32(12, sp + RT_UC, true);
        b.set(d.info, RT_INFO);
        const alt = d.altstack;
        v.setUint32(RT_UC + 8, alt?.sp ?? 0, true);
        v.setInt32(RT_UC + 12, alt ? SS_ONSTACK : SS_DISABLE, true);
        v.setUint32(RT_UC + 16, alt?.size ?? 0, true);
        sigcontext(v, RT_SC, d.savedMask);
        v.setBigUint64(RT_SIGMASK, d.savedMask, true);
        b.set(RT_RETCODE_BYTES, RT_RETCODE);
      } else {
        sigcontext(v, OLD_SC, d.savedMask);
        v.setUint32(OLD_EXTRAMASK, Number(d.savedMask >> 32n), true);
        b.set(OLD_RETCODE_BYTES, OLD_RETCODE);
      }
      try {
        mm.write(sp, b);
      } catch {
        return false;
      }
      saved.save(sp);
      cpu.setReg(R.ESP, sp);
      cpu.setReg(R.EAX, d.sig);
      if (rt) {
        cpu.setReg(R.EDX, sp + RT_INFO);
        cpu.setReg(R.ECX, sp + RT_UC);
      }
      cpu.setReg(R.EFLAGS, cpu.regNum(R.EFLAGS) & ~(DF | TF | RF));
      cpu.setReg(R.EIP, d.handler);
      return true;
    },

    sigreturn(rt: boolean) {
      // rt: the handler's `ret` popped pretcode; old: __restore also pops the signal number.
      const frame = cpu.regNum(R.ESP) - (rt ? 4 : 8);
      const sc = frame + (rt ? RT_SC : OLD_SC);
      let regs: number[], eip: number, flags: number, mask: bigint;
      try {
        regs = GREGS.map((_, i) => mm.u32(sc + SC_GREGS + 4 * i));
        eip = mm.u32(sc + SC_EIP);
        flags = mm.u32(sc + SC_EFLAGS);
        mask = rt ? mm.u64(frame + RT_SIGMASK) : BigInt(mm.u32(sc + SC_OLDMASK)) | (BigInt(mm.u32(frame + OLD_EXTRAMASK)) << 32n);
      } catch {
        return undefined;
      }
      const oldFlags = cpu.regNum(R.EFLAGS);
      saved.restore(frame);
      GREGS.forEach((r, i) => cpu.setReg(R[r], regs[i]));
      cpu.setReg(R.EFLAGS, ((oldFlags & ~FIX_EFLAGS) | (flags & FIX_EFLAGS)) >>> 0);
      cpu.setRegAfterStop(R.EIP, eip);
      return { mask, ret: regs[GREGS.indexOf("EAX")] };
    },
  };
}
