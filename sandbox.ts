/**
 * The library API: a Sandbox runs one static binary on the engine with the
 * in-process kernel and resolves with its exit status. The CLI is a thin
 * shell over this.
 */
import { randomFillSync } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { arches, type ArchImpl } from "./arch";
import { ACTION_SET_RET, ACTION_STOP, IO_ACTION, IO_ARGS, IO_NR, IO_RET, UnicornCpu, CHUNK_SHIFT, hostSeek } from "./engine";
import { SyscallArgs } from "./kernel/abi";
import { Dispatcher, type SyscallHook, type SyscallEvent } from "./kernel/dispatch";
import { Block, FdTable, O_RDONLY, O_WRONLY, type FileDescription } from "./kernel/file";
import { AddressSpace } from "./kernel/memory";
import { defaultRlimits } from "./kernel/rlimits";
import { BufferInputFile, HostFdFile, SinkFile } from "./kernel/stdio";
import { handlers, archOverrides } from "./kernel/syscalls";
import { Task, type ExitStatus } from "./kernel/task";
import { parseElf, ElfError } from "./loader/elf";
import { loadProgram } from "./loader/load";
import { describeFault } from "./fault";

export type { SyscallHook, SyscallEvent } from "./kernel/dispatch";
export { Errno } from "./kernel/errno";
export { ElfError } from "./loader/elf";

/** Where a standard stream goes: a host descriptor passed through, bytes, or a callback. */
export type StdinSpec = number | Uint8Array | string;
export type OutputSpec = number | ((chunk: Uint8Array) => void);

export interface SandboxOptions {
  /** The complete guest environment (default: empty, like `env -i`). */
  env?: Record<string, string> | string[];
  stdin?: StdinSpec;
  stdout?: OutputSpec;
  stderr?: OutputSpec;
  /** Print every syscall (arch number, raw arguments, result) to this callback. */
  strace?: (line: string) => void;
  hostname?: string;
  uid?: number;
  gid?: number;
  /** Kernel warnings (unimplemented syscalls); default: the guest's stderr. */
  warn?: (message: string) => void;
}

export interface RunResult {
  /** The status a shell reports: the exit code, or 128+N after signal N. */
  status: number;
  exit: ExitStatus;
  arch: string;
  /** For a guest killed by a fault: the one-line report also written to stderr. */
  fault?: string;
}

/** A binary syscage cannot run: the message is one line, the CLI exits 126. */
export class LoadError extends Error {}


export class Sandbox {
  private readonly hooks: Array<[string, SyscallHook]> = [];

  constructor(private readonly options: SandboxOptions = {}) {}

  /** Observe or replace syscall `name` (its Linux name, the same on every arch). */
  hook(name: string, hook: SyscallHook): this {
    this.hooks.push([name, hook]);
    return this;
  }

  /** Run `file` with `args` (argv[1..]); argv[0] is the path as given. */
  async run(file: string, args: string[] = []): Promise<RunResult> {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new LoadError(`${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot read it"}`);
    }
    let img;
    try {
      img = parseElf(data, file);
    } catch (e) {
      if (e instanceof ElfError) throw new LoadError(e.message);
      throw e;
    }
    const arch = arches[img.arch];
    return this.exec(arch, img, file, [file, ...args]);
  }

  private async exec(arch: ArchImpl, img: ReturnType<typeof parseElf>, file: string, argv: string[]): Promise<RunResult> {
    const o = this.options;
    const stderr = output(o.stderr ?? 2, O_WRONLY);
    const warn = o.warn ?? ((m: string) => { stderr.write(undefined as never, Buffer.from(m + "\n")); });
    const env = Array.isArray(o.env) ? o.env : Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const uid = o.uid ?? 0, gid = o.gid ?? 0;

    let onSyscall: () => void = () => undefined;
    const cpu = new UnicornCpu(arch.cpu, () => onSyscall());
    try {
      const mm = new AddressSpace(cpu, {
        windowSize: arch.layout.taskSize, chunkShift: CHUNK_SHIFT,
        mmapTop: arch.layout.mmapTop, mmapBottom: arch.layout.mmapBottom,
      });
      const fds = new FdTable();
      fds.install(input(o.stdin ?? 0));
      fds.install(output(o.stdout ?? 1, O_WRONLY));
      fds.install(stderr);
      const random = new Uint8Array(16);
      randomFillSync(random);
      const task = new Task(1000, 1000, 1, mm, fds, arch.ops(cpu, mm), {
        uid, gid, euid: uid, egid: gid, hostname: o.hostname ?? "syscage",
        exePath: path.resolve(file), rlimits: defaultRlimits(),
        random: (b) => randomFillSync(b), warn,
      });
      const prog = loadProgram(img, arch, mm, { argv, envp: env, execfn: file, uid, gid, euid: uid, egid: gid, random });
      arch.start(cpu, mm, prog.entry, prog.sp);

      const dispatcher = new Dispatcher(arch.ops(cpu, mm).table, { ...handlers, ...archOverrides[arch.name] });
      dispatcher.trace = o.strace;
      for (const [name, h] of this.hooks) dispatcher.addHook(name, h);

      const io = cpu.io;
      const args = new SyscallArgs(io, IO_ARGS, arch.wordSize);
      let blocked: { nr: number; block: Block } | undefined;
      onSyscall = () => {
        const nr = io[IO_NR];
        const r = dispatcher.dispatch(task, nr, args);
        if (r instanceof Block) {
          blocked = { nr, block: r };
          io[IO_ACTION] = ACTION_STOP;
          return;
        }
        if (typeof r === "number") {
          // Two's complement split without BigInt: this runs once per syscall.
          io[IO_RET] = r >>> 0;
          io[IO_RET + 1] = Math.floor(r / 2 ** 32) >>> 0;
        } else {
          const big = BigInt.asUintN(64, r);
          io[IO_RET] = Number(big & 0xffffffffn);
          io[IO_RET + 1] = Number(big >> 32n);
        }
        io[IO_ACTION] = task.exit ? ACTION_SET_RET | ACTION_STOP : ACTION_SET_RET;
      };

      let pc: number | bigint = prog.entry;
      for (;;) {
        const stop = cpu.run(pc);
        if (stop.kind !== "requested") {
          const fault = await describeFault(arch, cpu, task, stop);
          warn(`syscage: ${fault.line}`);
          task.exit = { signal: fault.signal, core: true };
          return { status: 128 + fault.signal, exit: task.exit, arch: arch.name, fault: fault.line };
        }
        if (task.exit) break;
        while (blocked) {
          const { nr, block } = blocked;
          blocked = undefined;
          await block.wait;
          const r = dispatcher.resume(task, nr, args, block);
          if (r instanceof Block) blocked = { nr, block: r };
          else cpu.setReg(arch.cpu.retreg, BigInt.asUintN(64, BigInt(r)));
        }
        if (task.exit) break;
        pc = cpu.reg(arch.pcReg);
      }
      const exit: ExitStatus = task.exit;
      return { status: exit.signal !== undefined ? 128 + exit.signal : exit.code, exit, arch: arch.name };
    } finally {
      cpu.close();
    }
  }
}

function input(spec: StdinSpec): FileDescription {
  if (typeof spec === "number") return new HostFdFile(spec, O_RDONLY, hostSeek);
  return new BufferInputFile(typeof spec === "string" ? Buffer.from(spec) : spec);
}

function output(spec: OutputSpec, flags: number): FileDescription {
  return typeof spec === "number" ? new HostFdFile(spec, flags, hostSeek) : new SinkFile(spec);
}



