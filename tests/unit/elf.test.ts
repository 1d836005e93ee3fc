// parseElf against real toolchain output (cross-checked with readelf) and against corrupted copies.
// The binaries are compiled here; a missing compiler or readelf fails the suite rather than skipping it.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as elfy from "elfy";
import { ElfError, parseElf, type ElfImage } from "../../loader/elf";

const HELLO = `#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n`;

const BUILDS = {
  x86_64: ["gcc", "-static"],
  x86_64_pie: ["gcc", "-static-pie"],
  x86_64_execstack: ["gcc", "-static", "-z", "execstack"],
  x86_64_dynamic: ["gcc"],
  i386: ["i686-linux-gnu-gcc", "-static"],
  aarch64: ["aarch64-linux-gnu-gcc", "-static"],
} as const;
type Build = keyof typeof BUILDS;

let dir: string;
const bin = {} as Record<Build, string>;
const bytes = {} as Record<Build, Uint8Array>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-elf-"));
  const src = path.join(dir, "hello.c");
  fs.writeFileSync(src, HELLO);
  for (const [name, [cc, ...flags]] of Object.entries(BUILDS) as Array<[Build, readonly string[]]>) {
    bin[name] = path.join(dir, name);
    execFileSync(cc, [...flags, "-O2", "-o", bin[name], src], { stdio: "pipe" });
    bytes[name] = new Uint8Array(fs.readFileSync(bin[name]));
  }
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- readelf as the reference

interface ReadelfRow { type: string; offset: number; vaddr: number; filesz: number; memsz: number; flags: string; align: number }
interface Readelf {
  elfClass: string; type: string; machine: string;
  entry: number; phoff: number; phentsize: number; phnum: number;
  rows: ReadelfRow[]; interp: string | undefined;
}

function readelf(file: string): Readelf {
  const out = execFileSync("readelf", ["-lhW", file], { encoding: "utf8" });
  const field = (name: string): string => {
    const m = out.match(new RegExp(`^\\s*${name}:\\s*(.*)$`, "m"));
    if (m === null) throw new Error(`readelf printed no "${name}"`);
    return m[1].trim();
  };
  const rows: ReadelfRow[] = [];
  const rowRe = /^\s+(\w+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s([R ][W ][E ])\s+0x([0-9a-f]+)$/;
  for (const line of out.split("\n")) {
    const m = rowRe.exec(line);
    if (m === null) continue;
    const [, type, offset, vaddr, filesz, memsz, flags, align] = m;
    rows.push({ type, offset: parseInt(offset, 16), vaddr: parseInt(vaddr, 16), filesz: parseInt(filesz, 16),
      memsz: parseInt(memsz, 16), flags, align: parseInt(align, 16) });
  }
  return {
    elfClass: field("Class"), type: field("Type").split(" ")[0], machine: field("Machine"),
    entry: parseInt(field("Entry point address"), 16),
    phoff: parseInt(field("Start of program headers"), 10),
    phentsize: parseInt(field("Size of program headers"), 10),
    phnum: parseInt(field("Number of program headers"), 10),
    rows,
    interp: /\[Requesting program interpreter: (.*)\]/.exec(out)?.[1],
  };
}

function expectMatchesReadelf(img: ElfImage, re: Readelf): void {
  const machines: Record<string, string> = { "Intel 80386": "i386", "Advanced Micro Devices X86-64": "x86_64", AArch64: "aarch64" };
  expect(img.arch).toBe(machines[re.machine]);
  expect(`ELF${img.bits}`).toBe(re.elfClass);
  expect(img.type).toBe(({ EXEC: "exec", DYN: "dyn" } as Record<string, string>)[re.type]);
  expect(img.entry).toBe(re.entry);
  expect(img.phoff).toBe(re.phoff);
  expect(img.phentsize).toBe(re.phentsize);
  expect(img.phnum).toBe(re.phnum);
  expect(re.rows).toHaveLength(re.phnum);

  const loads = re.rows.filter((r) => r.type === "LOAD");
  expect(loads.length).toBeGreaterThan(0);
  expect(img.segments).toEqual(loads.map((r) => ({
    vaddr: r.vaddr, memsz: r.memsz, filesz: r.filesz, offset: r.offset,
    readable: r.flags[0] === "R", writable: r.flags[1] === "W", executable: r.flags[2] === "E", align: r.align,
  })));
  expect(img.loadLow).toBe(Math.floor(loads[0].vaddr / 4096) * 4096);
  const last = loads[loads.length - 1];
  expect(img.loadHigh).toBe(Math.ceil((last.vaddr + last.memsz) / 4096) * 4096);

  const phdr = re.rows.find((r) => r.type === "PHDR");
  const holder = loads.find((r) => r.offset <= re.phoff && re.phoff + re.phnum * re.phentsize <= r.offset + r.filesz);
  expect(img.phdrVaddr).toBe(phdr ? phdr.vaddr : holder!.vaddr + re.phoff - holder!.offset);

  const stack = re.rows.find((r) => r.type === "GNU_STACK");
  expect(stack).toBeDefined();
  expect(img.stackExecutable).toBe(stack!.flags[2] === "E");
}

describe("parseElf on real binaries", () => {
  test.each(["x86_64", "x86_64_pie", "x86_64_execstack", "i386", "aarch64"] as const)("%s agrees with readelf -lh", (name) => {
    const img = parseElf(bytes[name], bin[name]);
    expectMatchesReadelf(img, readelf(bin[name]));
    expect(img.data).toBe(bytes[name]);
  });

  test("the expected arch, class and type for each build", () => {
    const summary = (b: Build) => {
      const img = parseElf(bytes[b]);
      return [img.arch, img.bits, img.type, img.stackExecutable];
    };
    expect(summary("x86_64")).toEqual(["x86_64", 64, "exec", false]);
    expect(summary("x86_64_pie")).toEqual(["x86_64", 64, "dyn", false]);
    expect(summary("x86_64_execstack")).toEqual(["x86_64", 64, "exec", true]);
    expect(summary("i386")).toEqual(["i386", 32, "exec", false]);
    expect(summary("aarch64")).toEqual(["aarch64", 64, "exec", false]);
    expect(parseElf(bytes.x86_64_pie).loadLow).toBe(0);
  });

  test("a view into a larger buffer parses the same as the file itself", () => {
    const file = bytes.aarch64;
    const big = new Uint8Array(file.length + 100).fill(0xcc);
    big.set(file, 37);
    const view = big.subarray(37, 37 + file.length);
    const { data: _a, ...fromView } = parseElf(view);
    const { data: _b, ...fromFile } = parseElf(file);
    expect(fromView).toEqual(fromFile);
  });

  test("dynamically linked: names the interpreter readelf reports", () => {
    const interp = readelf(bin.x86_64_dynamic).interp;
    expect(interp).toMatch(/^\/.*ld-linux.*\.so\.\d$/);
    expect(errorOf(bytes.x86_64_dynamic, bin.x86_64_dynamic).message).toBe(
      `${bin.x86_64_dynamic}: dynamically linked (interpreter ${interp}): dynamic binaries are not supported yet`);
  });
});

// ---------------------------------------------------------------- corrupted copies

function errorOf(data: Uint8Array, file?: string): ElfError {
  try {
    parseElf(data, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ElfError);
    const message = (e as Error).message;
    expect(message).not.toMatch(/[\n\r]/);
    return e as ElfError;
  }
  throw new Error("parseElf accepted the input");
}

const messageOf = (data: Uint8Array): string => errorOf(data).message;

function edit(data: Uint8Array, change: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = data.slice();
  change(new DataView(copy.buffer), copy);
  return copy;
}

const PT_NULL = 0, PT_LOAD = 1, PT_INTERP = 3, PT_NOTE = 4, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;

/** File offset of each program header with its p_type, read straight from the bytes. */
function phdrs(data: Uint8Array): Array<{ at: number; type: number }> {
  const v = new DataView(data.buffer, data.byteOffset);
  const is64 = data[4] === 2;
  const phoff = is64 ? Number(v.getBigUint64(32, true)) : v.getUint32(28, true);
  const phnum = v.getUint16(is64 ? 56 : 44, true);
  const size = is64 ? 56 : 32;
  return Array.from({ length: phnum }, (_, i) => ({ at: phoff + i * size, type: v.getUint32(phoff + i * size, true) }));
}
const loadsOf = (data: Uint8Array) => phdrs(data).filter((p) => p.type === PT_LOAD).map((p) => p.at);

// ELF64 program header field offsets (p_flags comes second in ELF64), and ELF32 ones.
const P64 = { flags: 4, offset: 8, vaddr: 16, filesz: 32, memsz: 40 };
const P32 = { offset: 4, vaddr: 8, filesz: 16, memsz: 20 };
const get64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));
const set64 = (v: DataView, at: number, value: number | bigint) => v.setBigUint64(at, BigInt(value), true);

describe("parseElf rejects", () => {
  test("non-ELF input", () => {
    expect(messageOf(new Uint8Array(0))).toBe("not an ELF file (the file is empty)");
    expect(messageOf(new TextEncoder().encode("#!/bin/sh\necho hi\n"))).toBe("not an ELF file (starts with 23 21 2f 62)");
    expect(messageOf(Uint8Array.of(0x7f, 0x45, 0x4c, 0x47, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toBe(
      "not an ELF file (starts with 7f 45 4c 47)");
  });

  test("the path prefixes the message, kept on one line", () => {
    expect(errorOf(new Uint8Array(3), "/tmp/x").message).toBe("/tmp/x: not an ELF file (starts with 00 00 00)");
    expect(errorOf(new Uint8Array(3), "a\nb").message).toBe("a\\x0ab: not an ELF file (starts with 00 00 00)");
  });

  test("truncation of the identification, the ELF header, the program headers and a segment", () => {
    const x = bytes.x86_64;
    expect(messageOf(x.subarray(0, 2))).toBe("truncated: 2 bytes, shorter than the 16-byte ELF identification");
    expect(messageOf(x.subarray(0, 40))).toBe("truncated: 40 bytes, shorter than the 64-byte ELF64 header");
    expect(messageOf(bytes.i386.subarray(0, 51))).toBe("truncated: 51 bytes, shorter than the 52-byte ELF32 header");
    const phEnd = 64 + 56 * parseElf(x).phnum;
    expect(messageOf(x.subarray(0, phEnd - 1))).toBe(
      `truncated: program headers end at offset ${phEnd} but the file is ${phEnd - 1} bytes`);
    const lastLoad = parseElf(x).segments.at(-1)!;
    const cut = lastLoad.offset + 10;
    const index = phdrs(x).findIndex((p) => p.at === loadsOf(x).at(-1));
    expect(messageOf(x.subarray(0, cut))).toBe(`truncated: PT_LOAD #${index} file range ` +
      `[0x${lastLoad.offset.toString(16)}, 0x${(lastLoad.offset + lastLoad.filesz).toString(16)}) ` +
      `extends past the end of the file (${cut} bytes)`);
  });

  test("big-endian and unknown data encodings, unknown classes", () => {
    expect(messageOf(edit(bytes.x86_64, (_, b) => { b[5] = 2; }))).toBe(
      "wrong data encoding: big-endian (ELFDATA2MSB); syscage runs i386, x86_64 and aarch64, all little-endian");
    expect(messageOf(edit(bytes.x86_64, (_, b) => { b[5] = 0; }))).toBe(
      "wrong data encoding 0 (e_ident[EI_DATA] must be 1, little-endian)");
    expect(messageOf(edit(bytes.x86_64, (_, b) => { b[4] = 3; }))).toBe(
      "invalid ELF class 3 (e_ident[EI_CLASS] must be 1 or 2)");
  });

  test("unsupported machines, by name", () => {
    const names: Array<[number, string]> = [[40, "EM_ARM"], [243, "EM_RISCV"], [20, "EM_PPC"], [21, "EM_PPC64"],
      [8, "EM_MIPS"], [22, "EM_S390"], [2, "EM_SPARC"], [43, "EM_SPARCV9"], [258, "EM_LOONGARCH"]];
    for (const [machine, name] of names) {
      expect(messageOf(edit(bytes.x86_64, (v) => v.setUint16(18, machine, true)))).toBe(
        `unsupported machine ${name} (${machine}); syscage runs i386, x86_64 and aarch64`);
    }
    expect(messageOf(edit(bytes.x86_64, (v) => v.setUint16(18, 0x1234, true)))).toBe(
      "unsupported machine 4660; syscage runs i386, x86_64 and aarch64");
  });

  test("class/machine combinations that are not ours", () => {
    const tail = "; syscage runs 32-bit i386, 64-bit x86_64 and 64-bit aarch64";
    expect(messageOf(edit(bytes.i386, (v) => v.setUint16(18, 62, true)))).toBe(
      `unsupported class/machine combination ELFCLASS32 with EM_X86_64 (the x32 ABI)${tail}`);
    expect(messageOf(edit(bytes.i386, (v) => v.setUint16(18, 183, true)))).toBe(
      `unsupported class/machine combination ELFCLASS32 with EM_AARCH64 (ILP32)${tail}`);
    expect(messageOf(edit(bytes.x86_64, (v) => v.setUint16(18, 3, true)))).toBe(
      `unsupported class/machine combination ELFCLASS64 with EM_386${tail}`);
  });

  test("files that are not executables", () => {
    const withType = (t: number) => messageOf(edit(bytes.x86_64, (v) => v.setUint16(16, t, true)));
    expect(withType(1)).toBe("not an executable: relocatable object file (ET_REL); link it first");
    expect(withType(4)).toBe("not an executable: core dump (ET_CORE)");
    expect(withType(0)).toBe("not an executable: unknown ELF type 0");
    expect(withType(0xfe00)).toBe("not an executable: unknown ELF type 65024");
  });

  test("bad program header table geometry", () => {
    const x = bytes.x86_64;
    expect(messageOf(edit(x, (v) => v.setUint16(54, 32, true)))).toBe(
      "inconsistent headers: e_phentsize is 32, expected 56 for ELFCLASS64");
    expect(messageOf(edit(bytes.i386, (v) => v.setUint16(42, 56, true)))).toBe(
      "inconsistent headers: e_phentsize is 56, expected 32 for ELFCLASS32");
    expect(messageOf(edit(x, (v) => v.setUint16(56, 0, true)))).toBe("inconsistent headers: no program headers (e_phnum is 0)");
    expect(messageOf(edit(x, (v) => v.setUint16(56, 0xffff, true)))).toBe(
      "inconsistent headers: e_phnum 65535 is absurd (3669960 bytes of program headers, at most 4096 allowed)");
    expect(messageOf(edit(x, (v) => set64(v, 32, 0)))).toBe(
      "inconsistent headers: program header table at offset 0 overlaps the ELF header");
  });

  test("64-bit values at or above 2^53 instead of rounding them", () => {
    const x = bytes.x86_64;
    // 2^53 + 1 is what elfy would silently round down to 2^53.
    expect(messageOf(edit(x, (v) => set64(v, 24, 2n ** 53n + 1n)))).toBe("inconsistent headers: e_entry is 2^53 or more");
    expect(messageOf(edit(x, (v) => set64(v, 32, 2n ** 64n - 1n)))).toBe("inconsistent headers: e_phoff is 2^53 or more");
    const load = loadsOf(x)[1];
    const index = phdrs(x).findIndex((p) => p.at === load);
    expect(messageOf(edit(x, (v) => set64(v, load + P64.vaddr, 2n ** 53n + 0x1000n)))).toBe(
      `inconsistent headers: PT_LOAD #${index} p_vaddr is 2^53 or more`);
    expect(messageOf(edit(x, (v) => set64(v, load + P64.memsz, 2n ** 60n)))).toBe(
      `inconsistent headers: PT_LOAD #${index} p_memsz is 2^53 or more`);
  });

  test("inconsistent PT_LOAD segments", () => {
    const x = bytes.x86_64;
    const [, , load2, load3] = loadsOf(x);
    const idx = (at: number) => phdrs(x).findIndex((p) => p.at === at);
    const v0 = new DataView(x.buffer, x.byteOffset);
    const hex = (n: number) => `0x${n.toString(16)}`;

    const memsz3 = get64(v0, load3 + P64.memsz);
    expect(messageOf(edit(x, (v) => set64(v, load3 + P64.filesz, memsz3 + 1)))).toBe(
      `inconsistent headers: PT_LOAD #${idx(load3)} has p_filesz ${hex(memsz3 + 1)} > p_memsz ${hex(memsz3)}`);

    const vaddr3 = get64(v0, load3 + P64.vaddr);
    const offset3 = get64(v0, load3 + P64.offset);
    expect(messageOf(edit(x, (v) => set64(v, load3 + P64.vaddr, vaddr3 + 8)))).toBe(
      `inconsistent headers: PT_LOAD #${idx(load3)} has p_offset ${hex(offset3)} and p_vaddr ${hex(vaddr3 + 8)} ` +
      "at different offsets within a page");

    const vaddr2 = get64(v0, load2 + P64.vaddr);
    const grown = vaddr3 - vaddr2 + 0x10;
    expect(messageOf(edit(x, (v) => set64(v, load2 + P64.memsz, grown)))).toBe(
      `inconsistent headers: PT_LOAD #${idx(load2)} [${hex(vaddr2)}, ${hex(vaddr2 + grown)}) and ` +
      `PT_LOAD #${idx(load3)} [${hex(vaddr3)}, ${hex(vaddr3 + memsz3)}) overlap`);

    const high = 0x7fffffffe000 + (vaddr3 % 0x1000); // page offset kept; ends above TASK_SIZE
    expect(messageOf(edit(x, (v) => set64(v, load3 + P64.vaddr, high)))).toBe(
      `inconsistent headers: PT_LOAD #${idx(load3)} [${hex(high)}, ${hex(high + memsz3)}) extends beyond ` +
      "the x86_64 user address space (0x7ffffffff000)");

    expect(messageOf(edit(x, (v) => { for (const at of loadsOf(x)) v.setUint32(at, PT_NULL, true); }))).toBe(
      "inconsistent headers: no PT_LOAD segments");
  });

  test("32-bit segments beyond 4 GiB", () => {
    const x = bytes.i386;
    const load = loadsOf(x).at(-1)!;
    const vaddr = new DataView(x.buffer, x.byteOffset).getUint32(load + P32.vaddr, true);
    const index = phdrs(x).findIndex((p) => p.at === load);
    expect(messageOf(edit(x, (v) => v.setUint32(load + P32.memsz, 0xffffffff, true)))).toBe(
      `inconsistent headers: PT_LOAD #${index} [0x${vaddr.toString(16)}, 0x${(vaddr + 0xffffffff).toString(16)}) ` +
      "extends beyond 4 GiB in a 32-bit binary");
  });

  test("an entry point outside every executable segment", () => {
    const x = bytes.x86_64;
    const rodata = parseElf(x).segments[0];
    expect(rodata.executable).toBe(false);
    expect(messageOf(edit(x, (v) => set64(v, 24, rodata.vaddr)))).toBe(
      "inconsistent headers: entry point 0x400000 is outside every executable PT_LOAD segment");
    expect(messageOf(edit(bytes.aarch64, (v) => set64(v, 24, 0)))).toBe(
      "inconsistent headers: entry point 0x0 is outside every executable PT_LOAD segment");
  });

  test("a PT_INTERP outside the file, or with unprintable bytes", () => {
    const dyn = bytes.x86_64_dynamic;
    const table = phdrs(dyn);
    const interp = table.find((p) => p.type === PT_INTERP)!;
    const index = table.indexOf(interp);
    const v0 = new DataView(dyn.buffer, dyn.byteOffset);
    const filesz = get64(v0, interp.at + P64.filesz);
    const off = dyn.length - 4;
    expect(messageOf(edit(dyn, (v) => set64(v, interp.at + P64.offset, off)))).toBe(
      `truncated: PT_INTERP #${index} file range [0x${off.toString(16)}, 0x${(off + filesz).toString(16)}) ` +
      `extends past the end of the file (${dyn.length} bytes)`);
    const start = get64(v0, interp.at + P64.offset);
    expect(messageOf(edit(dyn, (_, b) => { b[start + 1] = 0x0a; }))).toMatch(
      /^dynamically linked \(interpreter \/\\x0a.*\): dynamic binaries are not supported yet$/);
  });

  test("an exception inside elfy becomes an ElfError", () => {
    const spy = jest.spyOn(elfy.Parser.prototype, "parsePrograms").mockImplementation(() => {
      throw new TypeError("boom\nsecond line");
    });
    try {
      expect(messageOf(bytes.x86_64)).toBe("malformed program headers: boom\\x0asecond line");
    } finally {
      spy.mockRestore();
    }
    expect(parseElf(bytes.x86_64).arch).toBe("x86_64");
  });
});

describe("parseElf details", () => {
  test("without PT_GNU_STACK only i386 gets an executable stack", () => {
    const drop = (data: Uint8Array) => edit(data, (v) => {
      for (const p of phdrs(data)) if (p.type === PT_GNU_STACK) v.setUint32(p.at, PT_NULL, true);
    });
    expect(parseElf(drop(bytes.i386)).stackExecutable).toBe(true);
    expect(parseElf(drop(bytes.x86_64)).stackExecutable).toBe(false);
    expect(parseElf(drop(bytes.aarch64)).stackExecutable).toBe(false);
    expect(parseElf(bytes.i386).stackExecutable).toBe(false);
  });

  test("phdrVaddr comes from PT_PHDR when there is one", () => {
    const x = bytes.x86_64;
    const note = phdrs(x).find((p) => p.type === PT_NOTE)!;
    const withPhdr = edit(x, (v) => { v.setUint32(note.at, PT_PHDR, true); set64(v, note.at + P64.vaddr, 0x400040 + 0x1000); });
    expect(parseElf(withPhdr).phdrVaddr).toBe(0x401040);
    expect(parseElf(x).phdrVaddr).toBe(0x400040);
  });

  test("phdrVaddr is undefined when no PT_LOAD maps the program headers", () => {
    const x = bytes.x86_64;
    const phBytes = 56 * parseElf(x).phnum;
    const moved = new Uint8Array(x.length + phBytes);
    moved.set(x);
    moved.set(x.subarray(64, 64 + phBytes), x.length);
    set64(new DataView(moved.buffer), 32, x.length);
    const img = parseElf(moved);
    expect(img.phoff).toBe(x.length);
    expect(img.phdrVaddr).toBeUndefined();
  });
});

// ---------------------------------------------------------------- robustness

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses, or returns the ElfError; anything else thrown fails the test. */
function attempt(data: Uint8Array): ElfImage | ElfError {
  try {
    return parseElf(data);
  } catch (e) {
    if (!(e instanceof ElfError)) throw new Error(`non-ElfError escaped: ${String(e)}`);
    expect(e.message).not.toMatch(/[\n\r]/);
    return e;
  }
}

describe("parseElf robustness", () => {
  test("every truncation of the first 4 KiB is an ElfError", () => {
    for (const name of ["x86_64", "i386"] as const) {
      for (let len = 0; len <= 4096; len++) {
        const r = attempt(bytes[name].subarray(0, len));
        expect(r).toBeInstanceOf(ElfError);
        // The last PT_LOAD ends far beyond 4 KiB, so each prefix is reported as truncated.
        expect((r as ElfError).message).toMatch(len === 0 ? /^not an ELF file/ : /^truncated: /);
      }
    }
  });

  test("2,000 random single-byte corruptions of the headers parse or throw ElfError", () => {
    const random = mulberry32(0x5eed);
    let parsed = 0;
    let rejected = 0;
    for (const name of ["x86_64", "i386", "aarch64"] as const) {
      const data = bytes[name].slice();
      const img = parseElf(data);
      const headerEnd = img.phoff + img.phnum * img.phentsize;
      for (let i = 0; i < 2000; i++) {
        const at = Math.floor(random() * headerEnd);
        const saved = data[at];
        data[at] = Math.floor(random() * 256);
        const r = attempt(data);
        data[at] = saved;
        if (r instanceof ElfError) {
          rejected++;
          continue;
        }
        parsed++;
        // Whatever was accepted must satisfy the invariants the loader relies on.
        for (const s of r.segments) {
          expect(s.filesz).toBeLessThanOrEqual(s.memsz);
          expect(s.offset + s.filesz).toBeLessThanOrEqual(data.length);
          expect(s.offset % 4096).toBe(s.vaddr % 4096);
          expect(s.vaddr + s.memsz).toBeLessThanOrEqual(r.bits === 32 ? 2 ** 32 : 2 ** 48);
        }
        expect(r.segments.some((s) => s.executable && s.vaddr <= r.entry && r.entry < s.vaddr + s.memsz)).toBe(true);
      }
    }
    // Most bytes (padding, p_paddr, non-PT_LOAD entries) don't matter; a fair share must be caught.
    expect(parsed).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(300);
  });
});
