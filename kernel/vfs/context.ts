/**
 * A process's filesystem context (Linux: struct fs_struct plus the mount
 * namespace): its root, working directory and umask. It is the one VFS field
 * of ProcessInfo.
 */
import type { AddressSpace } from "../memory";
import type { VfsPath } from "./inode";
import type { MountNamespace } from "./mount";

/** Where the initial stack holds argv and envp strings, which /proc/PID/{cmdline,environ} read live (mm->arg_start...). */
export interface ArgRanges { argStart: number; argEnd: number; envStart: number; envEnd: number }

export class FsContext {
  /** Filled in after the program is loaded; zero-length until then. */
  args: ArgRanges = { argStart: 0, argEnd: 0, envStart: 0, envEnd: 0 };

  constructor(
    readonly ns: MountNamespace,
    public root: VfsPath,
    public cwd: VfsPath,
    public umask = 0o022,
  ) {}

  /** A child's copy (fork without CLONE_FS): same namespace, its own root, cwd and umask from now on. */
  fork(): FsContext {
    const c = new FsContext(this.ns, this.root, this.cwd, this.umask);
    c.args = { ...this.args };
    return c;
  }
}

/** Record where the initial stack at `sp` keeps argv and envp (argc, argv[], NULL, envp[], NULL). */
export function recordArgs(ctx: FsContext, mm: AddressSpace, sp: number, wordSize: 4 | 8): void {
  const word = (at: number): number => (wordSize === 8 ? mm.u64n(at) : mm.u32(at));
  const argc = word(sp);
  const strEnd = (p: number): number => {
    let at = p;
    while (mm.u8(at) !== 0) at++;
    return at + 1;
  };
  const argv = sp + wordSize;
  const envp = argv + (argc + 1) * wordSize;
  let envc = 0;
  while (word(envp + envc * wordSize) !== 0) envc++;
  const argStart = argc ? word(argv) : 0;
  const argEnd = argc ? strEnd(word(argv + (argc - 1) * wordSize)) : argStart;
  const envStart = envc ? word(envp) : argEnd;
  const envEnd = envc ? strEnd(word(envp + (envc - 1) * wordSize)) : envStart;
  ctx.args = { argStart, argEnd, envStart, envEnd };
}
