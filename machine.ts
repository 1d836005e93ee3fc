/**
 * The machine: one Unicorn CPU per guest process, threads switched on it by
 * saving and restoring register contexts, and the syscall hook that hands each
 * trap to the kernel's dispatcher for the task on the CPU.
 */
import { arches, type ArchImpl } from "./arch";
import { ACTION_SET_RET, ACTION_STOP, CHUNK_SHIFT, HostExhausted, IO_ACTION, IO_ARGS, IO_NR, IO_RET, UnicornCpu } from "./engine";
import { describeFault } from "./fault";
import { SyscallArgs } from "./kernel/abi";
import { Dispatcher } from "./kernel/dispatch";
import { Block } from "./kernel/file";
import { AddressSpace } from "./kernel/memory";
import type { ThreadGroup } from "./kernel/process";
import type { RunStop } from "./kernel/sched";
import type { CloneMachine } from "./kernel/kernel";
import type { ArchOps } from "./kernel/abi";
import type { ArchName } from "./kernel/syscall-table";
import type { Task } from "./kernel/task";
import { archOverrides, handlers } from "./kernel/syscalls";
import { E2BIG, ENOENT, ENOEXEC, ENOMEM, type Errno } from "./kernel/errno";
import { recordArgs } from "./kernel/vfs/context";
import { ElfError, parseElf, type ElfImage } from "./loader/elf";
import { loadProgram } from "./loader/load";

/** A process's CPU with what the hook needs to serve it. */
export interface ProcessCpu {
  cpu: UnicornCpu;
  arch: ArchImpl;
  args: SyscallArgs;
  /** The task whose registers are loaded. */
  loaded: Task | undefined;
}

/** How long a task that keeps making syscalls may hold the event loop. */
const YIELD_MS = 20;

export class EngineMachine implements CloneMachine {
  private readonly cpus = new Map<ThreadGroup, ProcessCpu>();
  /** Set when execve gave the running task a new CPU during this run. */
  private cpuReplaced = false;
  private readonly dispatchers = new Map<ArchName, Dispatcher>();
  /** The task on a CPU right now, its CPU and dispatcher: the syscall hook serves it (looked up once per run, not per syscall). */
  private running: Task | undefined;
  private runningCpu: ProcessCpu | undefined;
  private runningDispatcher: Dispatcher | undefined;
  private blocked: { nr: number; args: SyscallArgs; block: Block } | undefined;
  private retired: UnicornCpu[] = [];
  /** Syscalls since the CPU last gave the event loop a turn, and when that was (ms). */
  private sinceYield = 0;
  private lastYield = 0;

  constructor(private readonly configure: (d: Dispatcher) => void) {}

  dispatcher(arch: ArchName): Dispatcher {
    let d = this.dispatchers.get(arch);
    if (!d) {
      d = new Dispatcher(arches[arch].table, { ...handlers, ...archOverrides[arch] });
      this.configure(d);
      this.dispatchers.set(arch, d);
    }
    return d;
  }

  /** A fresh CPU and address space for a new process image of `arch`. */
  newCpu(arch: ArchImpl): { cpu: UnicornCpu; mm: AddressSpace } {
    const cpu = new UnicornCpu(arch.cpu, () => this.onSyscall());
    return { cpu, mm: this.addressSpace(arch, cpu) };
  }

  addressSpace(arch: ArchImpl, cpu: UnicornCpu): AddressSpace {
    return new AddressSpace(cpu, {
      windowSize: arch.layout.taskSize, chunkShift: CHUNK_SHIFT,
      mmapTop: arch.layout.mmapTop, mmapBottom: arch.layout.mmapBottom,
    });
  }

  /** `g` runs on `cpu` from now on (a new process, or execve's new image). */
  attach(g: ThreadGroup, arch: ArchImpl, cpu: UnicornCpu): void {
    const old = this.cpus.get(g);
    if (old && old.cpu !== cpu) {
      // execve, from inside the running task's syscall: the run on the old CPU is over, and the
      // registers left there are the old image's. A vfork parent sharing that CPU must not find
      // them filed as this task's context, or the new image would resume the old one's code.
      this.cpuReplaced = true;
      if (old.loaded?.group === g) old.loaded = undefined;
    }
    this.cpus.set(g, { cpu, arch, args: new SyscallArgs(cpu.io, IO_ARGS, arch.wordSize), loaded: undefined });
    // execve replaces the CPU from inside its own syscall hook: close the old one once it has stopped.
    if (old && old.cpu !== cpu && ![...this.cpus.values()].includes(old)) this.retired.push(old.cpu);
  }

  /** CLONE_VM without CLONE_THREAD (vfork, posix_spawn): the child runs on its parent's CPU and memory. */
  shareCpu(child: ThreadGroup, parent: ThreadGroup): void {
    this.cpus.set(child, this.cpuOf(parent));
  }

  forkProcess(parent: Task): { mm: AddressSpace; arch: ArchOps; attach(child: ThreadGroup): void } | Errno {
    const p = this.load(parent);
    let cpu: UnicornCpu;
    try {
      cpu = p.cpu.fork();
    } catch (e) {
      if (e instanceof HostExhausted) return ENOMEM;
      throw e;
    }
    const mm = parent.mm.cloneFor(cpu);
    return { mm, arch: p.arch.ops(cpu, mm), attach: (child) => this.attach(child, p.arch, cpu) };
  }

  prepareChild(parent: Task, child: Task, sp: number, tls: number | undefined): void {
    const p = this.load(parent);
    const target = this.cpuOf(child.group);
    // The registers are changed on the CPU, but the PC only in the saved context: writing
    // the PC of a CPU inside its hook makes Unicorn restart there and drop our stop request.
    const build = (c: ProcessCpu): object => {
      const pc = c.cpu.reg(c.arch.pcReg) + BigInt(c.arch.hookPcLag);
      c.cpu.setReg(c.arch.cpu.retreg, 0);
      if (sp) c.cpu.setReg(c.arch.spReg, sp);
      if (tls !== undefined) c.arch.setTls(c.cpu, child.arch, child.mm, tls);
      const ctx = c.cpu.saveContext();
      UnicornCpu.setContextReg(ctx, c.arch.pcReg, pc);
      return ctx;
    };
    if (target === p) {
      // Same CPU (a thread, or vfork): build the child's registers, then give the parent back its own.
      const saved = p.cpu.saveContext();
      child.context = build(p);
      p.cpu.restoreContext(saved);
    } else {
      // fork: the child's CPU already holds a copy of the parent's registers.
      child.context = build(target);
      target.cpu.restoreContext(child.context);
      target.loaded = child;
    }
  }

  cpuOf(g: ThreadGroup): ProcessCpu {
    const p = this.cpus.get(g);
    if (!p) throw new Error(`syscage: process ${g.pid} has no CPU`);
    return p;
  }

  /** Make `t`'s registers the CPU's, saving whoever was there. */
  load(t: Task): ProcessCpu {
    const p = this.cpuOf(t.group);
    if (p.loaded !== t) {
      if (p.loaded && !p.loaded.exit) p.loaded.context = p.cpu.saveContext();
      if (t.context) p.cpu.restoreContext(t.context);
      p.loaded = t;
    }
    return p;
  }

  async run(t: Task, sliceUs: number): Promise<RunStop> {
    const p = this.load(t);
    this.running = t;
    this.runningCpu = p;
    this.runningDispatcher = this.dispatcher(p.arch.name);
    this.blocked = undefined;
    this.cpuReplaced = false;
    this.sinceYield = 0;
    this.lastYield = Date.now();
    const stop = p.cpu.run(p.cpu.reg(p.arch.pcReg), sliceUs);
    this.running = undefined;
    for (const cpu of this.retired.splice(0)) cpu.close();
    if (stop.kind !== "requested") {
      const fault = await describeFault(p.arch, p.cpu, t, stop);
      return { kind: "fault", signal: fault.signal, code: fault.code, addr: fault.addr, report: fault.line };
    }
    if (t.exit) return { kind: "exited" };
    const blocked = this.blocked as { nr: number; args: SyscallArgs; block: Block } | undefined;
    if (blocked) return { kind: "blocked", ...blocked };
    return { kind: "preempted" };
  }

  execImage(t: Task, data: Uint8Array, argv: string[], envp: string[], execfn: string, exePath: string): number | Errno {
    let img: ElfImage;
    try {
      img = parseElf(data, exePath);
    } catch (e) {
      // A missing interpreter is ENOENT on Linux; anything else it cannot load is ENOEXEC.
      if (e instanceof ElfError) return /dynamically linked/.test(e.message) ? ENOENT : ENOEXEC;
      throw e;
    }
    const arch = arches[img.arch];
    let fresh;
    try {
      fresh = this.newCpu(arch);
    } catch (e) {
      if (e instanceof HostExhausted) return ENOMEM;
      throw e;
    }
    const { cpu, mm } = fresh;
    const random = new Uint8Array(16);
    t.proc.random(random);
    const { uid, gid, euid, egid } = t.proc;
    let prog;
    try {
      prog = loadProgram(img, arch, mm, { argv, envp, execfn, uid, gid, euid, egid, random });
    } catch (e) {
      cpu.close();
      if (e instanceof RangeError) return E2BIG;
      throw e;
    }
    t.kernel.execCommit(t);
    this.attach(t.group, arch, cpu);
    t.mm = mm;
    t.arch = arch.ops(cpu, mm);
    t.context = undefined;
    arch.start(cpu, mm, prog.entry, prog.sp);
    t.proc.exePath = exePath;
    if (t.proc.vfs) recordArgs(t.proc.vfs, mm, prog.sp, arch.wordSize);
    return 0;
  }

  restartSyscall(t: Task, nr: number, args: SyscallArgs): void {
    const p = this.load(t);
    const { sysregs } = p.arch.cpu;
    p.cpu.setReg(p.arch.pcReg, p.cpu.reg(p.arch.pcReg) - BigInt(p.arch.trapLength));
    p.cpu.setReg(sysregs[0], nr);
    for (let i = 0; i < 6; i++) p.cpu.setReg(sysregs[i + 1], args.raw(i));
  }

  setResult(t: Task, value: number | bigint): void {
    const p = this.load(t);
    p.cpu.setReg(p.arch.cpu.retreg, BigInt.asUintN(64, BigInt(value)));
  }

  threadExited(t: Task): void {
    const p = this.cpus.get(t.group);
    if (p?.loaded === t) p.loaded = undefined;
    t.context = undefined;
  }

  groupExited(g: ThreadGroup): void {
    const p = this.cpus.get(g);
    this.cpus.delete(g);
    // A vfork child shares its parent's CPU: close it only when no process runs on it.
    if (p && ![...this.cpus.values()].includes(p)) p.cpu.close();
  }

  /** Free every CPU (the sandbox is over). */
  close(): void {
    for (const p of new Set(this.cpus.values())) p.cpu.close();
    this.cpus.clear();
  }

  /** The syscall hook, for whichever CPU trapped: the running task's. */
  private onSyscall(): void {
    const t = this.running!;
    const p = this.runningCpu!;
    const io = p.cpu.io;
    const nr = io[IO_NR];
    const r = this.runningDispatcher!.dispatch(t, nr, p.args);
    if (r instanceof Block) {
      this.blocked = { nr, args: p.args.snapshot(), block: r };
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
    // The CPU may have been replaced (execve) or the task ended: either way this run is over.
    // A busy task also hands the event loop a turn now and then (timers, host I/O, Ctrl-C).
    const over = t.exit !== undefined || t.group.exiting !== undefined || this.cpuReplaced || t.reschedule || p.cpu.mustStop ||
      ((++this.sinceYield & 1023) === 0 && Date.now() - this.lastYield > YIELD_MS);
    t.reschedule = false;
    io[IO_ACTION] = over ? ACTION_SET_RET | ACTION_STOP : ACTION_SET_RET;
  }
}
