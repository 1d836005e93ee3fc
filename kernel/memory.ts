/**
 * A guest address space: the VMA list (what the guest has mapped, with which
 * protection) and typed access to guest memory for the kernel.
 *
 * Guest memory is host memory (see engine/engine.c): reads and writes go
 * straight to it through chunk views. Every kernel access is checked against
 * the VMAs first, as Linux's copy_{from,to}_user would, so a bad guest pointer
 * becomes EFAULT and never touches an uncommitted host page.
 */

export const PAGE_SIZE = 4096;
export const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;

/** Thrown by guest-memory helpers; the dispatcher turns it into EFAULT. */
export class GuestFault extends Error {
  constructor(readonly addr: number) {
    super(`guest fault at 0x${addr.toString(16)}`);
  }
}

/** What the CPU backend provides for memory (engine/index.ts implements it). */
export interface MemoryBackend {
  chunk(index: number): Uint8Array;
  protect(addr: number, len: number, prot: number): void;
  commit(addr: number, len: number): void;
  release(addr: number, len: number): void;
  /** Back a committed range with memory a forked child will share rather than copy. */
  share(addr: number, len: number): void;
  /** Hold the shared memory behind the range share() or attach() started at `addr`, for another address space to attach. */
  hold(addr: number): SharedMemory;
  /** Back a committed range with shared memory held elsewhere, from `delta` bytes into it (a System V segment, a file's pages). */
  attach(addr: number, len: number, mem: SharedMemory, delta?: number): void;
  /** A name for the shared memory byte at `addr`, the same in every process mapping it; undefined when private. */
  sharedKey?(addr: number): string | undefined;
}

/** Host memory that outlives its mappings while held (a System V segment between attaches); opaque but for release(). */
export interface SharedMemory {
  release(): void;
}

export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** Shown in /proc/self/maps style reports: "[heap]", "[stack]", the image path, or "". */
  name: string;
  /** MAP_SHARED: a fork shares these pages instead of copying them. */
  shared?: boolean;
  /** A MAP_SHARED file mapping: where its pages go back (msync, munmap, exit). Opaque to the address space. */
  backing?: { file: unknown; offset: number };
  /** A System V shared memory attach: its segment (opaque here) and the address shmat returned, which shmdt takes. */
  sysv?: { segment: unknown; start: number };
}

export interface AddressLayout {
  /** Guest addresses are [0, windowSize). */
  windowSize: number;
  chunkShift: number;
  /** mmap without a hint places mappings top-down below this address. */
  mmapTop: number;
  /** ...and never below this one (keeps room for brk growth). */
  mmapBottom: number;
}

export const pageDown = (a: number): number => a - (a % PAGE_SIZE);
export const pageUp = (a: number): number => pageDown(a + PAGE_SIZE - 1);

export class AddressSpace {
  private vmas: Vma[] = [];
  private readonly chunks: (Uint8Array | undefined)[] = [];
  private readonly views: (DataView | undefined)[] = [];
  private readonly chunkSize: number;
  private readonly textDecoder = new TextDecoder();
  brkStart = 0;
  brkEnd = 0;
  /** Processes using this address space: a vfork child shares its parent's. */
  users = 1;

  constructor(private readonly backend: MemoryBackend, readonly layout: AddressLayout) {
    this.chunkSize = 2 ** layout.chunkShift;
  }

  /** The same mappings over another backend that already holds a copy of the memory (fork). */
  cloneFor(backend: MemoryBackend): AddressSpace {
    const copy = new AddressSpace(backend, this.layout);
    copy.vmas = this.vmas.map((v) => ({ ...v }));
    copy.brkStart = this.brkStart;
    copy.brkEnd = this.brkEnd;
    return copy;
  }

  // --- mapping ---------------------------------------------------------------

  /** Map [addr, addr+len) fresh (zero-filled), replacing whatever was there (MAP_FIXED). */
  map(addr: number, len: number, prot: number, name = ""): void {
    this.unmap(addr, len);
    this.backend.commit(addr, len);
    this.backend.protect(addr, len, prot);
    this.insert({ start: addr, end: addr + len, prot, name });
  }

  /**
   * Map [addr, addr+len) as MAP_SHARED memory, shared with children forked later:
   * zero-filled, or the memory `from` holds (another process's mapping of the same file pages).
   */
  mapShared(addr: number, len: number, prot: number, name = "", backing?: Vma["backing"], from?: { mem: SharedMemory; delta: number }): void {
    this.unmap(addr, len);
    this.backend.commit(addr, len);
    if (from) this.backend.attach(addr, len, from.mem, from.delta);
    else this.backend.share(addr, len);
    this.backend.protect(addr, len, prot);
    this.insert({ start: addr, end: addr + len, prot, name, shared: true, backing });
  }

  /**
   * Map System V shared memory at [addr, addr+len): `mem` when another attach
   * made it, else fresh zero-filled memory, which is returned held for the caller.
   */
  mapSysv(addr: number, len: number, prot: number, name: string, sysv: NonNullable<Vma["sysv"]>, mem: SharedMemory | undefined): SharedMemory {
    this.unmap(addr, len);
    this.backend.commit(addr, len);
    if (mem) this.backend.attach(addr, len, mem);
    else {
      this.backend.share(addr, len);
      mem = this.backend.hold(addr);
    }
    this.backend.protect(addr, len, prot);
    this.insert({ start: addr, end: addr + len, prot, name, shared: true, sysv });
    return mem;
  }

  /** Hold the shared memory mapped at `addr` (the start of a mapShared range) for other address spaces to attach. */
  hold(addr: number): SharedMemory {
    return this.backend.hold(addr);
  }

  /** The identity of the shared memory byte at `addr` across processes, for shared futexes; undefined when private. */
  sharedKey(addr: number): string | undefined {
    return this.backend.sharedKey?.(addr);
  }

  /** Remove [addr, addr+len) from every VMA it touches; host pages are dropped. */
  unmap(addr: number, len: number): void {
    const end = addr + len;
    if (!this.vmas.some((v) => v.start < end && v.end > addr)) return;
    this.backend.protect(addr, len, PROT_NONE);
    this.backend.release(addr, len);
    this.vmas = this.splitAround(addr, end);
  }

  /** mprotect: false (ENOMEM) when part of the range is not mapped. */
  protect(addr: number, len: number, prot: number): boolean {
    const end = addr + len;
    if (!this.covered(addr, end)) return false;
    const pieces = this.vmas.filter((v) => v.start < end && v.end > addr);
    const rest = this.splitAround(addr, end);
    for (const v of pieces) {
      const start = Math.max(v.start, addr);
      const backing = v.backing && { ...v.backing, offset: v.backing.offset + (start - v.start) };
      rest.push({ ...v, start, end: Math.min(v.end, end), prot, backing });
    }
    this.vmas = rest.sort((a, b) => a.start - b.start);
    this.merge();
    this.backend.protect(addr, len, prot);
    return true;
  }

  /** Whether [start, end) is mapped with no hole. */
  covered(start: number, end: number): boolean {
    let at = start;
    for (const v of this.vmas) {
      if (v.end <= at) continue;
      if (v.start > at) return false;
      at = v.end;
      if (at >= end) return true;
    }
    return at >= end;
  }

  /** Whether [start, end) is entirely unmapped. */
  isFree(start: number, end: number): boolean {
    return start >= 0 && end <= this.layout.windowSize && !this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** A free, page-aligned range of `len` bytes, top-down like Linux's mmap. */
  findFree(len: number): number | undefined {
    let top = this.layout.mmapTop;
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const v = this.vmas[i];
      if (v.start >= top) continue;
      if (v.end <= top - len) break;
      top = v.start;
    }
    const start = top - len;
    return start >= this.layout.mmapBottom && this.isFree(start, top) ? start : undefined;
  }

  /** Mapped ranges, for /proc/self/maps and reports. */
  mappings(): readonly Vma[] {
    return this.vmas;
  }

  find(addr: number): Vma | undefined {
    for (const v of this.vmas) if (addr >= v.start && addr < v.end) return v;
    return undefined;
  }

  private insert(vma: Vma): void {
    const i = this.vmas.findIndex((v) => v.start > vma.start);
    this.vmas.splice(i < 0 ? this.vmas.length : i, 0, vma);
    this.merge();
  }

  /** Join neighbours with the same protection and name, as Linux's vma_merge keeps /proc/self/maps tidy. */
  private merge(): void {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      const last = out[out.length - 1];
      if (last && last.end === v.start && last.prot === v.prot && last.name === v.name && last.shared === v.shared && last.sysv === v.sysv && !last.backing && !v.backing) {
        out[out.length - 1] = { ...last, end: v.end };
      }
      else out.push(v);
    }
    this.vmas = out;
  }

  /** The VMA list with [start, end) cut out. */
  private splitAround(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end) {
        out.push(v);
        continue;
      }
      if (v.start < start) out.push({ ...v, end: start });
      if (v.end > end) {
        const backing = v.backing && { ...v.backing, offset: v.backing.offset + (end - v.start) };
        out.push({ ...v, start: end, backing });
      }
    }
    return out;
  }

  // --- access ----------------------------------------------------------------

  /** Throws GuestFault unless [addr, addr+len) is mapped with all of `prot`. */
  check(addr: number, len: number, prot: number): void {
    if (!Number.isSafeInteger(addr) || addr < 0 || len < 0 || addr + len > this.layout.windowSize) throw new GuestFault(addr);
    let at = addr;
    const end = addr + len;
    if (len === 0) return;
    for (const v of this.vmas) {
      if (v.end <= at) continue;
      if (v.start > at || (v.prot & prot) !== prot) throw new GuestFault(at);
      at = v.end;
      if (at >= end) return;
    }
    throw new GuestFault(at);
  }

  private chunk(index: number): Uint8Array {
    return this.chunks[index] ?? (this.chunks[index] = this.backend.chunk(index));
  }

  private view(index: number): DataView {
    let dv = this.views[index];
    if (!dv) {
      const c = this.chunk(index);
      dv = this.views[index] = new DataView(c.buffer, c.byteOffset, c.byteLength);
    }
    return dv;
  }

  /** Copy guest bytes out (checked for read). */
  read(addr: number, len: number): Uint8Array {
    this.check(addr, len, PROT_READ);
    return this.rawRead(addr, len);
  }

  /** Copy bytes into guest memory (checked for write). */
  write(addr: number, data: Uint8Array): void {
    this.check(addr, data.length, PROT_WRITE);
    this.rawWrite(addr, data);
  }

  /** Write without a permission check: the loader fills read-only segments this way. */
  rawWrite(addr: number, data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const a = addr + off;
      const idx = Math.floor(a / this.chunkSize);
      const inChunk = a - idx * this.chunkSize;
      const n = Math.min(data.length - off, this.chunkSize - inChunk);
      this.chunk(idx).set(data.subarray(off, off + n), inChunk);
      off += n;
    }
  }

  rawRead(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let off = 0;
    while (off < len) {
      const a = addr + off;
      const idx = Math.floor(a / this.chunkSize);
      const inChunk = a - idx * this.chunkSize;
      const n = Math.min(len - off, this.chunkSize - inChunk);
      out.set(this.chunk(idx).subarray(inChunk, inChunk + n), off);
      off += n;
    }
    return out;
  }

  /** Zero guest bytes without a permission check (bss tails). */
  rawZero(addr: number, len: number): void {
    this.rawWrite(addr, new Uint8Array(len));
  }

  /** A little-endian accessor for `size` bytes at addr, when they sit in one chunk (the usual case). */
  private at(addr: number, size: number, prot: number): [DataView, number] | undefined {
    this.check(addr, size, prot);
    const idx = Math.floor(addr / this.chunkSize);
    const off = addr - idx * this.chunkSize;
    return off + size <= this.chunkSize ? [this.view(idx), off] : undefined;
  }

  u8(addr: number): number { return this.read(addr, 1)[0]; }

  u16(addr: number): number {
    const p = this.at(addr, 2, PROT_READ);
    return p ? p[0].getUint16(p[1], true) : new DataView(this.rawRead(addr, 2).buffer).getUint16(0, true);
  }

  u32(addr: number): number {
    const p = this.at(addr, 4, PROT_READ);
    return p ? p[0].getUint32(p[1], true) : new DataView(this.rawRead(addr, 4).buffer).getUint32(0, true);
  }

  i32(addr: number): number { return this.u32(addr) | 0; }

  u64(addr: number): bigint {
    const p = this.at(addr, 8, PROT_READ);
    return p ? p[0].getBigUint64(p[1], true) : new DataView(this.rawRead(addr, 8).buffer).getBigUint64(0, true);
  }

  /** A 64-bit value as a number; values past 2^53 lose precision (used for sizes and addresses). */
  u64n(addr: number): number { return Number(this.u64(addr)); }

  setU16(addr: number, v: number): void { this.setScalar(addr, 2, (d, o) => d.setUint16(o, v, true)); }
  setU32(addr: number, v: number): void { this.setScalar(addr, 4, (d, o) => d.setUint32(o, v >>> 0, true)); }
  setU64(addr: number, v: number | bigint): void {
    this.setScalar(addr, 8, (d, o) => d.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true));
  }

  private setScalar(addr: number, size: number, set: (d: DataView, off: number) => void): void {
    const p = this.at(addr, size, PROT_WRITE);
    if (p) return set(p[0], p[1]);
    const tmp = new Uint8Array(size);
    set(new DataView(tmp.buffer), 0);
    this.rawWrite(addr, tmp);
  }

  /** A NUL-terminated string of at most `max` bytes (ENAMETOOLONG is the caller's call). */
  cstring(addr: number, max = 4096): string | undefined {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.u8(addr + i);
      if (b === 0) return this.textDecoder.decode(new Uint8Array(bytes));
      bytes.push(b);
    }
    return undefined;
  }
}
