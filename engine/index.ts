/**
 * The CPU backend: the native Unicorn addon behind a small interface, so that
 * another backend (a WASM build for browsers) can stand in later.
 */
import * as path from "path";

/** What the addon exports (engine/engine.c). */
interface Addon {
  create(arch: number, mode: number, cpuModel: number, memSize: number, io: Uint32Array,
    sysregs: number[], retreg: number, ret32: number, trap: number, onSyscall: () => void): object;
  close(h: object): void;
  view(h: object, offset: number, length: number): ArrayBuffer;
  commit(h: object, addr: number, len: number): void;
  release(h: object, addr: number, len: number): void;
  ucMap(h: object, addr: number, len: number, perms: number): void;
  ucUnmap(h: object, addr: number, len: number): void;
  regRead(h: object, id: number): bigint;
  regWrite(h: object, id: number, value: number | bigint): void;
  mmrWrite(h: object, id: number, base: number, limit: number): void;
  run(h: object, pc: number | bigint, timeoutUs: number): number;
  contextSave(h: object): object;
  setPreemptible(h: object, on: boolean): void;
  removeCache(h: object, begin: number, end: number): void;
  shareMemory(h: object, addr: number, len: number, fd: number, offset: number): number;
  closeFd(fd: number): void;
  contextRestore(h: object, ctx: object): void;
  copyFrom(dst: object, src: object, addr: number, len: number): void;
  contextRegWrite(ctx: object, id: number, value: number | bigint): void;
  lastStop(h: object): { memType: number; addr: bigint; intno: number; ucErr: number; message: string };
  hostSeek(fd: number, offset: number, whence: number): number;
  hostPoll(fd: number, events: number): number;
  hostTtyIoctl(fd: number, request: number, buf: Uint8Array): number;
  setCpuid(h: object, edx: number): void;
  watchFd(fd: number, readable: boolean, writable: boolean, cb: (events: number) => void): object | null;
  unwatchFd(w: object): void;
  installInterruptGuard(): void;
  interruptHandled(): void;
  constants: Constants;
}

export interface Constants {
  ARCH_X86: number; ARCH_ARM64: number; MODE_32: number; MODE_64: number; MODE_ARM: number;
  PROT_READ: number; PROT_WRITE: number; PROT_EXEC: number;
  CPU_X86_QEMU32: number; CPU_X86_QEMU64: number; CPU_X86_HASWELL: number;
  CPU_ARM64_MAX: number; CPU_ARM64_A72: number;
  MEM_READ_UNMAPPED: number; MEM_WRITE_UNMAPPED: number; MEM_FETCH_UNMAPPED: number;
  MEM_READ_PROT: number; MEM_WRITE_PROT: number; MEM_FETCH_PROT: number;
  ERR_INSN_INVALID: number;
  x86: Record<string, number>;
  arm64: Record<string, number>;
}

function loadAddon(): Addon {
  // dist/engine/index.js and engine/index.ts both sit two levels below the package root.
  for (const rel of ["../../build/Release/syscage_engine.node", "../build/Release/syscage_engine.node"]) {
    try {
      return require(path.join(__dirname, rel)) as Addon;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw e;
    }
  }
  throw new Error("syscage: the engine addon is not built; run `npm install` (needs libunicorn-dev)");
}

const addon = loadAddon();
export const uc = addon.constants;

/** See engine.c: a second Ctrl-C before the first was handled ends the process with 130. */
export const installInterruptGuard = (): void => addon.installInterruptGuard();
export const interruptHandled = (): void => addon.interruptHandled();

/** lseek(2) on a host descriptor: the new offset, or a negative host errno. */
export const hostSeek = (fd: number, offset: number, whence: number): number => addon.hostSeek(fd, offset, whence);

/** The host side of descriptors handed to the guest: seeking, readiness now, and watching for readiness. */
export const hostIo = {
  seek: hostSeek,
  poll: (fd: number, events: number): number => addon.hostPoll(fd, events),
  /** Call `cb` whenever `fd` is readable until the returned function is called; undefined if the host cannot watch it. */
  watchReadable(fd: number, cb: () => void): (() => void) | undefined {
    const w = addon.watchFd(fd, true, false, () => cb());
    if (!w) return undefined;
    // Once only: a second uv_close of the same handle would touch freed memory.
    let live = true;
    return () => {
      if (live) addon.unwatchFd(w);
      live = false;
    };
  },
  ttyIoctl: (fd: number, request: number, buf: Uint8Array): number => addon.hostTtyIoctl(fd, request, buf),
};

/** Indices into the shared io words; must match engine/engine.c. */
export const IO_NR = 0, IO_ARGS = 2, IO_RET = 14, IO_ACTION = 16, IO_WORDS = 32;
export const ACTION_SET_RET = 1, ACTION_STOP = 2;

export enum Trap { SyscallInsn = 0, Int80 = 1, Svc = 2 }

export type Stop =
  | { kind: "requested" }
  | { kind: "memfault"; access: "read" | "write" | "fetch"; unmapped: boolean; addr: number }
  | { kind: "interrupt"; intno: number }
  | { kind: "error"; invalidInstruction: boolean; message: string };

export interface CpuConfig {
  ucArch: number; ucMode: number; cpuModel: number;
  /** Size of the guest window: guest addresses are [0, windowSize). */
  windowSize: number;
  /** x86: CPUID leaf 1's EDX (the AT_HWCAP the arch advertises), replacing Unicorn's incomplete one. */
  cpuidEdx?: number;
  /** Number register, then the six argument registers. */
  sysregs: number[];
  retreg: number;
  ret32: boolean;
  trap: Trap;
}

export const PROT_NONE = 0, PROT_R = 1, PROT_W = 2, PROT_X = 4;

/** A guest range backed by a shared memory file: `fd` at `offset` maps to `start`. */
interface SharedRange { start: number; end: number; fd: number; offset: number }

/** How many shared ranges, in every engine, use each shared memory file; closed at zero. */
const sharedFdRefs = new Map<number, number>();
function refFd(fd: number): void { sharedFdRefs.set(fd, (sharedFdRefs.get(fd) ?? 0) + 1); }
function unrefFd(fd: number): void {
  const n = (sharedFdRefs.get(fd) ?? 1) - 1;
  if (n > 0) sharedFdRefs.set(fd, n);
  else {
    sharedFdRefs.delete(fd);
    addon.closeFd(fd);
  }
}

/** A reference to a shared memory file that no mapping needs to keep alive; release() drops it once. */
class HeldMemory {
  private held = true;
  constructor(readonly fd: number, readonly offset: number) { refFd(fd); }
  release(): void {
    if (this.held) unrefFd(this.fd);
    this.held = false;
  }
}

/** One contiguous range of guest pages as Unicorn sees it. */
interface Region { start: number; end: number; prot: number }

/** Views of the host reservation are handed out in chunks no typed array would refuse. */
export const CHUNK_SHIFT = 30;
export const CHUNK_SIZE = 2 ** CHUNK_SHIFT;

/** The host cannot hold another CPU (address space or Unicorn's code buffer): fork and execve fail with ENOMEM. */
export class HostExhausted extends Error {}

export class UnicornCpu {
  readonly io = new Uint32Array(IO_WORDS);
  private readonly h: object;
  /** Unicorn's mapped regions, sorted; kept so every uc call covers whole regions
   *  (Unicorn copies ptr-backed regions it has to split, which would detach them from our memory). */
  private regions: Region[] = [];
  /** Host ranges committed (readable by the host), sorted and disjoint: what fork must copy. */
  private committed: Array<[number, number]> = [];
  /** Ranges backed by shared memory (MAP_SHARED): a fork maps the same pages instead of copying them. */
  private shared: SharedRange[] = [];

  constructor(readonly config: CpuConfig, private readonly onSyscall: () => void) {
    try {
      this.h = addon.create(config.ucArch, config.ucMode, config.cpuModel, config.windowSize, this.io,
        config.sysregs, config.retreg, config.ret32 ? 1 : 0, config.trap, onSyscall);
      if (config.cpuidEdx !== undefined) addon.setCpuid(this.h, config.cpuidEdx);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOMEM") {
        throw new HostExhausted(`no host address space for a guest process (each reserves ${config.windowSize / 2 ** 30 + 1} GiB; is ulimit -v set?)`);
      }
      throw e;
    }
  }

  /** The host bytes behind guest chunk `index` (CHUNK_SIZE bytes, or less at the window's end). */
  chunk(index: number): Uint8Array {
    const off = index * CHUNK_SIZE;
    const len = Math.min(CHUNK_SIZE, this.config.windowSize - off);
    return new Uint8Array(addon.view(this.h, off, len));
  }

  /**
   * Give [addr, addr+len) the guest protection `prot` (PROT_NONE unmaps it).
   * Host pages are committed or released by the caller (commit/release).
   */
  protect(addr: number, len: number, prot: number): void {
    const end = addr + len;
    const kept: Region[] = [];
    const next: Region[] = [];
    for (const r of this.regions) {
      if (r.end <= addr || r.start >= end) {
        next.push(r);
        continue;
      }
      // Unicorn's unmap drops the TLB but not the translated code: a range that stops being
      // executable (W^X JITs, munmap then new code at the same address) must lose it too.
      if (r.prot & PROT_X && !(prot & PROT_X)) addon.removeCache(this.h, Math.max(r.start, addr), Math.min(r.end, end));
      addon.ucUnmap(this.h, r.start, r.end - r.start);
      if (r.start < addr) kept.push({ start: r.start, end: addr, prot: r.prot });
      if (r.end > end) kept.push({ start: end, end: r.end, prot: r.prot });
    }
    if (prot !== PROT_NONE) kept.push({ start: addr, end, prot });
    for (const r of kept) {
      addon.ucMap(this.h, r.start, r.end - r.start, ucPerms(r.prot));
      next.push(r);
    }
    next.sort((a, b) => a.start - b.start);
    this.regions = next;
  }

  /** Free the CPU and the guest memory now; views handed out before must not be used after. */
  close(): void {
    addon.close(this.h);
    for (const r of this.shared) unrefFd(r.fd);
    this.shared = [];
  }

  commit(addr: number, len: number): void {
    addon.commit(this.h, addr, len);
    this.committed = addRange(this.committed, addr, addr + len);
  }

  release(addr: number, len: number): void {
    addon.release(this.h, addr, len);
    this.committed = cutRange(this.committed, addr, addr + len);
    this.unshare(addr, addr + len);
  }

  /** Back the committed range [addr, addr+len) with fresh shared memory (MAP_SHARED|MAP_ANONYMOUS). */
  share(addr: number, len: number): void {
    this.unshare(addr, addr + len);
    const fd = addon.shareMemory(this.h, addr, len, -1, 0);
    refFd(fd);
    this.shared.push({ start: addr, end: addr + len, fd, offset: 0 });
  }

  /** Hold the shared memory file behind the range share() or attach() started at `addr` (a System V segment). */
  hold(addr: number): HeldMemory {
    const r = this.shared.find((s) => s.start === addr);
    if (!r) throw new Error(`syscage engine: no shared memory at 0x${addr.toString(16)}`);
    return new HeldMemory(r.fd, r.offset);
  }

  /** Back the committed range [addr, addr+len) with memory held elsewhere, from `delta` bytes into it: both see each other's writes. */
  attach(addr: number, len: number, mem: HeldMemory, delta = 0): void {
    this.unshare(addr, addr + len);
    this.attachShared({ start: addr, end: addr + len, fd: mem.fd, offset: mem.offset + delta });
  }

  /** Which shared memory byte `addr` is, the same in every process that maps it (shared futexes); undefined for private memory. */
  sharedKey(addr: number): string | undefined {
    const r = this.shared.find((s) => s.start <= addr && addr < s.end);
    return r && `${r.fd}:${r.offset + (addr - r.start)}`;
  }

  private attachShared(r: SharedRange): void {
    addon.shareMemory(this.h, r.start, r.end - r.start, r.fd, r.offset);
    refFd(r.fd);
    this.shared.push({ ...r });
  }

  /** Forget the shared backing of [start, end); pieces outside it keep theirs. */
  private unshare(start: number, end: number): void {
    const next: SharedRange[] = [];
    for (const r of this.shared) {
      if (r.end <= start || r.start >= end) { next.push(r); continue; }
      if (r.start < start) { next.push({ ...r, end: start }); refFd(r.fd); }
      if (r.end > end) { next.push({ ...r, start: end, offset: r.offset + (end - r.start) }); refFd(r.fd); }
      unrefFd(r.fd);
    }
    this.shared = next;
  }

  /** A new CPU with a copy of this one's memory and register state (fork). */
  fork(): UnicornCpu {
    const child = new UnicornCpu(this.config, this.onSyscall);
    for (const [start, end] of this.committed) {
      child.commit(start, end - start);
      // Shared pages are mapped, not copied: parent and child see each other's writes.
      let at = start;
      for (const r of this.shared.filter((r) => r.start < end && r.end > start).sort((a, b) => a.start - b.start)) {
        if (r.start > at) addon.copyFrom(child.h, this.h, at, r.start - at);
        at = Math.max(at, r.end);
      }
      if (at < end) addon.copyFrom(child.h, this.h, at, end - at);
    }
    for (const r of this.shared) child.attachShared(r);
    for (const r of this.regions) child.protect(r.start, r.end - r.start, r.prot);
    child.restoreContext(this.saveContext());
    return child;
  }

  /** The whole register state, to switch threads or to copy. */
  saveContext(): object { return addon.contextSave(this.h); }
  restoreContext(ctx: object): void { addon.contextRestore(this.h, ctx); }
  /** Change one register of a saved context (see engine_context_reg_write for why). */
  static setContextReg(ctx: object, id: number, value: number | bigint): void { addon.contextRegWrite(ctx, id, value); }

  reg(id: number): bigint { return addon.regRead(this.h, id); }
  regNum(id: number): number { return Number(addon.regRead(this.h, id)); }
  setReg(id: number, value: number | bigint): void { addon.regWrite(this.h, id, value); }
  setMmr(id: number, base: number, limit: number): void { addon.mmrWrite(this.h, id, base, limit); }

  private preemptible = false;
  /** A register write held until the CPU has stopped (see setRegAfterStop). */
  private afterStop: { id: number; value: number | bigint } | undefined;

  /**
   * Write register `id` once this run has stopped, and make it stop. Writing the
   * PC from inside a hook makes Unicorn 2.0.1 restart there and drop a stop
   * request (quit_request clears stop_request), so a signal pending after
   * sigreturn would wait for the next stop; held until the stop, it cannot.
   */
  setRegAfterStop(id: number, value: number | bigint): void {
    this.afterStop = { id, value };
  }

  /** Whether a held register write is waiting for this run to stop. */
  get mustStop(): boolean { return this.afterStop !== undefined; }

  /**
   * Run from `pc` until the kernel asks to stop, a fault, or `sliceUs`
   * microseconds (0: no limit). Slices need the (costly) block hook, which stays
   * installed until a run without a slice.
   */
  run(pc: number | bigint, sliceUs = 0): Stop {
    if ((sliceUs > 0) !== this.preemptible) {
      this.preemptible = sliceUs > 0;
      addon.setPreemptible(this.h, this.preemptible);
      // Retranslate the guest's code so every block has (or loses) the hook.
      for (const r of this.regions) if (r.prot & PROT_X) addon.removeCache(this.h, r.start, r.end);
    }
    const why = addon.run(this.h, pc, sliceUs);
    if (this.afterStop) {
      addon.regWrite(this.h, this.afterStop.id, this.afterStop.value);
      this.afterStop = undefined;
    }
    if (why === 0) return { kind: "requested" };
    const s = addon.lastStop(this.h);
    if (why === 1) {
      const t = s.memType;
      const access = t === uc.MEM_WRITE_UNMAPPED || t === uc.MEM_WRITE_PROT ? "write"
        : t === uc.MEM_FETCH_UNMAPPED || t === uc.MEM_FETCH_PROT ? "fetch" : "read";
      const unmapped = t === uc.MEM_READ_UNMAPPED || t === uc.MEM_WRITE_UNMAPPED || t === uc.MEM_FETCH_UNMAPPED;
      return { kind: "memfault", access, unmapped, addr: Number(s.addr) };
    }
    if (why === 2) return { kind: "interrupt", intno: s.intno };
    return { kind: "error", invalidInstruction: s.ucErr === uc.ERR_INSN_INVALID, message: s.message };
  }
}

/** Sorted disjoint ranges with [start, end) added, neighbours joined. */
function addRange(ranges: Array<[number, number]>, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, e] of [...cutRange(ranges, start, end), [start, end] as [number, number]].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && last[1] === s) last[1] = e;
    else out.push([s, e]);
  }
  return out;
}

/** Sorted disjoint ranges with [start, end) removed. */
function cutRange(ranges: Array<[number, number]>, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, e] of ranges) {
    if (e <= start || s >= end) { out.push([s, e]); continue; }
    if (s < start) out.push([s, start]);
    if (e > end) out.push([end, e]);
  }
  return out;
}

function ucPerms(prot: number): number {
  return (prot & PROT_R ? uc.PROT_READ : 0) | (prot & PROT_W ? uc.PROT_WRITE : 0) | (prot & PROT_X ? uc.PROT_EXEC : 0);
}
