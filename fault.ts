/**
 * What a guest fault looks like to the user: the signal Linux would deliver and
 * a one-line report with the faulting address, the PC and the instruction there.
 */
import type { ArchImpl } from "./arch";
import type { Stop, UnicornCpu } from "./engine";
import type { Task } from "./kernel/task";

const SIGILL = 4, SIGSEGV = 11;
const SIGNAMES: Record<number, string> = { 4: "SIGILL", 5: "SIGTRAP", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV" };

type Disassembler = (arch: ArchImpl, code: Uint8Array, pc: number) => string | undefined;
let disassembler: Promise<Disassembler | undefined> | undefined;

/** capstone-wasm, loaded once and only when a fault needs it. */
function loadDisassembler(): Promise<Disassembler | undefined> {
  return (disassembler ??= (async () => {
    try {
      const cs = await import("capstone-wasm");
      await cs.loadCapstone();
      const { Const } = cs;
      const handles = new Map<string, InstanceType<typeof cs.Capstone>>();
      return (arch, code, pc) => {
        let h = handles.get(arch.name);
        if (!h) {
          h = arch.name === "aarch64" ? new cs.Capstone(Const.CS_ARCH_ARM64, Const.CS_MODE_ARM)
            : new cs.Capstone(Const.CS_ARCH_X86, arch.name === "i386" ? Const.CS_MODE_32 : Const.CS_MODE_64);
          handles.set(arch.name, h);
        }
        const [insn] = h.disasm(code, { address: pc, count: 1 });
        return insn ? `${insn.mnemonic} ${insn.opStr}`.trim() : undefined;
      };
    } catch {
      return undefined;
    }
  })());
}

export async function describeFault(arch: ArchImpl, cpu: UnicornCpu, task: Task, stop: Exclude<Stop, { kind: "requested" }>)
  : Promise<{ signal: number; code: number; addr: number; line: string }> {
  const pc = task.arch.pc();
  let signal: number;
  let what: string;
  // si_code and si_addr as the handler sees them (include/uapi/asm-generic/siginfo.h).
  let code = 0x80 /* SI_KERNEL */, addr = pc;
  switch (stop.kind) {
    case "memfault":
      signal = SIGSEGV;
      code = stop.unmapped ? 1 /* SEGV_MAPERR */ : 2 /* SEGV_ACCERR */;
      addr = stop.addr;
      what = `${stop.access} ${stop.unmapped ? "unmapped" : "protected"} memory at 0x${stop.addr.toString(16)}`;
      break;
    case "interrupt":
      signal = arch.faultSignal(stop.intno);
      code = signal === 8 ? 1 /* FPE_INTDIV */ : signal === 5 ? 1 /* TRAP_BRKPT */ : signal === 4 ? 2 /* ILL_ILLOPN */ : 0x80;
      what = `CPU exception ${stop.intno}`;
      break;
    case "error":
      signal = stop.invalidInstruction ? SIGILL : SIGSEGV;
      if (stop.invalidInstruction) code = 2; /* ILL_ILLOPN */
      what = stop.invalidInstruction ? "illegal instruction" : stop.message;
      break;
  }
  let insn = "";
  const vma = task.mm.find(pc);
  if (vma) {
    const code = task.mm.rawRead(pc, Math.min(16, vma.end - pc));
    const text = (await loadDisassembler())?.(arch, code, pc);
    insn = text ? `: ${text}` : "";
  }
  void cpu;
  return { signal, code, addr, line: `${SIGNAMES[signal] ?? `signal ${signal}`}: ${what}, pc 0x${pc.toString(16)}${insn}` };
}
