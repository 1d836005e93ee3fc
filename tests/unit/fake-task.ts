// A Task with no CPU behind it, for calling syscall handlers directly: a small address space
// over plain host buffers, an fd table, and a minimal ArchOps. Shared by the unit tests.
import { SyscallArgs, type ArchOps, type Handler } from "../../kernel/abi";
import { syscalls as i386Table } from "../../arch/x86/syscalls";
import { syscalls as x86_64Table } from "../../arch/x64/syscalls";
import { Errno, EFAULT } from "../../kernel/errno";
import { Block, FdTable, type SysRet } from "../../kernel/file";
import { AddressSpace, GuestFault, PROT_READ, PROT_WRITE, type MemoryBackend } from "../../kernel/memory";
import { defaultRlimits } from "../../kernel/rlimits";
import { Task } from "../../kernel/task";

/** Read-write scratch memory every fake task has mapped. */
export const SCRATCH = 0x10000, SCRATCH_SIZE = 0x40000;
/** An address no fake task maps. */
export const UNMAPPED = 0x8000;

const CHUNK_SHIFT = 20;
const WINDOW_SIZE = 16 << 20;

class HeapBackend implements MemoryBackend {
  private readonly chunks = new Map<number, Uint8Array>();
  chunk(index: number): Uint8Array {
    let c = this.chunks.get(index);
    if (!c) this.chunks.set(index, (c = new Uint8Array(2 ** CHUNK_SHIFT)));
    return c;
  }
  protect(): void {}
  commit(): void {}
  share(): void {}
  hold(): { release(): void } { return { release: () => undefined }; }
  attach(): void {}
  release(): void {}
}

export interface FakeTaskOptions {
  /** 8: an x86_64-like task (the default); 4: an i386 (compat) task. */
  wordSize?: 4 | 8;
  uid?: number;
  /** Seed of the deterministic random source. */
  seed?: number;
}

export interface FakeTask {
  t: Task;
  /** Kernel warnings, in order. */
  warnings: string[];
  /** Call `h` with up to six arguments (numbers or bigints) as the arch would pass them; a GuestFault becomes EFAULT as in the dispatcher. */
  call(h: Handler, ...args: Array<number | bigint>): SysRet;
  /** Like call, but returns the errno name or the number, for compact assertions. */
  ret(h: Handler, ...args: Array<number | bigint>): string | number;
}

/** A fresh task (its own process, adopted by no kernel, so its own network namespace) with SCRATCH mapped read-write. */
export function fakeTask(options: FakeTaskOptions = {}): FakeTask {
  const wordSize = options.wordSize ?? 8;
  const mm = new AddressSpace(new HeapBackend(), {
    windowSize: WINDOW_SIZE, chunkShift: CHUNK_SHIFT, mmapTop: WINDOW_SIZE - 0x100000, mmapBottom: 0x400000,
  });
  mm.map(SCRATCH, SCRATCH_SIZE, PROT_READ | PROT_WRITE);
  const arch: ArchOps = {
    name: wordSize === 8 ? "x86_64" : "i386",
    wordSize,
    machine: wordSize === 8 ? "x86_64" : "i686",
    auditArch: wordSize === 8 ? 0xc000003e : 0x40000003,
    table: wordSize === 8 ? x86_64Table : i386Table,
    sigactionSize: wordSize === 8 ? 32 : 20,
    cloneBackwards: wordSize === 4,
    setupSignalFrame: () => false,
    sigreturn: () => undefined,
    writeStat() { throw new Error("fake task: writeStat is not modelled"); },
    stackPointer: () => 0,
    pc: () => 0,
    registers: () => "(fake task)",
  };
  // xorshift32: deterministic "random" bytes.
  let state = (options.seed ?? 0x9e3779b9) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
  };
  const warnings: string[] = [];
  const uid = options.uid ?? 0;
  const t = new Task(1000, 1000, 1, mm, new FdTable(), arch, {
    uid, gid: uid, euid: uid, egid: uid, hostname: "syscage", exePath: "/fake", rlimits: defaultRlimits(),
    random: (b) => { for (let i = 0; i < b.length; i++) b[i] = next() & 0xff; },
    warn: (m) => warnings.push(m),
  });
  const call = (h: Handler, ...args: Array<number | bigint>): SysRet => {
    const io = new Uint32Array(12);
    args.forEach((v, i) => {
      const big = BigInt.asUintN(64, BigInt(v));
      io[2 * i] = Number(big & 0xffffffffn);
      io[2 * i + 1] = Number(big >> 32n);
    });
    try {
      return h(t, new SyscallArgs(io, 0, wordSize));
    } catch (e) {
      if (e instanceof GuestFault) return EFAULT;
      throw e;
    }
  };
  const ret = (h: Handler, ...args: Array<number | bigint>): string | number => {
    const r = call(h, ...args);
    if (r instanceof Errno) return r.name;
    if (r instanceof Block) throw new Error("fake task: the call blocked");
    return Number(r);
  };
  return { t, warnings, call, ret };
}

/** A bump allocator over SCRATCH, so each test lays out its guest structs explicitly. */
export class Scratch {
  private next = SCRATCH;
  constructor(private readonly t: Task) {}

  alloc(size: number): number {
    const at = this.next;
    this.next += (size + 7) & ~7;
    if (this.next > SCRATCH + SCRATCH_SIZE) throw new Error("fake task: scratch memory exhausted");
    return at;
  }

  bytes(data: Uint8Array): number {
    const at = this.alloc(data.length);
    this.t.mm.write(at, data);
    return at;
  }

  i32(v: number): number {
    const at = this.alloc(4);
    this.t.mm.setU32(at, v >>> 0);
    return at;
  }
}
