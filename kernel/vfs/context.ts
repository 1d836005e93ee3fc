/**
 * A process's filesystem context (Linux: struct fs_struct plus the mount
 * namespace): its root, working directory and umask. It is the one VFS field
 * of ProcessInfo.
 */
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
