// Types for the parts of elfy 1.0.0 (which ships none) that the loader uses.
// elfy needs a Node Buffer (it calls buf.readUInt32LE etc.), not a plain Uint8Array.
declare module "elfy" {
  export interface ElfyHeader {
    class: string;                  // "32" | "64" (after its own check)
    endian: string;                 // "lsb" | "msb"
    type: string | undefined;       // name from a fixed table; unknown values become undefined
    machine: string | undefined;    // likewise (EM_RISCV, EM_LOONGARCH, ... are unknown to it)
    entry: number;                  // 64-bit fields are a + b * 2^32: rounded above 2^53
    phoff: number;
    shoff: number;
    flags: number;
    ehsize: number;
    phentsize: number;
    phnum: number;
    shentsize: number;
    shnum: number;
    shstrndx: number;
  }

  export interface ElfyProgram {
    type: string | undefined;       // "load", "interp", "phdr", "gnu_stack", ...; unknown → undefined
    offset: number;
    vaddr: number;
    paddr: number;
    filesz: number;
    memsz: number;
    flags: { r?: boolean; w?: boolean; x?: boolean; [bit: string]: boolean | undefined };
    align: number;
    data: Buffer;
  }

  export class Parser {
    parseHeader(buf: Buffer): ElfyHeader;
    parsePrograms(buf: Buffer, header: ElfyHeader): ElfyProgram[];
  }

  export function parse(buf: Buffer): ElfyHeader & { body: { programs: ElfyProgram[]; sections: unknown[] } };
}
