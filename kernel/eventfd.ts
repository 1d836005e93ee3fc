/**
 * eventfd: a 64-bit counter behind a descriptor (Linux: fs/eventfd.c). A read
 * takes the whole count (or 1 in semaphore mode) and waits while it is 0; a
 * write adds to it and waits while the sum would reach 2^64-1.
 */
import { EAGAIN, EINVAL, type Errno } from "./errno";
import {
  Block, FileDescription, O_NONBLOCK, O_RDWR, POLLERR, POLLIN, POLLOUT, type ReadResult, type StatInfo,
} from "./file";
import type { Task } from "./task";
import { WaitQueue } from "./waitqueue";

/** EFD_SEMAPHORE (include/uapi/linux/eventfd.h); EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK. */
export const EFD_SEMAPHORE = 1;
const ULLONG_MAX = 2n ** 64n - 1n;
/** anon_inodefs: every anonymous-inode file shares one inode on one device. */
const ANON_INODE_DEV = 15, ANON_INODE_INO = 1;

export class EventFdFile extends FileDescription {
  private readonly waiters = new WaitQueue();

  constructor(private count: bigint, private readonly semaphore: boolean, nonblock: boolean) {
    super(O_RDWR | (nonblock ? O_NONBLOCK : 0));
  }

  private get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }

  private changed(key: number): void {
    this.waiters.wake();
    this.readiness.notify(key);
  }

  /** Linux: eventfd_read — fewer than 8 bytes is EINVAL. */
  override read(t: Task, len: number): ReadResult {
    if (len < 8) return EINVAL;
    if (this.count === 0n) {
      if (this.nonblock) return EAGAIN;
      return new Block<ReadResult>(this.waiters.wait(), () => this.read(t, len));
    }
    const taken = this.semaphore ? 1n : this.count;
    this.count -= taken;
    this.changed(POLLOUT);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, taken, true);
    return out;
  }

  /** Linux: eventfd_write — 8 bytes (more are ignored), 2^64-1 itself is EINVAL. */
  override write(t: Task, data: Uint8Array): number | Errno | Block {
    if (data.length < 8) return EINVAL;
    const value = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
    if (value === ULLONG_MAX) return EINVAL;
    return this.add(t, value);
  }

  private add(t: Task, value: bigint): number | Errno | Block {
    if (ULLONG_MAX - this.count <= value) {
      if (this.nonblock) return EAGAIN;
      return new Block(this.waiters.wait(), () => this.add(t, value));
    }
    this.count += value;
    if (value) this.changed(POLLIN);
    return 8;
  }

  /** Linux: eventfd_poll. */
  override poll(): number {
    let mask = 0;
    if (this.count > 0n) mask |= POLLIN;
    if (this.count === ULLONG_MAX) mask |= POLLERR;
    if (ULLONG_MAX - 1n > this.count) mask |= POLLOUT;
    return mask;
  }

  /** An anonymous inode: mode 0600 without a file type. */
  override stat(): StatInfo {
    return {
      dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }
}
