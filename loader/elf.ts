// ELF executable parsing for the loader.
//
// elfy does the field decoding; everything it trusts is validated here first, because it
// indexes the buffer with header values as they come (RangeError / TypeError on bad input),
// maps unknown e_machine/e_type/p_type values to undefined, and builds 64-bit fields as
// a + b * 2^32 (silently rounded above 2^53). Section headers are never looked at: Linux's
// loader ignores them, and elfy's section parsing crashes on files that have none.

import { Parser, type ElfyHeader, type ElfyProgram } from "elfy";

export type ElfArch = "i386" | "x86_64" | "aarch64";

export interface ElfSegment {
  vaddr: number;
  memsz: number;
  filesz: number;
  offset: number;
  readable: boolean;
  writable: boolean;
  executable: boolean;
  align: number;
}

export interface ElfImage {
  arch: ElfArch;
  bits: 32 | 64;
  type: "exec" | "dyn";             // ET_EXEC or ET_DYN (static-PIE)
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  segments: ElfSegment[];           // PT_LOAD only, in file order
  loadLow: number;                  // page-aligned span of all PT_LOAD (vaddr, before any PIE bias)
  loadHigh: number;
  phdrVaddr: number | undefined;    // from PT_PHDR, or computed from the PT_LOAD that contains e_phoff
  stackExecutable: boolean;         // PT_GNU_STACK flags
  data: Uint8Array;                 // the file
}

/** Why a file cannot be loaded; the message is a single line, prefixed with the path if known. */
export class ElfError extends Error {
  override readonly name = "ElfError";
  constructor(message: string, readonly path?: string) {
    super(path === undefined ? message : `${printable(path)}: ${message}`);
  }
}

const PAGE_SIZE = 4096;

const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;

const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;

const EM_386 = 3;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

// Names for the machines someone is most likely to hand us by mistake (include/uapi/linux/elf-em.h).
const MACHINE_NAMES: Record<number, string> = {
  0: "EM_NONE", 2: "EM_SPARC", 3: "EM_386", 4: "EM_68K", 8: "EM_MIPS", 10: "EM_MIPS_RS3_LE", 15: "EM_PARISC",
  18: "EM_SPARC32PLUS", 20: "EM_PPC", 21: "EM_PPC64", 22: "EM_S390", 40: "EM_ARM", 41: "EM_ALPHA",
  42: "EM_SH", 43: "EM_SPARCV9", 50: "EM_IA_64", 62: "EM_X86_64", 183: "EM_AARCH64", 243: "EM_RISCV",
  247: "EM_BPF", 258: "EM_LOONGARCH",
};

const ARCHES: Record<number, { arch: ElfArch; bits: 32 | 64 }> = {
  [EM_386]: { arch: "i386", bits: 32 },
  [EM_X86_64]: { arch: "x86_64", bits: 64 },
  [EM_AARCH64]: { arch: "aarch64", bits: 64 },
};

// Highest user address + 1 (Linux TASK_SIZE): a segment ending above it could never be mapped.
const USER_ADDRESS_LIMIT: Record<ElfArch, number> = {
  i386: 2 ** 32,
  x86_64: 0x7ffffffff000,           // TASK_SIZE_MAX with 4-level paging
  aarch64: 2 ** 48,                 // 48-bit VA
};

const EHDR_SIZE = { 32: 52, 64: 64 } as const;
const PHDR_SIZE = { 32: 32, 64: 56 } as const;
// load_elf_phdrs() refuses more than one page of program headers.
const MAX_PHDR_BYTES = PAGE_SIZE;

const SUPPORTED = "syscage runs i386, x86_64 and aarch64";

export function parseElf(data: Uint8Array, path?: string): ElfImage {
  const fail = (message: string): never => {
    throw new ElfError(message, path);
  };
  const inconsistent = (message: string): never => fail(`inconsistent headers: ${message}`);
  const size = data.length;

  // --- e_ident, e_type, e_machine: checked by hand, elfy would report them badly or not at all.
  const MAGIC = [0x7f, 0x45, 0x4c, 0x46];
  if (size === 0) fail("not an ELF file (the file is empty)");
  for (let i = 0; i < Math.min(size, 4); i++) {
    if (data[i] !== MAGIC[i]) fail(`not an ELF file (starts with ${hexBytes(data.subarray(0, 4))})`);
  }
  if (size < 16) fail(`truncated: ${size} bytes, shorter than the 16-byte ELF identification`);

  const elfClass = data[4];
  if (elfClass !== ELFCLASS32 && elfClass !== ELFCLASS64) {
    fail(`invalid ELF class ${elfClass} (e_ident[EI_CLASS] must be 1 or 2)`);
  }
  const encoding = data[5];
  if (encoding === ELFDATA2MSB) {
    fail(`wrong data encoding: big-endian (ELFDATA2MSB); ${SUPPORTED}, all little-endian`);
  }
  if (encoding !== ELFDATA2LSB) fail(`wrong data encoding ${encoding} (e_ident[EI_DATA] must be 1, little-endian)`);

  const fileBits = elfClass === ELFCLASS32 ? 32 : 64;
  if (size < EHDR_SIZE[fileBits]) {
    fail(`truncated: ${size} bytes, shorter than the ${EHDR_SIZE[fileBits]}-byte ELF${fileBits} header`);
  }

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const eType = view.getUint16(16, true);
  const eMachine = view.getUint16(18, true);

  const target = ARCHES[eMachine];
  if (target === undefined) {
    const name = MACHINE_NAMES[eMachine];
    fail(`unsupported machine ${name === undefined ? eMachine : `${name} (${eMachine})`}; ${SUPPORTED}`);
  }
  const { arch, bits } = target;
  if (bits !== fileBits) {
    const abi = eMachine === EM_X86_64 ? " (the x32 ABI)" : eMachine === EM_AARCH64 ? " (ILP32)" : "";
    fail(`unsupported class/machine combination ELFCLASS${fileBits} with ${MACHINE_NAMES[eMachine]}${abi}; ` +
      `syscage runs 32-bit i386, 64-bit x86_64 and 64-bit aarch64`);
  }

  if (eType === ET_REL) fail("not an executable: relocatable object file (ET_REL); link it first");
  if (eType === ET_CORE) fail("not an executable: core dump (ET_CORE)");
  if (eType !== ET_EXEC && eType !== ET_DYN) fail(`not an executable: unknown ELF type ${eType}`);

  // --- ELF header proper.
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength); // elfy wants a Buffer
  const parser = new Parser();
  const header: ElfyHeader = viaElfy(fail, "ELF header", () => parser.parseHeader(buf));

  // A rounded 64-bit value is never a safe integer: a + b * 2^32 >= 2^53 rounds to >= 2^53.
  const exact = (value: number, what: string): number =>
    Number.isSafeInteger(value) ? value : inconsistent(`${what} is 2^53 or more`);
  const entry = exact(header.entry, "e_entry");
  const phoff = exact(header.phoff, "e_phoff");
  const { phentsize, phnum } = header;

  if (phentsize !== PHDR_SIZE[bits]) {
    inconsistent(`e_phentsize is ${phentsize}, expected ${PHDR_SIZE[bits]} for ELFCLASS${bits}`);
  }
  if (phnum === 0) inconsistent("no program headers (e_phnum is 0)");
  const phBytes = phnum * phentsize;
  if (phBytes > MAX_PHDR_BYTES) {
    inconsistent(`e_phnum ${phnum} is absurd (${phBytes} bytes of program headers, at most ${MAX_PHDR_BYTES} allowed)`);
  }
  // elfy treats e_phoff 0 as "no program headers"; a table over the ELF header is bogus anyway.
  if (phoff < EHDR_SIZE[bits]) inconsistent(`program header table at offset ${phoff} overlaps the ELF header`);
  if (phoff + phBytes > size) {
    fail(`truncated: program headers end at offset ${phoff + phBytes} but the file is ${size} bytes`);
  }

  const programs: ElfyProgram[] = viaElfy(fail, "program headers", () => parser.parsePrograms(buf, header));

  // --- PT_INTERP first: for a dynamic binary that is the one thing worth saying.
  programs.forEach((ph, i) => {
    if (ph.type !== "interp") return;
    const offset = exact(ph.offset, `PT_INTERP #${i} p_offset`);
    const filesz = exact(ph.filesz, `PT_INTERP #${i} p_filesz`);
    if (offset + filesz > size) {
      fail(`truncated: PT_INTERP #${i} file range ${range(offset, filesz)} extends past the end of the file (${size} bytes)`);
    }
    const bytes = data.subarray(offset, offset + filesz);
    const nul = bytes.indexOf(0);
    const interp = Buffer.from(bytes.subarray(0, nul < 0 ? bytes.length : nul)).toString("latin1");
    fail(`dynamically linked (interpreter ${printable(interp)}): dynamic binaries are not supported yet`);
  });

  // --- PT_LOAD segments.
  const limit = USER_ADDRESS_LIMIT[arch];
  const loads: Array<{ index: number; seg: ElfSegment }> = [];
  programs.forEach((ph, i) => {
    if (ph.type !== "load") return;
    const what = `PT_LOAD #${i}`;
    const seg: ElfSegment = {
      vaddr: exact(ph.vaddr, `${what} p_vaddr`),
      memsz: exact(ph.memsz, `${what} p_memsz`),
      filesz: exact(ph.filesz, `${what} p_filesz`),
      offset: exact(ph.offset, `${what} p_offset`),
      readable: ph.flags.r === true,
      writable: ph.flags.w === true,
      executable: ph.flags.x === true,
      align: exact(ph.align, `${what} p_align`),
    };
    if (seg.filesz > seg.memsz) inconsistent(`${what} has p_filesz ${hex(seg.filesz)} > p_memsz ${hex(seg.memsz)}`);
    if (seg.offset + seg.filesz > size) {
      fail(`truncated: ${what} file range ${range(seg.offset, seg.filesz)} extends past the end of the file (${size} bytes)`);
    }
    if (seg.offset % PAGE_SIZE !== seg.vaddr % PAGE_SIZE) {
      inconsistent(`${what} has p_offset ${hex(seg.offset)} and p_vaddr ${hex(seg.vaddr)} at different offsets within a page`);
    }
    if (seg.vaddr + seg.memsz > limit) {
      inconsistent(bits === 32
        ? `${what} ${range(seg.vaddr, seg.memsz)} extends beyond 4 GiB in a 32-bit binary`
        : `${what} ${range(seg.vaddr, seg.memsz)} extends beyond the ${arch} user address space (${hex(limit)})`);
    }
    loads.push({ index: i, seg });
  });
  if (loads.length === 0) inconsistent("no PT_LOAD segments");

  // Byte-exact overlap only: neighbouring segments may legitimately share a page.
  const byAddress = [...loads].sort((a, b) => a.seg.vaddr - b.seg.vaddr);
  for (let k = 1; k < byAddress.length; k++) {
    const prev = byAddress[k - 1];
    const cur = byAddress[k];
    if (cur.seg.memsz > 0 && prev.seg.vaddr + prev.seg.memsz > cur.seg.vaddr) {
      inconsistent(`PT_LOAD #${prev.index} ${range(prev.seg.vaddr, prev.seg.memsz)} and ` +
        `PT_LOAD #${cur.index} ${range(cur.seg.vaddr, cur.seg.memsz)} overlap`);
    }
  }

  const segments = loads.map((l) => l.seg);
  if (!segments.some((s) => s.executable && entry >= s.vaddr && entry < s.vaddr + s.memsz)) {
    inconsistent(`entry point ${hex(entry)} is outside every executable PT_LOAD segment`);
  }

  const loadLow = Math.floor(Math.min(...segments.map((s) => s.vaddr)) / PAGE_SIZE) * PAGE_SIZE;
  const loadHigh = Math.ceil(Math.max(...segments.map((s) => s.vaddr + s.memsz)) / PAGE_SIZE) * PAGE_SIZE;

  // --- Where the program headers appear in memory (AT_PHDR).
  let phdrVaddr: number | undefined;
  const ptPhdr = programs.findIndex((ph) => ph.type === "phdr");
  if (ptPhdr >= 0) {
    phdrVaddr = exact(programs[ptPhdr].vaddr, `PT_PHDR #${ptPhdr} p_vaddr`);
  } else {
    const holder = segments.find((s) => s.offset <= phoff && phoff + phBytes <= s.offset + s.filesz);
    phdrVaddr = holder === undefined ? undefined : holder.vaddr + (phoff - holder.offset);
  }

  // Without PT_GNU_STACK Linux makes the stack executable only for 32-bit x86
  // (elf_read_implies_exec); the last PT_GNU_STACK wins, as in load_elf_binary().
  let stackExecutable = arch === "i386";
  for (const ph of programs) if (ph.type === "gnu_stack") stackExecutable = ph.flags.x === true;

  return {
    arch, bits, type: eType === ET_EXEC ? "exec" : "dyn",
    entry, phoff, phentsize, phnum,
    segments, loadLow, loadHigh, phdrVaddr, stackExecutable,
    data,
  };
}

function viaElfy<T>(fail: (message: string) => never, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    return fail(`malformed ${what}: ${printable(e instanceof Error ? e.message : String(e))}`);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function range(start: number, length: number): string {
  return `[${hex(start)}, ${hex(start + length)})`;
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Keeps messages on one line and readable whatever bytes a path or interpreter name holds. */
function printable(s: string, max = 256): string {
  const clipped = s.length > max ? `${s.slice(0, max)}...` : s;
  return clipped.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
    });
}
