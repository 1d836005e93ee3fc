/**
 * Pipes (Linux: fs/pipe.c). A pipe is a ring of page-sized buffers, 16 of
 * them by default (64 KiB). Small writes merge into the last page; a write
 * of at most PIPE_BUF bytes never splits across pages, which is where
 * Linux's PIPE_BUF atomicity comes from — so the ring is modelled page by
 * page, and a non-blocking writer sees EAGAIN exactly where Linux's would.
 *
 * Readers get EOF once every writer is gone; writers get EPIPE (and SIGPIPE)
 * once every reader is. The Pipe is independent of how its ends were opened,
 * so a named FIFO can share it.
 */
import { EAGAIN, EPIPE, type Errno } from "./errno";
import {
  Block, FileDescription, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM,
  S_IFIFO, type ReadResult, type StatInfo, type SysRet,
} from "./file";
import { SI_USER, SIGPIPE } from "./signal";
import type { Task } from "./task";
import { WaitQueue } from "./waitqueue";

/** PAGE_SIZE on every arch syscage runs. */
const PAGE_SIZE = 4096;
/** PIPE_BUF (include/uapi/linux/limits.h): writes up to this size are atomic. */
export const PIPE_BUF = PAGE_SIZE;
/** PIPE_DEF_BUFFERS: the pages of a new pipe (fs.pipe-max-size allows more via F_SETPIPE_SZ). */
export const PIPE_DEF_BUFFERS = 16;
/** FIONREAD (include/uapi/asm-generic/ioctls.h), the same on the three arches. */
export const FIONREAD = 0x541b;
/** pipefs's anonymous device number on the reference machine (0:14). */
const PIPEFS_DEV = 14;
/** get_next_ino(): pipefs inodes are numbered from a counter. */
let nextIno = 30000;

/** One page of the ring (struct pipe_buffer). */
export interface PipeBuffer {
  page: Uint8Array;
  offset: number;
  len: number;
  /** PIPE_BUF_FLAG_CAN_MERGE: later small writes may append to this page. */
  canMerge: boolean;
  /** PIPE_BUF_FLAG_PACKET (an O_DIRECT writer): one write, read whole or truncated. */
  packet: boolean;
}

/** SIGPIPE for a write nobody will read, as send_sig(SIGPIPE, current, 0) sends it (SI_USER, from the writer). */
export function sendSigpipe(t: Task): void {
  t.kernel?.signalThread(t, { sig: SIGPIPE, code: SI_USER, pid: t.pid, uid: t.proc.uid });
}

export class Pipe {
  /** Oldest first; splice, tee and vmsplice (kernel/syscalls/splice.ts) move and share these buffers. */
  readonly ring: PipeBuffer[] = [];
  /** pipe->max_usage: how many pages may be in use. */
  maxUsage = PIPE_DEF_BUFFERS;
  readers = 0;
  writers = 0;
  /** r_counter / w_counter: how many times each end was ever opened (a FIFO's open waits for these to move). */
  rCounter = 0;
  wCounter = 0;
  /** Every open end, told of each change (they share Linux's rd_wait and wr_wait). */
  private readonly ends = new Set<FileDescription>();
  /** Blocked readers and writers. */
  private readonly waiters = new WaitQueue();
  readonly ino = nextIno++;
  atimeMs = Date.now();
  mtimeMs = this.atimeMs;

  constructor(readonly uid: number, readonly gid: number) {}

  get empty(): boolean { return this.ring.length === 0; }
  get full(): boolean { return this.ring.length >= this.maxUsage; }
  /** Bytes waiting to be read (FIONREAD). */
  get buffered(): number { return this.ring.reduce((n, b) => n + b.len, 0); }

  /** An end was opened for reading and/or writing. */
  open(end: FileDescription, read: boolean, write: boolean): void {
    this.ends.add(end);
    if (read) {
      this.readers++;
      this.rCounter++;
    }
    if (write) {
      this.writers++;
      this.wCounter++;
    }
  }

  /** Linux: pipe_release — the last reader or writer going wakes everyone. */
  close(end: FileDescription, read: boolean, write: boolean): void {
    this.ends.delete(end);
    if (read) this.readers--;
    if (write) this.writers--;
    if (!this.readers !== !this.writers) this.changed(0);
  }

  /** Wake blocked tasks and tell every end's pollers what changed. */
  changed(key: number): void {
    this.waiters.wake();
    for (const end of this.ends) end.readiness.notify(key);
  }

  /** A promise for the next change, for a blocked read or write. */
  wait(): Promise<void> { return this.waiters.wait(); }

  /**
   * Linux: pipe_read — copy from the oldest pages until `len` is met or the
   * pipe is empty; a packet page is consumed whole. Never waits once
   * something was read. `nonblock`: EAGAIN instead of waiting.
   */
  read(t: Task, len: number, nonblock: boolean): ReadResult {
    if (len === 0) return new Uint8Array(0);
    if (this.empty) {
      if (!this.writers) return new Uint8Array(0);
      if (nonblock) return EAGAIN;
      return new Block<ReadResult>(this.wait(), () => this.read(t, len, nonblock));
    }
    const out = new Uint8Array(Math.min(len, this.buffered));
    let got = 0;
    while (got < len && this.ring.length) {
      const buf = this.ring[0];
      const n = Math.min(buf.len, len - got);
      out.set(buf.page.subarray(buf.offset, buf.offset + n), got);
      got += n;
      buf.offset += n;
      buf.len -= n;
      if (buf.packet) {
        buf.len = 0;
        this.ring.shift();
        break;
      }
      if (!buf.len) this.ring.shift();
    }
    this.atimeMs = Date.now();
    this.changed(POLLOUT | POLLWRNORM);
    return out.subarray(0, got);
  }

  /**
   * Linux: pipe_write — a write's last partial page (len % PAGE_SIZE) first
   * merges into the newest page if it fits there whole, then the rest fills
   * fresh pages one PAGE_SIZE at a time. A full ring waits for room, or ends
   * the write (EAGAIN if nothing went in) when non-blocking.
   */
  write(t: Task, data: Uint8Array, nonblock: boolean, packet: boolean): number | Errno | Block {
    if (data.length === 0) return 0;
    if (!this.readers) {
      sendSigpipe(t);
      return EPIPE;
    }
    let done = 0;
    const chars = data.length & (PAGE_SIZE - 1);
    const last = this.ring[this.ring.length - 1];
    if (chars && last && last.canMerge && last.offset + last.len + chars <= PAGE_SIZE) {
      last.page.set(data.subarray(0, chars), last.offset + last.len);
      last.len += chars;
      done = chars;
      this.wrote();
      if (done === data.length) return done;
    }
    return this.fill(t, data, done, nonblock, packet);
  }

  /** pipe_write's loop: whole pages while there is room, then wait (or stop when non-blocking). */
  private fill(t: Task, data: Uint8Array, done: number, nonblock: boolean, packet: boolean): number | Errno | Block {
    if (!this.readers) {
      sendSigpipe(t);
      return done > 0 ? done : EPIPE;
    }
    const start = done;
    while (!this.full && done < data.length) {
      const n = Math.min(PAGE_SIZE, data.length - done);
      const page = new Uint8Array(PAGE_SIZE);
      page.set(data.subarray(done, done + n));
      this.ring.push({ page, offset: 0, len: n, canMerge: !packet, packet });
      done += n;
    }
    if (done > start) this.wrote();
    if (done === data.length) return done;
    if (nonblock) return done > 0 ? done : EAGAIN;
    return new Block(this.wait(), () => this.fill(t, data, done, nonblock, packet));
  }

  private wrote(): void {
    this.mtimeMs = Date.now();
    this.changed(POLLIN | POLLRDNORM);
  }

  /**
   * Linux: pipe_poll, for an end open for reading and/or writing.
   * `hupAfter`: a FIFO reader opened without writers and O_NONBLOCK sees no
   * POLLHUP until a writer has come (filp->f_pipe against w_counter).
   */
  poll(read: boolean, write: boolean, hupAfter?: number): number {
    let mask = 0;
    if (read) {
      if (!this.empty) mask |= POLLIN | POLLRDNORM;
      if (!this.writers && this.wCounter !== hupAfter) mask |= POLLHUP;
    }
    if (write) {
      if (!this.full) mask |= POLLOUT | POLLWRNORM;
      if (!this.readers) mask |= POLLERR;
    }
    return mask;
  }

  stat(): StatInfo {
    return {
      dev: PIPEFS_DEV, ino: this.ino, mode: S_IFIFO | 0o600, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0,
      size: 0, blksize: PAGE_SIZE, blocks: 0, atimeMs: this.atimeMs, mtimeMs: this.mtimeMs, ctimeMs: this.mtimeMs,
    };
  }
}

/** One end of an anonymous pipe (Linux: pipefifo_fops on a pipefs inode). */
export class PipeFile extends FileDescription {
  /** `flags`: O_RDONLY or O_WRONLY plus O_NONBLOCK, O_DIRECT (a packetized writer: is_packetized), O_LARGEFILE. */
  constructor(readonly pipe: Pipe, flags: number) {
    super(flags);
    pipe.open(this, this.readable, this.writable);
  }

  private get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }

  override read(t: Task, len: number): ReadResult {
    return this.pipe.read(t, len, this.nonblock);
  }

  override write(t: Task, data: Uint8Array): number | Errno | Block {
    return this.pipe.write(t, data, this.nonblock, (this.flags & O_DIRECT) !== 0);
  }

  /** FIONREAD: the bytes in the pipe. Linux: pipe_ioctl. */
  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (request !== FIONREAD) return super.ioctl(t, request, arg);
    t.mm.setU32(arg, this.pipe.buffered);
    return 0;
  }

  override poll(): number {
    return this.pipe.poll(this.readable, this.writable);
  }

  override stat(): StatInfo { return this.pipe.stat(); }

  override release(): void {
    this.pipe.close(this, this.readable, this.writable);
  }
}

/** O_DIRECT in the generic numbering file flags are kept in. */
export const O_DIRECT = 0o40000;

/** A new pipe's two ends: [read, write]; `extra` flags go on both (O_LARGEFILE). */
export function createPipe(t: Task, nonblock: boolean, packetized: boolean, extra = 0): [PipeFile, PipeFile] {
  const pipe = new Pipe(t.proc.euid, t.proc.egid);
  const both = extra | (nonblock ? O_NONBLOCK : 0);
  return [new PipeFile(pipe, O_RDONLY | both), new PipeFile(pipe, O_WRONLY | both | (packetized ? O_DIRECT : 0))];
}
