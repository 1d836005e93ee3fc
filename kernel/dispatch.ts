/**
 * The syscall dispatcher: number → name (the arch's generated table) → one
 * arch-neutral handler. It is the only place that negates an Errno, turns a
 * GuestFault into EFAULT, and warns about unimplemented syscalls.
 */
import { SyscallArgs, type Handler } from "./abi";
import { EFAULT, ENOSYS, Errno } from "./errno";
import { Block, type SysRet } from "./file";
import { GuestFault } from "./memory";
import { traceEntry, traceLine, type TraceEntry } from "./strace";
import { filterSyscall } from "./syscalls/seccomp";
import type { SyscallTable } from "./syscall-table";
import type { Task } from "./task";

/** One syscall as hooks and strace see it. */
export interface SyscallEvent {
  readonly task: Task;
  readonly nr: number;
  readonly name: string;
  readonly args: SyscallArgs;
}

export interface SyscallHook {
  /** Runs before the handler; returning a value skips the handler and uses it as the result. */
  before?(ev: SyscallEvent): SysRet | void;
  /** Runs after the handler (or the before-hook's replacement); returning a value replaces the result. */
  after?(ev: SyscallEvent, result: number | bigint | Errno): number | bigint | Errno | void;
}

/** The value for the return register (errors already negated), or a Block to wait on. */
export type Completion = number | bigint | Block;

export class Dispatcher {
  private readonly byNumber: (Handler | undefined)[] = [];
  private readonly warned = new Set<string>();
  private readonly hooks = new Map<string, SyscallHook[]>();
  /** Set by --strace: receives one formatted line per syscall. */
  trace: ((line: string) => void) | undefined;

  constructor(private readonly table: SyscallTable, private readonly handlers: Readonly<Record<string, Handler>>) {
    for (const [nr, name] of Object.entries(table.names)) this.byNumber[Number(nr)] = handlers[name];
  }

  name(nr: number): string { return this.table.names[nr] ?? `syscall_${nr}`; }

  addHook(name: string, hook: SyscallHook): void {
    const list = this.hooks.get(name) ?? [];
    list.push(hook);
    this.hooks.set(name, list);
  }

  /** Serve syscall `nr`; a Block means the task must sleep and retry later. */
  dispatch(t: Task, nr: number, args: SyscallArgs): Completion {
    const hooks = this.hooks.size ? this.hooks.get(this.name(nr)) : undefined;
    if (!hooks && !this.trace && !t.seccomp) {
      // The hot path: no hooks, no tracing, no filters, no allocation.
      const r = this.call(t, nr, args);
      return r instanceof Errno ? -r.code : r;
    }
    const ev: SyscallEvent = { task: t, nr, name: this.name(nr), args };
    // strace notes a call as it starts: the pid prefix, an exec's arguments, lengths passed in.
    const entry = this.trace ? traceEntry(t, ev.name, args) : undefined;
    // Filters first, as at kernel entry: a call they deny never reaches a hook or its handler.
    let r: SysRet | undefined = t.seccomp ? filterSyscall(t, nr, ev.name, args) : undefined;
    for (const h of r === undefined ? hooks ?? [] : []) {
      const replaced = h.before?.(ev);
      if (replaced !== undefined) { r = replaced; break; }
    }
    return this.finish(nr, args, r ?? this.call(t, nr, args), { ev, hooks, entry });
  }

  /** Complete a blocked call by retrying it. */
  resume(t: Task, nr: number, args: SyscallArgs, block: Block): Completion {
    const hooks = this.hooks.get(this.name(nr));
    const ctx = hooks || this.trace ? { ev: { task: t, nr, name: this.name(nr), args }, hooks } : undefined;
    let r: SysRet;
    try {
      r = block.retry();
    } catch (e) {
      r = efault(e);
    }
    return this.finish(nr, args, r, ctx);
  }

  private call(t: Task, nr: number, args: SyscallArgs): SysRet {
    const h = this.byNumber[nr];
    if (!h) {
      const name = this.name(nr);
      if (!this.warned.has(name)) {
        this.warned.add(name);
        t.proc.warn(`syscage: unimplemented syscall ${name} (${nr}) on ${this.table.arch}`);
      }
      return ENOSYS;
    }
    try {
      return h(t, args);
    } catch (e) {
      return efault(e);
    }
  }


  private finish(nr: number, args: SyscallArgs, r: SysRet,
    ctx: { ev: SyscallEvent; hooks: SyscallHook[] | undefined; entry?: TraceEntry } | undefined): Completion {
    if (r instanceof Block) return r;
    let result: number | bigint | Errno = r;
    for (const h of ctx?.hooks ?? []) {
      const replaced = h.after?.(ctx!.ev, result);
      if (replaced !== undefined) result = replaced;
    }
    if (this.trace && ctx) {
      const { task: t, name } = ctx.ev;
      this.trace(traceLine(t, name, args, result, ctx.entry));
    }
    return result instanceof Errno ? -result.code : result;
  }
}

/** A bad guest pointer anywhere in a handler is EFAULT; any other exception is a syscage bug and propagates. */
function efault(e: unknown): Errno {
  if (e instanceof GuestFault) return EFAULT;
  throw e;
}
