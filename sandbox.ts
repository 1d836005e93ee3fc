/**
 * The library API: a Sandbox runs one static binary on the engine with the
 * in-process kernel and resolves with its exit status. The CLI is a thin
 * shell over this.
 */
import { randomFillSync } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isatty } from "tty";
import { arches, type ArchImpl } from "./arch";
import { hostIo } from "./engine";
import type { SyscallHook } from "./kernel/dispatch";
import { FdTable, O_RDONLY, O_WRONLY, type FileDescription } from "./kernel/file";
import { attachNet, type NetOptions } from "./kernel/net/setup";
import { FIRST_PID, INIT_PID, Kernel } from "./kernel/kernel";
import { ThreadGroup } from "./kernel/process";
import { Scheduler } from "./kernel/sched";
import { signalTimersArmed } from "./kernel/posix-timers";
import { EngineMachine } from "./machine";
import { defaultRlimits } from "./kernel/rlimits";
import { BufferInputFile, HostFdFile, SinkFile } from "./kernel/stdio";
import { Task, type ExitStatus } from "./kernel/task";
import { Terminal } from "./kernel/tty";
import { formatExit, formatFirstExec, formatSignal, tracePrefix } from "./kernel/strace";
import { profileFilter, SECCOMP_MODE_FILTER, type SeccompFilter, type SeccompProfile } from "./kernel/seccomp";
import { recordArgs } from "./kernel/vfs/context";
import { sandboxFs, type MountSpec } from "./kernel/vfs/setup";
import { parseElf, ElfError } from "./loader/elf";
import { loadProgram } from "./loader/load";

export type { SyscallHook, SyscallEvent } from "./kernel/dispatch";
export { Errno } from "./kernel/errno";
export { ElfError } from "./loader/elf";
export type { MountSpec } from "./kernel/vfs/setup";
export { NetSetupError, type PublishSpec } from "./kernel/net/setup";

/** Where a standard stream goes: a host descriptor passed through, bytes, or a callback. */
export type StdinSpec = number | Uint8Array | string;
export type OutputSpec = number | ((chunk: Uint8Array) => void);

/** Network options (sysctls, published ports): see kernel/net/setup.ts. */
export interface SandboxOptions extends NetOptions {
  /** The complete guest environment (default: empty, like `env -i`). */
  env?: Record<string, string> | string[];
  stdin?: StdinSpec;
  stdout?: OutputSpec;
  stderr?: OutputSpec;
  /** Every syscall as strace(1) prints it, one line per call, to this callback. */
  strace?: (line: string) => void;
  /**
   * A seccomp profile in Docker's JSON format, applied to the first process
   * as a container runtime applies one (inherited, kept across execve). The
   * guest may add filters of its own; the strictest verdict wins.
   */
  seccomp?: SeccompProfile;
  hostname?: string;
  uid?: number;
  gid?: number;
  /** The guest identity (uid, gid); overrides uid and gid. */
  user?: { uid: number; gid: number };
  /** A host directory to use as `/`: read-only, writes go to an in-memory overlay discarded at exit. */
  root?: string;
  /**
   * Host directories bound into the guest: `ro` (default) read-only with an
   * in-memory overlay, `rw` writes reach the host, `strict` read-only (EROFS).
   * Without `root` and `mounts`, the current directory is mounted `ro` at its own path.
   */
  mounts?: MountSpec[];
  /** The guest's initial working directory (default: the current directory when it is mounted by default, else `/`). */
  workdir?: string;
  /** End the whole guest after this many seconds; the run then reports status 124, as timeout(1) does. */
  timeout?: number;
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
  /** The `timeout` option ended the guest. */
  timedOut?: boolean;
}

/** A binary syscage cannot run: the message is one line, the CLI exits 126. */
export class LoadError extends Error {}


/** The status timeout(1) reports when time runs out. */
export const TIMEOUT_STATUS = 124;

export class Sandbox {
  private readonly hooks: Array<[string, SyscallHook]> = [];
  /** While a guest runs: send a signal to its foreground process group (Ctrl-C → SIGINT). */
  private signalForeground: ((sig: number) => void) | undefined;

  constructor(private readonly options: SandboxOptions = {}) {}

  /** Observe or replace syscall `name` (its Linux name, the same on every arch). */
  hook(name: string, hook: SyscallHook): this {
    this.hooks.push([name, hook]);
    return this;
  }

  /** Send signal `sig` to the running guest's foreground process group (the terminal's, else its first process's group); false when nothing runs. */
  kill(sig: number): boolean {
    if (!this.signalForeground) return false;
    this.signalForeground(sig);
    return true;
  }

  /** Run `file` with `args` (argv[1..]); argv[0] is the path as given. */
  async run(file: string, args: string[] = []): Promise<RunResult> {
    let data: Buffer;
    let fd: number | undefined;
    try {
      // Opened without blocking and checked before reading: a FIFO would wait for a writer for ever.
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      // As execve: anything but a regular file is EACCES (fs/namei.c may_open, fs/exec.c do_open_execat).
      if (!fs.fstatSync(fd).isFile()) throw new LoadError(`${file}: not a regular file (EACCES: Permission denied)`);
      data = fs.readFileSync(fd);
    } catch (e) {
      if (e instanceof LoadError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new LoadError(`${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "not a regular file (EACCES: Permission denied)" : "cannot read it"}`);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    let img;
    try {
      img = parseElf(data, file);
    } catch (e) {
      if (e instanceof ElfError) throw new LoadError(e.message);
      throw e;
    }
    const arch = arches[img.arch];
    return this.exec(arch, img, data, file, [file, ...args]);
  }

  private async exec(arch: ArchImpl, img: ReturnType<typeof parseElf>, data: Uint8Array, file: string, argv: string[]): Promise<RunResult> {
    const o = this.options;
    const profile = o.seccomp && compileSeccompProfile(o.seccomp);
    // The first host terminal among the guest's stdio becomes the first session's controlling terminal.
    const ttyFd = [o.stdin ?? 0, o.stdout ?? 1, o.stderr ?? 2].find((s): s is number => typeof s === "number" && isatty(s));
    const terminal = ttyFd === undefined ? undefined : new Terminal(ttyFd, FIRST_PID, hostIo);
    const stderr = output(o.stderr ?? 2, O_WRONLY, terminal);
    const warn = o.warn ?? ((m: string) => { stderr.write(undefined as never, Buffer.from(m + "\n")); });
    const env = Array.isArray(o.env) ? o.env : Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const uid = o.user?.uid ?? o.uid ?? 0, gid = o.user?.gid ?? o.gid ?? 0;
    const vfs = sandboxFs({ root: o.root, mounts: o.mounts, workdir: o.workdir, hostname: o.hostname, uid, gid });

    const machine = new EngineMachine((d) => {
      d.trace = o.strace;
      for (const [name, h] of this.hooks) d.addHook(name, h);
    });
    const sched = new Scheduler(machine, (t, nr, args, block) => machine.dispatcher(t.arch.name).resume(t, nr, args, block));
    const kernel = new Kernel(machine, sched);
    const strace = o.strace;
    if (strace) {
      kernel.onExit = (g, status) => strace(`${tracePrefix(kernel, g.pid)}${formatExit(status)}`);
      kernel.onSignal = (t, s) => strace(`${tracePrefix(kernel, t.tid)}${formatSignal(t, s)}`);
    }
    const net = await attachNet(kernel, o).catch((e: unknown) => { vfs.ns.release(); throw e; });
    try {
      const { cpu, mm } = machine.newCpu(arch);
      const fds = new FdTable();
      fds.install(input(o.stdin ?? 0, terminal));
      fds.install(output(o.stdout ?? 1, O_WRONLY, terminal));
      fds.install(stderr);
      const random = new Uint8Array(16);
      randomFillSync(random);
      const pid = kernel.processes.allocPidFrom(FIRST_PID);
      const task = new Task(pid, pid, INIT_PID, mm, fds, arch.ops(cpu, mm), {
        uid, gid, euid: uid, egid: gid, hostname: o.hostname ?? "syscage",
        // /proc/self/exe names the file itself, symlinks resolved, as d_path does.
        exePath: fs.realpathSync(file), exe: data, rlimits: defaultRlimits(),
        random: (b) => randomFillSync(b), warn, vfs, ctty: terminal,
      });
      const group = new ThreadGroup(pid, undefined, pid, pid);
      kernel.adopt(task, group);
      machine.attach(group, arch, cpu);
      const prog = loadProgram(img, arch, mm, { argv, envp: env, execfn: file, uid, gid, euid: uid, egid: gid, random });
      recordArgs(vfs, mm, prog.sp, arch.wordSize);
      // The initial stack: argc, argv[], NULL, envp[].
      strace?.(formatFirstExec(file, argv, prog.sp + arch.wordSize * (argv.length + 2), env.length));
      arch.start(cpu, mm, prog.entry, prog.sp);
      if (profile) task.seccomp = { mode: SECCOMP_MODE_FILTER, filters: [profile] };
      sched.add(task);

      this.signalForeground = (sig) => {
        for (const g of kernel.processes.groups.values()) {
          if (g.pgid === (terminal?.foreground ?? group.pgid) && !g.exit) kernel.signalGroup(g, { sig, code: 0x80 /* SI_KERNEL */ });
        }
      };
      let timedOut = false;
      // A lone busy task must still be stoppable by --timeout and by its own interval timers.
      sched.alwaysSlice = () =>
        o.timeout !== undefined || [...kernel.processes.groups.values()].some((g) => g.itimers.some(Boolean)) || signalTimersArmed();
      const timer = o.timeout ? setTimeout(() => {
        timedOut = true;
        for (const g of kernel.processes.groups.values()) sched.killGroup(g, { signal: 9, core: false });
      }, o.timeout * 1000) : undefined;

      // The sandbox lasts as long as its first process, like a container's init.
      await sched.loop(() => group.exit !== undefined);
      if (timer) clearTimeout(timer);
      const exit: ExitStatus = group.exit!;
      if (timedOut) return { status: TIMEOUT_STATUS, exit, arch: arch.name, timedOut: true };
      return { status: exit.signal !== undefined ? 128 + exit.signal : exit.code, exit, arch: arch.name };
    } finally {
      net.close();
      this.signalForeground = undefined;
      machine.close();
      vfs.ns.release();
    }
  }
}

/**
 * A Docker-format seccomp profile as a filter for every arch syscage runs;
 * throws an Error naming what it cannot honour.
 */
export function compileSeccompProfile(profile: SeccompProfile): SeccompFilter {
  return profileFilter(profile, Object.values(arches).map((a) => ({
    names: a.seccompNames, auditArch: a.auditArch, wordSize: a.wordSize, nameOf: (nr: number) => a.table.names[nr],
  })));
}

function input(spec: StdinSpec, terminal: Terminal | undefined): FileDescription {
  if (typeof spec === "number") return new HostFdFile(spec, O_RDONLY, hostIo, terminal);
  return new BufferInputFile(typeof spec === "string" ? Buffer.from(spec) : spec);
}

function output(spec: OutputSpec, flags: number, terminal: Terminal | undefined): FileDescription {
  return typeof spec === "number" ? new HostFdFile(spec, flags, hostIo, terminal) : new SinkFile(spec);
}



