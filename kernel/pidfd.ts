/**
 * pidfds: files that refer to a process (Linux: kernel/pid.c pidfd_fops). A
 * pidfd polls readable once its process has exited; pidfd_open and
 * clone(CLONE_PIDFD) make them (kernel/syscalls/pidfd.ts, clone.ts).
 */
import type { Errno } from "./errno";
import { FileDescription, O_RDWR, POLLHUP, POLLIN, POLLRDNORM, type StatInfo } from "./file";
import type { Kernel } from "./kernel";
import type { ThreadGroup } from "./process";
import type { Task } from "./task";

/** anon_inodefs: every anonymous-inode file shares one inode on one device. */
const ANON_INODE_DEV = 15, ANON_INODE_INO = 1;

/** Processes that have ended, marked as they end (before their exit status is visible), so poll sees them at once. */
const ended = new WeakSet<ThreadGroup>();
const watchedKernels = new WeakSet<Kernel>();
/** Open pidfds by process, to wake their pollers when it ends. */
const pidfds = new WeakMap<ThreadGroup, Set<PidFile>>();

/**
 * Learn of every process's end through the kernel's exit callback, keeping the
 * one already there (--strace's): Linux wakes a pidfd's pollers from
 * do_notify_pidfd as the process becomes a zombie.
 */
function watchExits(k: Kernel): void {
  if (watchedKernels.has(k)) return;
  watchedKernels.add(k);
  const before = k.onExit;
  k.onExit = (g, status) => {
    before?.(g, status);
    ended.add(g);
    for (const f of pidfds.get(g) ?? []) f.readiness.notify(POLLIN | POLLRDNORM);
  };
}

/** An open pidfd ([pidfd] anonymous inode): refers to one process for as long as it is open. */
export class PidFile extends FileDescription {
  private target: ThreadGroup | undefined;

  constructor(flags: number) {
    super(O_RDWR | flags);
  }

  get group(): ThreadGroup | undefined { return this.target; }

  /** Point the pidfd at `g` (clone fills it in once the child exists). */
  attach(t: Task, g: ThreadGroup): void {
    watchExits(t.kernel);
    this.target = g;
    let set = pidfds.get(g);
    if (!set) pidfds.set(g, (set = new Set()));
    set.add(this);
  }

  override release(): void {
    if (this.target) pidfds.get(this.target)?.delete(this);
  }

  /** Linux 6.1 pidfd_poll: readable once the whole process has exited, hung up once it is reaped too. */
  override poll(): number {
    const g = this.target;
    if (!g || !(g.exit || ended.has(g))) return 0;
    return POLLIN | POLLRDNORM | (g.reaped ? POLLHUP : 0);
  }

  /** An anonymous inode: mode 0600 without a file type. */
  override stat(): StatInfo {
    return {
      dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }
}

/**
 * Reserve a pidfd for clone(CLONE_PIDFD) before the child exists, as
 * copy_process takes the descriptor first; `attach` completes it.
 */
export function reservePidfd(t: Task): { fd: number; file: PidFile } | Errno {
  const file = new PidFile(0);
  const fd = t.fds.install(file, true);
  return typeof fd === "number" ? { fd, file } : fd;
}

