/**
 * Named pipes (Linux: fs/pipe.c fifo_open, pipe_read, pipe_write): one buffer
 * per fifo inode shared by every open of it. A blocking open waits for the
 * other end; reads wait for data or EOF; writes wait for room and fail with
 * EPIPE when nobody reads.
 */
import { EAGAIN, ENXIO, EPIPE, type Errno } from "../errno";
import { Block, O_NONBLOCK, type ReadResult } from "../file";
import type { Task } from "../task";
import { VfsFile } from "./file";
import type { OpenResult, VfsPath } from "./inode";
import { O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY } from "./types";

/** Linux's default pipe capacity (PIPE_DEF_BUFFERS pages). */
export const PIPE_CAPACITY = 65536;

export class Fifo {
  private chunks: Uint8Array[] = [];
  buffered = 0;
  readers = 0;
  writers = 0;
  private waiters: Array<() => void> = [];

  /** Settles at the next change of state (data, room, an end opened or closed). */
  changed(): Promise<void> { return new Promise((r) => this.waiters.push(r)); }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  take(len: number): Uint8Array {
    const out = new Uint8Array(Math.min(len, this.buffered));
    let at = 0;
    while (at < out.length) {
      const c = this.chunks[0];
      const n = Math.min(c.length, out.length - at);
      out.set(c.subarray(0, n), at);
      at += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    this.buffered -= out.length;
    this.wake();
    return out;
  }

  put(data: Uint8Array): void {
    this.chunks.push(data.slice());
    this.buffered += data.length;
    this.wake();
  }
}

export class FifoFile extends VfsFile {
  constructor(flags: number, path: VfsPath, readonly fifo: Fifo) {
    super(flags, path);
    if (this.readable) fifo.readers++;
    if (this.writable) fifo.writers++;
    fifo.wake();
  }

  override read(t: Task, len: number): ReadResult {
    const f = this.fifo;
    if (f.buffered > 0) return f.take(len);
    if (f.writers === 0) return new Uint8Array(0);
    if (this.flags & O_NONBLOCK) return EAGAIN;
    return new Block(f.changed(), () => this.read(t, len));
  }

  override write(t: Task, data: Uint8Array): number | Errno | Block {
    return this.writeFrom(t, data, 0);
  }

  private writeFrom(t: Task, data: Uint8Array, done: number): number | Errno | Block {
    const f = this.fifo;
    if (f.readers === 0) return done > 0 ? done : EPIPE;
    const room = PIPE_CAPACITY - f.buffered;
    if (room > 0) {
      const n = Math.min(room, data.length - done);
      f.put(data.subarray(done, done + n));
      done += n;
      if (done === data.length) return done;
    }
    if (this.flags & O_NONBLOCK) return done > 0 ? done : EAGAIN;
    return new Block(f.changed(), () => this.writeFrom(t, data, done));
  }

  override release(): void {
    super.release();
    if (this.readable) this.fifo.readers--;
    if (this.writable) this.fifo.writers--;
    this.fifo.wake();
  }
}

export type FifoOpen = OpenResult;

/** Implements fifo_open: O_RDWR never waits; one end waits for the other unless O_NONBLOCK. */
export function openFifo(_t: Task, fifo: Fifo, flags: number, path: VfsPath): FifoOpen {
  const mode = flags & O_ACCMODE;
  const nonblock = (flags & O_NONBLOCK) !== 0;
  if (mode === O_RDWR) return new FifoFile(flags, path, fifo);
  if (mode === O_RDONLY) {
    const file = new FifoFile(flags, path, fifo);
    if (fifo.writers > 0 || nonblock) return file;
    const waitWriter = (): FifoOpen => (fifo.writers > 0 ? file : new Block(fifo.changed(), waitWriter));
    return new Block(fifo.changed(), waitWriter);
  }
  if (mode === O_WRONLY && fifo.readers === 0) {
    if (nonblock) return ENXIO;
    const waitReader = (): FifoOpen => (fifo.readers > 0 ? new FifoFile(flags, path, fifo) : new Block(fifo.changed(), waitReader));
    return new Block(fifo.changed(), waitReader);
  }
  return new FifoFile(flags, path, fifo);
}
