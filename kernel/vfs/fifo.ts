/**
 * Named pipes (Linux: fs/pipe.c fifo_open): a fifo inode holds one pipe
 * (kernel/pipe.ts, the same ring anonymous pipes use) shared by every open
 * of it. A blocking open waits for the other end; O_RDWR never waits; a
 * non-blocking writer without a reader is ENXIO.
 */
import { ENXIO } from "../errno";
import type { Errno } from "../errno";
import { Block, O_NONBLOCK, type ReadResult, type SysRet } from "../file";
import { FIONREAD, Pipe } from "../pipe";
import type { Task } from "../task";
import { WaitQueue } from "../waitqueue";
import { VfsFile } from "./file";
import type { OpenResult, VfsPath } from "./inode";
import { O_ACCMODE, O_RDONLY, O_WRONLY } from "./types";

export class Fifo {
  readonly pipe: Pipe;
  /** Woken when an end opens (wake_up_partner: blocking opens wait here). */
  readonly opened = new WaitQueue();
  constructor(uid: number, gid: number) { this.pipe = new Pipe(uid, gid); }
}

export class FifoFile extends VfsFile {
  /** filp->f_pipe: the writer count a non-blocking reader opened without writers saw (no POLLHUP until it moves). */
  private readonly hupAfter: number | undefined;

  constructor(flags: number, path: VfsPath, readonly fifo: Fifo) {
    super(flags, path);
    const p = fifo.pipe;
    if (this.readable && !this.writable && !p.writers && this.nonblock) this.hupAfter = p.wCounter;
    p.open(this, this.readable, this.writable);
    fifo.opened.wake();
  }

  private get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }
  get pipe(): Pipe { return this.fifo.pipe; }

  override read(t: Task, len: number): ReadResult { return this.pipe.read(t, len, this.nonblock); }
  override write(t: Task, data: Uint8Array): number | Errno | Block { return this.pipe.write(t, data, this.nonblock, false); }

  /** FIONREAD: the bytes in the pipe. Linux: pipe_ioctl. */
  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (request !== FIONREAD) return super.ioctl(t, request, arg);
    t.mm.setU32(arg, this.pipe.buffered);
    return 0;
  }

  override poll(): number { return this.pipe.poll(this.readable, this.writable, this.hupAfter); }

  override release(): void {
    super.release();
    this.pipe.close(this, this.readable, this.writable);
  }
}

/**
 * Linux: wait_for_partner — sleep until the other end's open counter moves
 * (an open that came and went still ends the wait). A signal releases the
 * half-open end, as fifo_open's err_rd/err_wr do.
 */
function waitForPartner(fifo: Fifo, file: FifoFile, counter: () => number): OpenResult {
  const seen = counter();
  const check = (): OpenResult => (counter() !== seen ? file : new Block(fifo.opened.wait(), check, () => file.release()));
  return check();
}

/** Implements fifo_open: this end counts at once, then a blocking open waits for the other. */
export function openFifo(_t: Task, fifo: Fifo, flags: number, path: VfsPath): OpenResult {
  const mode = flags & O_ACCMODE;
  const nonblock = (flags & O_NONBLOCK) !== 0;
  const p = fifo.pipe;
  if (mode === O_WRONLY && nonblock && !p.readers) return ENXIO;
  const file = new FifoFile(flags, path, fifo);
  if (mode === O_RDONLY && !p.writers && !nonblock) return waitForPartner(fifo, file, () => p.wCounter);
  if (mode === O_WRONLY && !p.readers) return waitForPartner(fifo, file, () => p.rCounter);
  // O_RDWR never waits: it is its own partner.
  return file;
}
