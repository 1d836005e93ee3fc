/**
 * timerfd: a timer whose expiries are counted behind a descriptor (Linux:
 * fs/timerfd.c). A read takes the whole count as 8 bytes and waits while it is
 * 0; poll reports POLLIN once the timer has expired.
 */
import { EAGAIN, EINVAL } from "./errno";
import { Block, FileDescription, O_NONBLOCK, O_RDWR, POLLIN, type ReadResult, type StatInfo } from "./file";
import { ClockTimer } from "./hrtimer";
import type { Task } from "./task";
import { WaitQueue } from "./waitqueue";

/** anon_inodefs: every anonymous-inode file shares one inode on one device. */
const ANON_INODE_DEV = 15, ANON_INODE_INO = 1;

export class TimerFdFile extends FileDescription {
  private ticks = 0n;
  private readonly waiters = new WaitQueue();
  readonly timer = new ClockTimer((count) => this.expired(count));

  constructor(readonly clock: number, nonblock: boolean) {
    super(O_RDWR | (nonblock ? O_NONBLOCK : 0));
  }

  private expired(count: bigint): void {
    this.ticks += count;
    this.waiters.wake();
    this.readiness.notify(POLLIN);
  }

  /** timerfd_settime: a new setting forgets the expiries not read yet. */
  clearTicks(): void {
    this.ticks = 0n;
  }

  /** Linux: timerfd_read — fewer than 8 bytes is EINVAL. */
  override read(t: Task, len: number): ReadResult {
    if (len < 8) return EINVAL;
    if (this.ticks === 0n) {
      if (this.flags & O_NONBLOCK) return EAGAIN;
      return new Block<ReadResult>(this.waiters.wait(), () => this.read(t, len));
    }
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, this.ticks, true);
    this.ticks = 0n;
    return out;
  }

  /** Linux: timerfd_poll. */
  override poll(): number {
    return this.ticks > 0n ? POLLIN : 0;
  }

  override release(): void {
    this.timer.disarm();
  }

  /** An anonymous inode: mode 0600 without a file type. */
  override stat(): StatInfo {
    return {
      dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }
}
