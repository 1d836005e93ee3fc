/**
 * Moving data through pipes without a user buffer: splice, tee, vmsplice.
 * Linux: fs/splice.c. A pipe's ring is a list of page buffers
 * (kernel/pipe.ts); splice and tee move or share whole buffers between two
 * pipes, and data from a file or user memory arrives as buffers of its own,
 * one per page it came from, which later small writes do not merge into.
 */
import type { Handler } from "../abi";
import { EAGAIN, EBADF, EINVAL, EPIPE, ESPIPE, Errno } from "../errno";
import { Block, type FileDescription, O_APPEND, O_NONBLOCK, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, type SysRet } from "../file";
import { Pipe, PipeFile, sendSigpipe, type PipeBuffer } from "../pipe";
import type { Task } from "../task";
import { FifoFile } from "../vfs/fifo";
import { isPathFile, RegularFile } from "../vfs/file";
import { S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from "../vfs/types";

const SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;
const SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;
const PAGE_SIZE = 4096;
/** Linux caps one transfer at MAX_RW_COUNT. */
const MAX_RW_COUNT = 0x7ffff000;
/** include/uapi/linux/uio.h. */
const UIO_MAXIOV = 1024;

/** fdget: O_PATH descriptors are not files to move data through. */
function fileOf(t: Task, fd: number): FileDescription | Errno {
  const f = t.fds.get(fd);
  return f && !isPathFile(f) ? f : EBADF;
}

/** Linux: get_pipe_info — the pipe behind an anonymous pipe end or a FIFO. */
function pipeOf(f: FileDescription): Pipe | undefined {
  return f instanceof PipeFile || f instanceof FifoFile ? f.pipe : undefined;
}

const freeSlots = (p: Pipe): number => p.maxUsage - p.ring.length;
const wakeReaders = (p: Pipe): void => p.changed(POLLIN | POLLRDNORM);
const wakeWriters = (p: Pipe): void => p.changed(POLLOUT | POLLWRNORM);

/** Sleep until `p` changes, then run the whole operation again. */
const waitOn = (p: Pipe, retry: () => SysRet): Block => new Block(p.wait(), retry);

/** Linux: ipipe_prep — wait for data; 0 (end of data), EAGAIN, or undefined to go on. */
function inputReady(p: Pipe, nonblock: boolean, retry: () => SysRet): SysRet | undefined {
  if (p.ring.length) return undefined;
  if (!p.writers) return 0;
  return nonblock ? EAGAIN : waitOn(p, retry);
}

/** Linux: opipe_prep / wait_for_space — wait for a free slot; EPIPE (with SIGPIPE) without readers. */
function outputReady(t: Task, p: Pipe, nonblock: boolean, retry: () => SysRet): SysRet | undefined {
  if (!p.readers) {
    sendSigpipe(t);
    return EPIPE;
  }
  if (freeSlots(p) > 0) return undefined;
  return nonblock ? EAGAIN : waitOn(p, retry);
}

/** Append bytes as fresh buffers of at most a page, the first one ending at a page boundary of `pos`. */
function pushPages(p: Pipe, data: Uint8Array, pos: number): void {
  for (let at = 0; at < data.length;) {
    const n = Math.min(PAGE_SIZE - ((pos + at) % PAGE_SIZE), data.length - at);
    const page = new Uint8Array(PAGE_SIZE);
    page.set(data.subarray(at, at + n));
    p.ring.push({ page, offset: 0, len: n, canMerge: false, packet: false });
    at += n;
  }
}

/** The first `len` buffered bytes, left in the pipe. */
function peek(p: Pipe, len: number): Uint8Array {
  const out = new Uint8Array(Math.min(len, p.buffered));
  let got = 0;
  for (const b of p.ring) {
    if (got === out.length) break;
    const n = Math.min(b.len, out.length - got);
    out.set(b.page.subarray(b.offset, b.offset + n), got);
    got += n;
  }
  return out;
}

/** Drop the first `n` buffered bytes. */
function consume(p: Pipe, n: number): void {
  while (n > 0) {
    const b = p.ring[0];
    const k = Math.min(b.len, n);
    b.offset += k;
    b.len -= k;
    n -= k;
    if (!b.len) p.ring.shift();
  }
}

/** A buffer sharing `b`'s page for its first `len` bytes; shared pages are never merged into (PIPE_BUF_FLAG_CAN_MERGE cleared). */
const share = (b: PipeBuffer, len: number): PipeBuffer => ({ ...b, len: Math.min(len, b.len), canMerge: false });

/** Linux: splice_pipe_to_pipe — whole buffers move, a partial one is shared and the input's shrinks. */
function pipeToPipe(t: Task, ip: Pipe, op: Pipe, len: number, nonblock: boolean): SysRet {
  const retry = () => pipeToPipe(t, ip, op, len, nonblock);
  const wait = inputReady(ip, nonblock, retry) ?? outputReady(t, op, nonblock, retry);
  if (wait !== undefined) return wait;
  let done = 0;
  while (len > done && ip.ring.length && freeSlots(op) > 0) {
    const b = ip.ring[0];
    if (len - done >= b.len) {
      op.ring.push(ip.ring.shift()!);
      done += b.len;
    } else {
      const n = len - done;
      op.ring.push(share(b, n));
      b.offset += n;
      b.len -= n;
      done += n;
    }
  }
  if (done) {
    wakeWriters(ip);
    wakeReaders(op);
  }
  return done;
}

/** Linux: link_pipe (tee) — share buffers from the start of the input without consuming them. */
function linkPipe(t: Task, ip: Pipe, op: Pipe, len: number, nonblock: boolean): SysRet {
  const retry = () => linkPipe(t, ip, op, len, nonblock);
  const wait = inputReady(ip, nonblock, retry) ?? outputReady(t, op, nonblock, retry);
  if (wait !== undefined) return wait;
  let done = 0;
  for (const b of ip.ring) {
    if (done === len || freeSlots(op) === 0) break;
    const copy = share(b, len - done);
    op.ring.push(copy);
    done += copy.len;
  }
  if (done) wakeReaders(op);
  return done;
}

/**
 * Whether the file has f_op->splice_read / splice_write: regular files,
 * sockets, pipes and character devices do; directories and anonymous-inode
 * files (eventfd, epoll, inotify: no file type in their mode) do not.
 */
function canSplice(f: FileDescription): boolean {
  const type = f.stat().mode & S_IFMT;
  return type === S_IFREG || type === S_IFSOCK || type === S_IFCHR || type === S_IFIFO;
}

/** FMODE_PREAD / FMODE_PWRITE: a file with positions (stream files are opened without them). */
const positioned = (f: FileDescription): f is RegularFile => f instanceof RegularFile;

/**
 * Linux: splice_file_to_pipe + do_splice_read — as much of the file as fits
 * in the free slots, one buffer per page of the file it came from.
 */
function fileToPipe(t: Task, f: FileDescription, op: Pipe, offset: number | undefined, len: number, nonblock: boolean,
  done: (n: number, offset: number | undefined) => void): SysRet {
  const retry = () => fileToPipe(t, f, op, offset, len, nonblock, done);
  const wait = outputReady(t, op, nonblock, retry);
  if (wait !== undefined) return wait;
  if (!canSplice(f)) return EINVAL;
  const want = Math.min(len, MAX_RW_COUNT, freeSlots(op) * PAGE_SIZE);
  if (offset !== undefined && offset < 0) return EINVAL;
  const pos = offset ?? (positioned(f) ? f.pos : 0);
  const r = offset !== undefined ? f.pread(t, want, offset) : f.read(t, want);
  if (r instanceof Block) return nonblock ? EAGAIN : new Block(r.wait, retry, r.cancel);
  if (r instanceof Errno) return r;
  pushPages(op, r, pos);
  if (r.length) wakeReaders(op);
  done(r.length, offset === undefined ? undefined : offset + r.length);
  return r.length;
}

/** Linux: do_splice_from (iter_file_splice_write) — wait for data, write what is there, consume what was written. */
function pipeToFile(t: Task, ip: Pipe, f: FileDescription, offset: number | undefined, len: number, nonblock: boolean,
  done: (n: number, offset: number | undefined) => void): SysRet {
  const retry = () => pipeToFile(t, ip, f, offset, len, nonblock, done);
  const wait = inputReady(ip, nonblock, retry);
  if (wait !== undefined) return wait;
  const data = peek(ip, Math.min(len, MAX_RW_COUNT));
  const w = offset !== undefined ? f.pwrite(t, data, offset) : f.write(t, data);
  if (w instanceof Block) return nonblock ? EAGAIN : new Block(w.wait, retry, w.cancel);
  if (w instanceof Errno) return w;
  consume(ip, w);
  if (w) wakeWriters(ip);
  done(w, offset === undefined ? undefined : offset + w);
  return w;
}

/** An loff_t argument (64-bit on every arch). */
const readOffset = (t: Task, ptr: number): number => Number(BigInt.asIntN(64, t.mm.u64(ptr)));

/** Implements splice(2). Linux: SYSCALL_DEFINE6(splice), __do_splice, do_splice. */
export const splice: Handler = (t, a) => {
  const offInPtr = a.ptr(1), offOutPtr = a.ptr(3), len = a.ulong(4);
  let flags = a.uint(5);
  if (len === 0) return 0;
  if (flags & ~SPLICE_F_ALL) return EINVAL;
  const inp = fileOf(t, a.int(0));
  if (inp instanceof Errno) return inp;
  const out = fileOf(t, a.int(2));
  if (out instanceof Errno) return out;
  const ip = pipeOf(inp), op = pipeOf(out);
  if ((ip && offInPtr) || (op && offOutPtr)) return ESPIPE;
  const offIn = offInPtr ? readOffset(t, offInPtr) : undefined;
  const offOut = offOutPtr ? readOffset(t, offOutPtr) : undefined;
  if (!inp.readable || !out.writable) return EBADF;
  if (ip && op) {
    if (ip === op) return EINVAL;
    if ((inp.flags | out.flags) & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
    return pipeToPipe(t, ip, op, len, (flags & SPLICE_F_NONBLOCK) !== 0);
  }
  if (ip) {
    if (offOut !== undefined && !positioned(out)) return EINVAL;
    if (out.flags & O_APPEND) return EINVAL;
    if (offOut !== undefined && offOut < 0) return EINVAL;
    if (!canSplice(out)) return EINVAL;
    if (inp.flags & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
    return pipeToFile(t, ip, out, offOut, len, (flags & SPLICE_F_NONBLOCK) !== 0,
      (_n, off) => { if (off !== undefined) t.mm.setU64(offOutPtr, BigInt(off)); });
  }
  if (op) {
    if (offIn !== undefined && !positioned(inp)) return EINVAL;
    if (out.flags & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
    return fileToPipe(t, inp, op, offIn, len, (flags & SPLICE_F_NONBLOCK) !== 0,
      (_n, off) => { if (off !== undefined) t.mm.setU64(offInPtr, BigInt(off)); });
  }
  return EINVAL;
};

/** Implements tee(2). Linux: do_tee. */
export const tee: Handler = (t, a) => {
  const len = a.ulong(2);
  let flags = a.uint(3);
  if (flags & ~SPLICE_F_ALL) return EINVAL;
  if (len === 0) return 0;
  const inp = fileOf(t, a.int(0));
  if (inp instanceof Errno) return inp;
  const out = fileOf(t, a.int(1));
  if (out instanceof Errno) return out;
  if (!inp.readable || !out.writable) return EBADF;
  const ip = pipeOf(inp), op = pipeOf(out);
  if (!ip || !op || ip === op) return EINVAL;
  if ((inp.flags | out.flags) & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
  return linkPipe(t, ip, op, len, (flags & SPLICE_F_NONBLOCK) !== 0);
};

/** The (base, len) pairs of a guest iovec array (Linux: import_iovec). */
function iovecs(t: Task, ptr: number, count: number): Array<[number, number]> | Errno {
  if (count > UIO_MAXIOV) return EINVAL;
  const w = t.arch.wordSize;
  const out: Array<[number, number]> = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = w === 8 ? t.mm.u64n(ptr + 16 * i) : t.mm.u32(ptr + 8 * i);
    const len = w === 8 ? t.mm.u64n(ptr + 16 * i + 8) : t.mm.u32(ptr + 8 * i + 4);
    if (len > (w === 8 ? Number.MAX_SAFE_INTEGER : 0x7fffffff)) return EINVAL;
    // The total is capped at MAX_RW_COUNT, later segments shortened.
    const n = Math.min(len, MAX_RW_COUNT - total);
    total += n;
    out.push([base, n]);
  }
  return out;
}

/** Linux: vmsplice_to_pipe + iter_to_pipe — one buffer per piece of a user page, while slots last. */
function userToPipe(t: Task, p: Pipe, iov: Array<[number, number]>, nonblock: boolean): SysRet {
  const wait = outputReady(t, p, nonblock, () => userToPipe(t, p, iov, nonblock));
  if (wait !== undefined) return wait;
  let done = 0;
  for (const [base, len] of iov) {
    for (let at = 0; at < len && freeSlots(p) > 0;) {
      const n = Math.min(PAGE_SIZE - ((base + at) % PAGE_SIZE), len - at);
      pushPages(p, t.mm.read(base + at, n), base + at);
      at += n;
      done += n;
    }
  }
  if (done) wakeReaders(p);
  return done;
}

/** Linux: vmsplice_to_user — like a read of the pipe, scattered over the vectors. */
function pipeToUser(t: Task, p: Pipe, iov: Array<[number, number]>, nonblock: boolean): SysRet {
  const wait = inputReady(p, nonblock, () => pipeToUser(t, p, iov, nonblock));
  if (wait !== undefined) return wait;
  let done = 0;
  for (const [base, len] of iov) {
    if (!p.ring.length) break;
    const data = peek(p, len);
    t.mm.write(base, data);
    consume(p, data.length);
    done += data.length;
  }
  if (done) wakeWriters(p);
  return done;
}

/**
 * Implements vmsplice(2). A descriptor open for writing takes user memory
 * into its pipe, one open only for reading gives the pipe's data to user
 * memory. Only SPLICE_F_NONBLOCK makes it non-blocking: the pipe's own
 * O_NONBLOCK is not consulted (vmsplice_to_pipe, vmsplice_to_user).
 */
export const vmsplice: Handler = (t, a) => {
  const flags = a.uint(3);
  if (flags & ~SPLICE_F_ALL) return EINVAL;
  const f = fileOf(t, a.int(0));
  if (f instanceof Errno) return f;
  const toPipe = f.writable;
  if (!toPipe && !f.readable) return EBADF;
  const iov = iovecs(t, a.ptr(1), a.ulong(2));
  if (iov instanceof Errno) return iov;
  if (iov.every(([, len]) => len === 0)) return 0;
  const p = pipeOf(f);
  if (!p) return EBADF;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  return toPipe ? userToPipe(t, p, iov, nonblock) : pipeToUser(t, p, iov, nonblock);
};
