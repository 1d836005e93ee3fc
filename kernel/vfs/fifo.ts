/**
 * Named pipes (Linux: fs/pipe.c fifo_open): a fifo inode holds one pipe
 * (kernel/pipe.ts, the same ring anonymous pipes use) shared by every open
 * of it. A blocking open waits for the other end; O_RDWR never waits; a
 * non-blocking writer without a reader is ENXIO.
 */
import { ENXIO } from "../errno";
import type { Errno } from "../errno";
import { Block, O_NONBLOCK, type ReadResult, type SysRet } from "../file";
import { FIONREAD, Pipe, PIPE_DEF_BUFFERS } from "../pipe";
import type { Task } from "../task";
import { WaitQueue } from "../waitqueue";
import { VfsFile } from "./file";
import type { OpenResult, VfsPath } from "./inode";
import { O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY } from "./types";

const PAGE_SIZE = 4096;
/** Linux's default pipe capacity. */
export const PIPE_CAPACITY = PIPE_DEF_BUFFERS * PAGE_SIZE;

export class Fifo {
  readonly pipe: Pipe;
  /** Woken when an end opens or closes (blocking opens wait here). */
  readonly opened = new WaitQueue();
  constructor(uid: number, gid: number) { this.pipe = new Pipe(uid, gid); }
}

export class FifoFile extends VfsFile {
  constructor(flags: number, path: VfsPath, readonly fifo: Fifo) {
    super(flags, path);
    fifo.pipe.open(this, this.readable, this.writable);
    fifo.opened.wake();
  }

  private get nonblock(): boolean { return (this.flags & O_NONBLOCK) !== 0; }
  get pipe(): Pipe { return this.fifo.pipe; }

  override read(t: Task, len: number): ReadResult { return this.fifo.pipe.read(t, len, this.nonblock); }
  override write(t: Task, data: Uint8Array): number | Errno | Block { return this.fifo.pipe.write(t, data, this.nonblock, false); }

  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (request !== FIONREAD) return super.ioctl(t, request, arg);
    t.mm.setU32(arg, this.fifo.pipe.buffered);
    return 0;
  }

  override poll(): number { return this.fifo.pipe.poll(this.readable, this.writable); }

  override release(): void {
    super.release();
    this.fifo.pipe.close(this, this.readable, this.writable);
    this.fifo.opened.wake();
  }
}

/** Implements fifo_open. */
export function openFifo(_t: Task, fifo: Fifo, flags: number, path: VfsPath): OpenResult {
  const mode = flags & O_ACCMODE;
  const nonblock = (flags & O_NONBLOCK) !== 0;
  const p = fifo.pipe;
  if (mode === O_RDWR) return new FifoFile(flags, path, fifo);
  if (mode === O_RDONLY) {
    const file = new FifoFile(flags, path, fifo);
    if (p.writers > 0 || nonblock) return file;
    const waitWriter = (): OpenResult => (p.writers > 0 ? file : new Block(fifo.opened.wait(), waitWriter));
    return new Block(fifo.opened.wait(), waitWriter);
  }
  if (mode === O_WRONLY && p.readers === 0) {
    if (nonblock) return ENXIO;
    const waitReader = (): OpenResult => (p.readers > 0 ? new FifoFile(flags, path, fifo) : new Block(fifo.opened.wait(), waitReader));
    return new Block(fifo.opened.wait(), waitReader);
  }
  return new FifoFile(flags, path, fifo);
}
