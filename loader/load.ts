/**
 * Map a parsed static ELF into an address space and build its initial stack,
 * as Linux's fs/binfmt_elf.c load_elf_binary does for a program without an
 * interpreter.
 */
import type { ArchImpl } from "../arch";
import { PROT_EXEC, PROT_READ, PROT_WRITE, pageDown, pageUp, type AddressSpace } from "../kernel/memory";
import {
  AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2, AT_PAGESZ, AT_PHDR,
  AT_PHENT, AT_PHNUM, AT_SECURE, AT_UID,
} from "./auxv";
import type { ElfImage } from "./elf";
import { buildInitialStack } from "./initstack";

export interface LoadedProgram {
  entry: number;
  sp: number;
}

export interface ProgramArgs {
  argv: string[];
  envp: string[];
  execfn: string;
  uid: number; gid: number; euid: number; egid: number;
  random: Uint8Array;
}

/** USER_HZ, what AT_CLKTCK reports and times(2) counts in. */
const USER_HZ = 100;

export function loadProgram(img: ElfImage, arch: ArchImpl, mm: AddressSpace, args: ProgramArgs): LoadedProgram {
  const bias = img.type === "dyn" ? arch.layout.pieBase - img.loadLow : 0;
  let mappedTo = 0;
  let end = 0;
  for (const seg of img.segments) {
    const prot = (seg.readable ? PROT_READ : 0) | (seg.writable ? PROT_WRITE : 0) | (seg.executable ? PROT_EXEC : 0);
    const start = bias + seg.vaddr;
    let lo = pageDown(start);
    const hi = pageUp(start + seg.memsz);
    // Two segments may share a page (the end of text and the start of data): keep what is there, widen its protection.
    if (lo < mappedTo) {
      const shared = mm.find(lo);
      mm.protect(lo, Math.min(mappedTo, hi) - lo, (shared?.prot ?? 0) | prot);
      lo = mappedTo;
    }
    if (hi > lo) mm.map(lo, hi - lo, prot, args.execfn);
    mm.rawWrite(start, img.data.subarray(seg.offset, seg.offset + seg.filesz));
    mappedTo = Math.max(mappedTo, hi);
    end = Math.max(end, start + seg.memsz);
  }
  mm.brkStart = mm.brkEnd = pageUp(end);

  const { stackTop, stackSize } = arch.layout;
  mm.map(stackTop - stackSize, stackSize, PROT_READ | PROT_WRITE, "[stack]");
  const auxv: Array<[number, number]> = [
    [AT_HWCAP, arch.hwcap],
    [AT_PAGESZ, 4096],
    [AT_CLKTCK, USER_HZ],
    [AT_PHDR, bias + (img.phdrVaddr ?? 0)],
    [AT_PHENT, img.phentsize],
    [AT_PHNUM, img.phnum],
    [AT_BASE, 0],
    [AT_FLAGS, 0],
    [AT_ENTRY, bias + img.entry],
    [AT_UID, args.uid],
    [AT_EUID, args.euid],
    [AT_GID, args.gid],
    [AT_EGID, args.egid],
    [AT_SECURE, 0],
  ];
  if (arch.hwcap2 !== undefined) auxv.push([AT_HWCAP2, arch.hwcap2]);
  const stack = buildInitialStack({
    wordSize: arch.wordSize, stackTop, argv: args.argv, envp: args.envp, execfn: args.execfn,
    platform: arch.platform, random: args.random, auxv,
  });
  if (stack.base < stackTop - stackSize) throw new RangeError("argument list too long");
  mm.rawWrite(stack.base, stack.bytes);
  return { entry: bias + img.entry, sp: stack.sp };
}
