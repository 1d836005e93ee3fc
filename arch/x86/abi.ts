/**
 * i386: `int $0x80` traps; eax = number, ebx ecx edx esi edi ebp = arguments.
 * TLS is a GDT entry the guest installs with set_thread_area(2) and loads into %gs.
 */
import { Trap, uc, type UnicornCpu } from "../../engine";
import type { ArchOps } from "../../kernel/abi";
import { EINVAL, ESRCH } from "../../kernel/errno";
import { PAGE_SIZE, PROT_READ, type AddressSpace } from "../../kernel/memory";
import type { ArchImpl } from "../arch";
import { cpuidArchPrctl, x86FaultSignal } from "../x86-common";
import { writeStat64I386, writeStatI386 } from "../stat";
import { x86Signals } from "./signal";
import { syscalls } from "./syscalls";

const R = uc.x86;
/** AUDIT_ARCH_I386 = EM_386 | __AUDIT_ARCH_LE. */
const AUDIT_ARCH_I386 = 0x40000003;
/** TASK_SIZE of a 32-bit task on a 64-bit kernel (arch/x86/include/asm/page_64_types.h IA32_PAGE_OFFSET). */
const TASK_SIZE = 0xffffe000;
/** The GDT lives on the page above TASK_SIZE, out of the guest's reach through mmap. */
const GDT_BASE = TASK_SIZE;
/** GDT_ENTRY_TLS_MIN..MAX (arch/x86/include/asm/segment.h, 32-bit). */
const TLS_MIN = 6, TLS_ENTRIES = 3;
const USER_DESC_SIZE = 16;
/**
 * A flat 4 GiB data segment for ds/es/ss. Unicorn starts with 16-bit hidden
 * segments (the stack would wrap at 64 KiB); it runs the guest at CPL 0, so
 * the stack segment must be DPL 0. Entry 15 is where Linux keeps __USER_DS.
 */
const FLAT_DATA_ENTRY = 15;
const FLAT_DATA = Uint8Array.of(0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0);

/** Encode a struct user_desc as a segment descriptor, as Linux's fill_ldt does. */
function descriptor(base: number, limit: number, flags: number): Uint8Array {
  const seg32 = flags & 1, contents = (flags >> 1) & 3, readExecOnly = (flags >> 3) & 1;
  const limitInPages = (flags >> 4) & 1, notPresent = (flags >> 5) & 1, useable = (flags >> 6) & 1;
  const type = ((readExecOnly ^ 1) << 1) | (contents << 2) | 1; // accessed, so the CPU never writes it
  const d = new Uint8Array(8);
  d[0] = limit & 0xff;
  d[1] = (limit >> 8) & 0xff;
  d[2] = base & 0xff;
  d[3] = (base >>> 8) & 0xff;
  d[4] = (base >>> 16) & 0xff;
  d[5] = type | 0x10 /* S: code/data */ | 0x60 /* DPL 3 */ | (notPresent ? 0 : 0x80);
  d[6] = ((limit >> 16) & 0xf) | (useable << 4) | (seg32 << 6) | (limitInPages << 7);
  d[7] = (base >>> 24) & 0xff;
  return d;
}

/** Linux's LDT_empty: a user_desc that clears the entry. */
function isEmpty(base: number, limit: number, flags: number): boolean {
  return base === 0 && limit === 0 && (flags & 0x7f) === 0x28; // read_exec_only and seg_not_present, all else 0
}

/** CPUID.1:EDX of QEMU's qemu32 CPU, which the guest's CPUID reports and Linux puts in AT_HWCAP on x86. */
const HWCAP = 0x0781abfd;

export const x86: ArchImpl = {
  name: "i386",
  wordSize: 4,
  table: syscalls,
  cpu: {
    ucArch: uc.ARCH_X86, ucMode: uc.MODE_32, cpuModel: uc.CPU_X86_QEMU32, windowSize: 2 ** 32, cpuidEdx: HWCAP,
    sysregs: [R.EAX, R.EBX, R.ECX, R.EDX, R.ESI, R.EDI, R.EBP], retreg: R.EAX, ret32: true, trap: Trap.Int80,
  },
  layout: {
    taskSize: TASK_SIZE, stackTop: TASK_SIZE, stackSize: 8 << 20,
    mmapTop: TASK_SIZE - 2 ** 27, mmapBottom: 0x1000_0000, pieBase: 0x5655_5000,
  },
  platform: "i686",
  auditArch: AUDIT_ARCH_I386,
  seccompNames: ["SCMP_ARCH_X86", "386", "x86", "i386"],
  hwcap: HWCAP,
  hwcap2: 0x2,
  faultSignal: x86FaultSignal,
  pcReg: R.EIP,
  trapLength: 2,
  hookPcLag: 0,
  spReg: R.ESP,
  // tls points to a struct user_desc: install the entry, then load %gs from it so this thread caches its own base.
  setTls(cpu, ops, mm, tls) {
    if (ops.setThreadArea?.(tls) === 0) cpu.setReg(R.GS, (mm.i32(tls) << 3) | 3);
  },
  ops(cpu: UnicornCpu, mm: AddressSpace): ArchOps {
    const tls: { base: number; limit: number; flags: number }[] = [];
    const entryOf = (n: number) => n - TLS_MIN;
    return {
      name: "i386", wordSize: 4, machine: "i686", auditArch: AUDIT_ARCH_I386, table: syscalls,
      cloneBackwards: true,
      sigactionSize: 20,
      writeStat: (m, addr, st, variant) => (variant === "stat64" ? writeStat64I386 : writeStatI386)(m, addr, st),
      ...x86Signals(cpu, mm),
      archPrctl: (code) => cpuidArchPrctl(code) ?? EINVAL,
      setThreadArea(uinfo) {
        let n = mm.i32(uinfo);
        const base = mm.u32(uinfo + 4), limit = mm.u32(uinfo + 8), flags = mm.u32(uinfo + 12);
        mm.check(uinfo, USER_DESC_SIZE, PROT_READ);
        if (n === -1) {
          n = TLS_MIN + [0, 1, 2].findIndex((i) => !tls[i]);
          if (n < TLS_MIN) return ESRCH;
          mm.setU32(uinfo, n);
        }
        if (n < TLS_MIN || n >= TLS_MIN + TLS_ENTRIES) return EINVAL;
        const empty = isEmpty(base, limit, flags);
        if (empty) delete tls[entryOf(n)];
        else tls[entryOf(n)] = { base, limit, flags };
        mm.rawWrite(GDT_BASE + 8 * n, empty ? new Uint8Array(8) : descriptor(base, limit, flags));
        // A loaded selector keeps its cached base: reload %gs if it names this entry (as Linux's load_TLS does).
        const gs = cpu.regNum(R.GS);
        if (gs >> 3 === n && !empty) cpu.setReg(R.GS, gs);
        return 0;
      },
      getThreadArea(uinfo) {
        const n = mm.i32(uinfo);
        if (n < TLS_MIN || n >= TLS_MIN + TLS_ENTRIES) return EINVAL;
        const e = tls[entryOf(n)] ?? { base: 0, limit: 0, flags: 0x28 };
        const out = new Uint8Array(USER_DESC_SIZE), d = new DataView(out.buffer);
        d.setUint32(0, n, true);
        d.setUint32(4, e.base, true);
        d.setUint32(8, e.limit, true);
        d.setUint32(12, e.flags, true);
        mm.write(uinfo, out);
        return 0;
      },
      stackPointer: () => cpu.regNum(R.ESP),
      pc: () => cpu.regNum(R.EIP),
      registers: () => ["EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP"]
        .map((r) => `${r.toLowerCase()}=0x${cpu.reg(R[r]).toString(16)}`).join(" "),
    };
  },
  start(cpu, mm, entry, sp) {
    // The GDT page: Unicorn's CPU reads descriptors from it when %gs is loaded.
    cpu.commit(GDT_BASE, PAGE_SIZE);
    cpu.protect(GDT_BASE, PAGE_SIZE, PROT_READ);
    mm.rawZero(GDT_BASE, PAGE_SIZE);
    mm.rawWrite(GDT_BASE + 8 * FLAT_DATA_ENTRY, FLAT_DATA);
    cpu.setMmr(R.GDTR, GDT_BASE, 8 * (FLAT_DATA_ENTRY + 1) - 1);
    for (const seg of [R.SS, R.DS, R.ES]) cpu.setReg(seg, FLAT_DATA_ENTRY << 3);
    cpu.setReg(R.ESP, sp);
    cpu.setReg(R.EDX, 0);
    cpu.setReg(R.EIP, entry);
  },
};
