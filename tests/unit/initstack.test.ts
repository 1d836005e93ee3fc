// buildInitialStack: decoded back by an independent reader, pinned to hand-computed addresses,
// and compared with the stack the host Linux kernel builds for a real static binary.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  AT_CLKTCK, AT_ENTRY, AT_EXECFN, AT_HWCAP, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PLATFORM, AT_RANDOM, AT_UID,
} from "../../loader/auxv";
import { buildInitialStack, type InitialStack, type InitialStackInput } from "../../loader/initstack";

interface Decoded {
  argc: number;
  argvPtrs: number[];
  envpPtrs: number[];
  argv: string[];
  envp: string[];
  auxv: Array<[number, number]>;
  auxvEnd: number;                 // address just past AT_NULL's value
}

/** Reads an initial stack image [base, base + bytes.length) the way a libc start routine would. */
function decode(bytes: Uint8Array, base: number, sp: number, wordSize: 4 | 8): Decoded {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inImage = (addr: number, len: number) => {
    if (addr < base || addr + len > base + bytes.length) throw new Error(`0x${addr.toString(16)} outside the image`);
  };
  let at = sp;
  const word = (): number => {
    inImage(at, wordSize);
    const v = wordSize === 4 ? view.getUint32(at - base, true) : Number(view.getBigUint64(at - base, true));
    at += wordSize;
    return v;
  };
  const argc = word();
  const argvPtrs = Array.from({ length: argc }, word);
  expect(word()).toBe(0);
  const envpPtrs: number[] = [];
  for (let p = word(); p !== 0; p = word()) envpPtrs.push(p);
  const auxv: Array<[number, number]> = [];
  for (;;) {
    const type = word();
    const value = word();
    auxv.push([type, value]);
    if (type === AT_NULL) break;
  }
  return {
    argc, argvPtrs, envpPtrs,
    argv: argvPtrs.map((p) => cstr(bytes, base, p)),
    envp: envpPtrs.map((p) => cstr(bytes, base, p)),
    auxv, auxvEnd: at,
  };
}

function cstr(bytes: Uint8Array, base: number, addr: number): string {
  const start = addr - base;
  if (start < 0 || start >= bytes.length) throw new Error(`string at 0x${addr.toString(16)} outside the image`);
  const end = bytes.indexOf(0, start);
  if (end < 0) throw new Error(`string at 0x${addr.toString(16)} is not terminated`);
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start, end));
}

const auxValue = (d: Decoded, type: number): number | undefined => d.auxv.find(([t]) => t === type)?.[1];
const RANDOM = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function input(over: Partial<InitialStackInput>): InitialStackInput {
  return {
    wordSize: 8, stackTop: 0x7ffffffff000,
    argv: ["/bin/hello", "a"], envp: ["X=1"], execfn: "/bin/hello", platform: "x86_64",
    random: RANDOM, auxv: [[AT_PAGESZ, 4096]],
    ...over,
  };
}

/** Invariants every image must satisfy, whatever the input. */
function checkImage(st: InitialStack, inp: InitialStackInput): Decoded {
  expect(st.sp % 16).toBe(0);
  expect(st.base).toBe(st.sp);
  expect(st.base + st.bytes.length).toBe(inp.stackTop);
  const d = decode(st.bytes, st.base, st.sp, inp.wordSize);
  expect(d.argc).toBe(inp.argv.length);
  expect(d.argv).toEqual(inp.argv);
  expect(d.envp).toEqual(inp.envp);

  const expectedAux: Array<[number, number]> = [...inp.auxv, [AT_RANDOM, auxValue(d, AT_RANDOM)!], [AT_EXECFN, auxValue(d, AT_EXECFN)!]];
  if (inp.platform !== undefined) expectedAux.push([AT_PLATFORM, auxValue(d, AT_PLATFORM)!]);
  expectedAux.push([AT_NULL, 0]);
  expect(d.auxv).toEqual(expectedAux);

  const random = auxValue(d, AT_RANDOM)!;
  expect(random).toBeGreaterThanOrEqual(d.auxvEnd);
  expect(Array.from(st.bytes.subarray(random - st.base, random - st.base + 16))).toEqual(Array.from(inp.random));
  expect(cstr(st.bytes, st.base, auxValue(d, AT_EXECFN)!)).toBe(inp.execfn);
  if (inp.platform !== undefined) expect(cstr(st.bytes, st.base, auxValue(d, AT_PLATFORM)!)).toBe(inp.platform);

  // Strings: argv[0] .. envp[n-1], execfn, contiguous, then 8 zero bytes up to the top.
  const enc = (s: string) => new TextEncoder().encode(s).length + 1;
  let p = st.argStart;
  for (const [i, s] of [...inp.argv, ...inp.envp].entries()) {
    expect([...d.argvPtrs, ...d.envpPtrs][i]).toBe(p);
    p += enc(s);
  }
  expect(auxValue(d, AT_EXECFN)).toBe(p);
  expect(p + enc(inp.execfn)).toBe(inp.stackTop - 8);
  expect(Array.from(st.bytes.subarray(st.bytes.length - 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  expect(st.argEnd).toBe(st.envStart);
  expect(st.envEnd).toBe(auxValue(d, AT_EXECFN));
  return d;
}

describe("buildInitialStack", () => {
  test("wordSize 8: exact addresses", () => {
    const inp = input({});
    const st = buildInitialStack(inp);
    // top-8 = ..eff8; execfn 11 bytes → ..efed; strings 11+2+4 → ..efdc; align → ..efd0;
    // "x86_64\0" → ..efc9; random → ..efb9; 16 words (argc, 2+1 argv, 1+1 envp, 5 aux pairs) → ..ef39 → ..ef30.
    expect(st.sp).toBe(0x7fffffffef30);
    expect(st.bytes.length).toBe(0xd0);
    expect([st.argStart, st.argEnd, st.envStart, st.envEnd]).toEqual([0x7fffffffefdc, 0x7fffffffefe9, 0x7fffffffefe9, 0x7fffffffefed]);
    const d = checkImage(st, inp);
    expect(d.argvPtrs).toEqual([0x7fffffffefdc, 0x7fffffffefe7]);
    expect(d.envpPtrs).toEqual([0x7fffffffefe9]);
    expect(d.auxv).toEqual([[AT_PAGESZ, 4096], [AT_RANDOM, 0x7fffffffefb9], [AT_EXECFN, 0x7fffffffefed],
      [AT_PLATFORM, 0x7fffffffefc9], [AT_NULL, 0]]);
    expect(d.auxvEnd).toBe(0x7fffffffefb0);
  });

  test("wordSize 4: exact addresses", () => {
    const inp = input({ wordSize: 4, stackTop: 0xffffe000, platform: "i686" });
    const st = buildInitialStack(inp);
    // ..dfdc as above; align → ..dfd0; "i686\0" → ..dfcb; random → ..dfbb; 16 words of 4 → ..df7b → ..df70.
    expect(st.sp).toBe(0xffffdf70);
    expect(st.bytes.length).toBe(0x90);
    const d = checkImage(st, inp);
    expect(d.argvPtrs).toEqual([0xffffdfdc, 0xffffdfe7]);
    expect(d.auxv).toEqual([[AT_PAGESZ, 4096], [AT_RANDOM, 0xffffdfbb], [AT_EXECFN, 0xffffdfed],
      [AT_PLATFORM, 0xffffdfcb], [AT_NULL, 0]]);
    // Words really are 4 bytes: argc then argv[0] at sp + 4.
    expect(Array.from(st.bytes.subarray(0, 8))).toEqual([2, 0, 0, 0, 0xdc, 0xdf, 0xff, 0xff]);
  });

  test("UTF-8 strings, no platform, a typical auxv", () => {
    for (const wordSize of [4, 8] as const) {
      const inp = input({
        wordSize, stackTop: wordSize === 4 ? 0xc0000000 : 0xfffffffff000,
        argv: ["./prog", "héllo wörld", "", "日本語"], envp: ["PATH=/bin", "EMPTY=", "LANG=C.UTF-8"],
        execfn: "./prog", platform: undefined,
        auxv: [[AT_HWCAP, 0xbfebfbff], [AT_PAGESZ, 4096], [AT_CLKTCK, 100], [AT_PHDR, 0x400040], [AT_ENTRY, 0x401510], [AT_UID, 1000]],
      });
      const st = buildInitialStack(inp);
      const d = checkImage(st, inp);
      expect(auxValue(d, AT_PLATFORM)).toBeUndefined();
      expect(d.argv[1]).toBe("héllo wörld");
    }
  });

  test("empty argv and envp", () => {
    const inp = input({ argv: [], envp: [] });
    const d = checkImage(buildInitialStack(inp), inp);
    expect(d.argc).toBe(0);
    expect(d.envpPtrs).toEqual([]);
  });

  test("sp stays aligned for every string length and entry count", () => {
    for (const wordSize of [4, 8] as const) {
      for (let n = 0; n < 24; n++) {
        for (let k = 0; k < 3; k++) {
          const inp = input({
            wordSize, stackTop: wordSize === 4 ? 0xffffe000 : 0x7ffffffff000,
            argv: ["p", "x".repeat(n)], envp: Array.from({ length: k }, (_, i) => `V${i}=${"y".repeat(n)}`),
            platform: "z".repeat(n % 9), auxv: Array.from({ length: k }, (_, i): [number, number] => [100 + i, i]),
          });
          checkImage(buildInitialStack(inp), inp);
        }
      }
    }
  });

  test("rejects inputs it cannot lay out faithfully", () => {
    expect(() => buildInitialStack(input({ auxv: [[AT_RANDOM, 1]] }))).toThrow(RangeError);
    expect(() => buildInitialStack(input({ auxv: [[AT_NULL, 0]] }))).toThrow(RangeError);
    expect(() => buildInitialStack(input({ random: new Uint8Array(15) }))).toThrow(/16 bytes/);
    expect(() => buildInitialStack(input({ argv: ["a\0b"] }))).toThrow(/NUL/);
    expect(() => buildInitialStack(input({ wordSize: 4, stackTop: 0xffffe000, auxv: [[AT_HWCAP, 2 ** 32]] }))).toThrow(RangeError);
    expect(() => buildInitialStack(input({ auxv: [[AT_UID, -1]] }))).toThrow(RangeError);
    expect(() => buildInitialStack(input({ wordSize: 4, stackTop: 2 ** 32 + 4096 }))).toThrow(RangeError);
    expect(() => buildInitialStack(input({ stackTop: 64 }))).toThrow(/does not fit/);
  });
});

// ---------------------------------------------------------------- the host kernel as the reference

// Prints the [stack] vma end, sp (the address of argc) and every byte in between.
const DUMP = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  unsigned long top = 0;
  char line[512];
  FILE *f = fopen("/proc/self/maps", "r");
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "[stack]")) top = strtoul(strchr(line, '-') + 1, 0, 16);
  unsigned long sp = (unsigned long)argv - sizeof(long);
  printf("%lx %lx\\n", top, sp);
  for (unsigned char *p = (unsigned char *)sp; p < (unsigned char *)top; p++) printf("%02x", *p);
  printf("\\n");
  return argc == 0;
}
`;

describe("buildInitialStack matches the host kernel (x86_64 Linux host)", () => {
  let dir: string;
  const exe: Record<string, string> = {};

  beforeAll(() => {
    expect(`${process.platform}/${process.arch}`).toBe("linux/x64");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-initstack-"));
    fs.writeFileSync(path.join(dir, "dump.c"), DUMP);
    for (const [name, cc] of [["x86_64", "gcc"], ["i386", "i686-linux-gnu-gcc"]]) {
      exe[name] = path.join(dir, `dump-${name}`);
      execFileSync(cc, ["-static", "-O2", "-o", exe[name], path.join(dir, "dump.c")], { stdio: "pipe" });
    }
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([["x86_64", 8], ["i386", 4]] as const)("%s", (name, wordSize) => {
    const args = ["one", "héllo wörld", "", "x".repeat(21)];
    const out = execFileSync(exe[name], args, { env: { A: "1", LONGER_NAME: "some value", E: "" }, encoding: "utf8" });
    const [head, hexBytes] = out.trim().split("\n");
    const [top, sp] = head.split(" ").map((h) => parseInt(h, 16));
    const real = Uint8Array.from(Buffer.from(hexBytes, "hex"));
    expect(real.length).toBe(top - sp);
    const r = decode(real, sp, sp, wordSize);
    expect(r.argv).toEqual([exe[name], ...args]);

    // Rebuild from what the kernel gave the process; the builder adds RANDOM, EXECFN, PLATFORM, NULL.
    const ours = new Set([AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL]);
    const platformAddr = auxValue(r, AT_PLATFORM)!;
    const randomAddr = auxValue(r, AT_RANDOM)!;
    const inp: InitialStackInput = {
      wordSize, stackTop: top, argv: r.argv, envp: r.envp,
      execfn: cstr(real, sp, auxValue(r, AT_EXECFN)!),
      platform: cstr(real, sp, platformAddr),
      random: real.slice(randomAddr - sp, randomAddr - sp + 16),
      auxv: r.auxv.filter(([t]) => !ours.has(t)),
    };
    expect(inp.platform).toBe(name === "i386" ? "i686" : "x86_64");
    const st = buildInitialStack(inp);
    const b = decode(st.bytes, st.base, st.sp, wordSize);

    // The strings region, from argv[0] to the top, is byte-identical.
    expect(st.argStart).toBe(r.argvPtrs[0]);
    expect(Buffer.from(st.bytes.subarray(st.argStart - st.base))).toEqual(Buffer.from(real.subarray(r.argvPtrs[0] - sp)));
    expect(b.argvPtrs).toEqual(r.argvPtrs);
    expect(b.envpPtrs).toEqual(r.envpPtrs);

    // Below the strings the kernel subtracted a random, 16-byte-multiple amount (arch_align_stack);
    // the builder does not, so everything from the platform string down is shifted by that delta.
    const delta = auxValue(b, AT_PLATFORM)! - platformAddr;
    expect(delta % 16).toBe(0);
    expect(delta).toBeGreaterThanOrEqual(0);
    expect(delta).toBeLessThan(8192 + 16);
    expect(auxValue(b, AT_RANDOM)! - delta).toBe(randomAddr);
    expect(st.sp - delta).toBe(sp);
    expect(auxValue(b, AT_EXECFN)).toBe(auxValue(r, AT_EXECFN));

    // Same auxv entries (Linux puts AT_HWCAP2 and AT_RSEQ_* between ours; the order is not ABI).
    const shifted = b.auxv.map(([t, v]): [number, number] => [t, t === AT_RANDOM || t === AT_PLATFORM ? v - delta : v]);
    const sort = (a: Array<[number, number]>) => [...a].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(sort(shifted)).toEqual(sort(r.auxv));
  });
});
