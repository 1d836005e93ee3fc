/** AddressSpace against a fake backend: VMA bookkeeping and checked guest access, no CPU. */
import { AddressSpace, GuestFault, PAGE_SIZE, PROT_NONE, PROT_READ, PROT_WRITE, type MemoryBackend } from "../../kernel/memory";

const WINDOW = 16 << 20;

function space() {
  const calls: string[] = [];
  const mem = new Uint8Array(WINDOW);
  const backend: MemoryBackend = {
    chunk: (i) => mem.subarray(i << 20, (i + 1) << 20),
    protect: (a, l, p) => { calls.push(`protect ${a.toString(16)} ${l.toString(16)} ${p}`); },
    commit: () => undefined,
    share: () => undefined,
    hold: () => ({ release: () => undefined }),
    attach: () => undefined,
    release: (a, l) => { mem.fill(0, a, a + l); },
  };
  return { mm: new AddressSpace(backend, { windowSize: WINDOW, chunkShift: 20, mmapTop: 0x800000, mmapBottom: 0x100000 }), calls };
}

test("map, split by munmap and mprotect, merge back", () => {
  const { mm } = space();
  mm.map(0x10000, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
  mm.unmap(0x11000, PAGE_SIZE);
  expect(mm.mappings().map((v) => [v.start, v.end])).toEqual([[0x10000, 0x11000], [0x12000, 0x14000]]);
  expect(mm.protect(0x10000, 4 * PAGE_SIZE, PROT_READ)).toBe(false); // the hole: ENOMEM
  expect(mm.protect(0x12000, PAGE_SIZE, PROT_READ)).toBe(true);
  expect(mm.mappings().map((v) => [v.start, v.end, v.prot])).toEqual([[0x10000, 0x11000, 3], [0x12000, 0x13000, 1], [0x13000, 0x14000, 3]]);
  mm.protect(0x12000, PAGE_SIZE, PROT_READ | PROT_WRITE);
  expect(mm.mappings().map((v) => [v.start, v.end])).toEqual([[0x10000, 0x11000], [0x12000, 0x14000]]);
});

test("checked access: EFAULT-worthy faults for unmapped, read-only and out-of-window addresses", () => {
  const { mm } = space();
  mm.map(0x20000, PAGE_SIZE, PROT_READ);
  mm.map(0x21000, PAGE_SIZE, PROT_READ | PROT_WRITE);
  mm.setU32(0x21000, 0xdeadbeef);
  expect(mm.u32(0x21000)).toBe(0xdeadbeef);
  expect(() => mm.setU32(0x20000, 1)).toThrow(GuestFault);
  expect(() => mm.u32(0x21ffe)).toThrow(GuestFault);      // runs off the end of the mapping
  expect(() => mm.read(WINDOW - 2, 4)).toThrow(GuestFault);
  expect(() => mm.read(-1, 1)).toThrow(GuestFault);
  expect(mm.read(0x20ffe, 4)).toEqual(Uint8Array.of(0, 0, 0xef, 0xbe)); // across two VMAs
  mm.map(0x23000, PAGE_SIZE, PROT_NONE);
  expect(() => mm.u8(0x23000)).toThrow(GuestFault);
});

test("a fresh mapping over old contents reads as zero", () => {
  const { mm } = space();
  mm.map(0x30000, PAGE_SIZE, PROT_READ | PROT_WRITE);
  mm.setU64(0x30008, 0x0102030405060708n);
  mm.map(0x30000, PAGE_SIZE, PROT_READ | PROT_WRITE);
  expect(mm.u64(0x30008)).toBe(0n);
});

test("findFree goes top-down and skips mappings", () => {
  const { mm } = space();
  expect(mm.findFree(PAGE_SIZE)).toBe(0x7ff000);
  mm.map(0x7fe000, 2 * PAGE_SIZE, PROT_READ);
  expect(mm.findFree(2 * PAGE_SIZE)).toBe(0x7fc000);
  expect(mm.findFree(0x800000)).toBeUndefined(); // would cross mmapBottom
});

test("cstring stops at NUL and at the limit, and faults past the mapping", () => {
  const { mm } = space();
  mm.map(0x40000, PAGE_SIZE, PROT_READ | PROT_WRITE);
  mm.write(0x40ffa, Buffer.from("hello\0"));
  expect(mm.cstring(0x40ffa)).toBe("hello");
  expect(mm.cstring(0x40ffa, 3)).toBeUndefined();
  mm.write(0x40ffc, Buffer.from("abcd"));
  expect(() => mm.cstring(0x40ffc)).toThrow(GuestFault);
});
