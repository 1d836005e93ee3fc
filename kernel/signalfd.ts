/**
 * signalfd: pending signals read as struct signalfd_siginfo (Linux:
 * fs/signalfd.c). A read takes signals in the descriptor's mask off the
 * reader's queues (its own first, then its process's), as many as fit, and
 * waits while there are none; poll reports POLLIN while one is pending.
 */
import { EAGAIN, EINVAL } from "./errno";
import { Block, FileDescription, O_NONBLOCK, O_RDWR, POLLIN, type ReadResult, type StatInfo } from "./file";
import { bit, type PendingSignal, UNBLOCKABLE } from "./signal";
import type { Task } from "./task";

/** sizeof(struct signalfd_siginfo), include/uapi/linux/signalfd.h. */
export const SIGNALFD_SIGINFO_SIZE = 128;
const ANON_INODE_DEV = 15, ANON_INODE_INO = 1;

export class SignalFdFile extends FileDescription {
  private mask: bigint;
  /** Whose queues poll looks at: Linux polls the caller's; this is the last task that set or read the descriptor. */
  private task: Task;
  private stopWatching: (() => void) | undefined;

  constructor(t: Task, mask: bigint, nonblock: boolean) {
    super(O_RDWR | (nonblock ? O_NONBLOCK : 0));
    this.task = t;
    this.mask = mask & ~UNBLOCKABLE;
    // While someone polls, every signal queued for the process may make the descriptor readable.
    this.readiness.onActivity((watched) => {
      if (watched) this.watchArrivals();
      else this.stopWatching = (this.stopWatching?.(), undefined);
    });
  }

  /** signalfd on an existing descriptor: a new mask (SIGKILL and SIGSTOP never in it). */
  setMask(t: Task, mask: bigint): void {
    this.task = t;
    this.mask = mask & ~UNBLOCKABLE;
    this.readiness.notify(POLLIN);
  }

  private watchArrivals(): void {
    let live = true;
    const g = this.task.group;
    const loop = (): void => {
      void this.task.kernel.signalArrival(g).then(() => {
        if (!live) return;
        this.readiness.notify(POLLIN);
        loop();
      });
    };
    loop();
    this.stopWatching = () => { live = false; };
  }

  private take(t: Task): PendingSignal | undefined {
    for (const q of [t.signals.pending, t.group.signals.pending]) {
      const i = q.findIndex((s) => this.mask & bit(s.sig));
      if (i >= 0) return q.splice(i, 1)[0];
    }
    return undefined;
  }

  /** Linux: signalfd_read — room for at least one record, then as many as are pending. */
  override read(t: Task, len: number): ReadResult {
    this.task = t;
    const room = Math.floor(len / SIGNALFD_SIGINFO_SIZE);
    if (room === 0) return EINVAL;
    const records: Uint8Array[] = [];
    for (let s = this.take(t); s; s = records.length < room ? this.take(t) : undefined) records.push(encode(s));
    if (records.length === 0) {
      if (this.flags & O_NONBLOCK) return EAGAIN;
      return new Block<ReadResult>(t.kernel.signalArrival(t.group), () => this.read(t, len));
    }
    const out = new Uint8Array(records.length * SIGNALFD_SIGINFO_SIZE);
    records.forEach((r, i) => out.set(r, i * SIGNALFD_SIGINFO_SIZE));
    return out;
  }

  /** Linux: signalfd_poll. */
  override poll(): number {
    const t = this.task;
    const pending = [...t.signals.pending, ...t.group.signals.pending];
    return pending.some((s) => this.mask & bit(s.sig)) ? POLLIN : 0;
  }

  override release(): void {
    this.stopWatching?.();
  }

  override stat(): StatInfo {
    return {
      dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }
}

/** struct signalfd_siginfo: the siginfo fields flattened at fixed offsets (signalfd_copyinfo). */
function encode(s: PendingSignal): Uint8Array {
  const b = new Uint8Array(SIGNALFD_SIGINFO_SIZE), d = new DataView(b.buffer);
  d.setUint32(0, s.sig, true);
  d.setInt32(4, s.errno ?? 0, true);
  d.setInt32(8, s.code, true);
  if (s.timerid !== undefined) {
    d.setUint32(24, s.timerid, true);
    d.setUint32(32, s.overrun ?? 0, true);
    d.setInt32(44, Number(BigInt.asIntN(32, s.value ?? 0n)), true);
    d.setBigUint64(48, s.value ?? 0n, true);
    return b;
  }
  d.setUint32(12, s.pid ?? 0, true);
  d.setUint32(16, s.uid ?? 0, true);
  if (s.status !== undefined) d.setInt32(40, s.status, true);
  if (s.addr !== undefined) d.setBigUint64(s.syscall !== undefined ? 88 : 72, BigInt(s.addr), true);
  if (s.syscall !== undefined) {
    d.setInt32(84, s.syscall, true);
    d.setUint32(96, s.arch ?? 0, true);
  }
  return b;
}
