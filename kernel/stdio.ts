/**
 * The guest's standard streams. The user chooses what they are: a host file
 * descriptor passed through (the CLI's default, so `syscage run x < f > g`
 * behaves like a shell), an in-memory input, or a sink callback (the library
 * API). Nothing else of the host is reachable through them.
 */
import * as fs from "fs";
import { Errno, EAGAIN, EBADF, EINVAL, EIO, ENOTTY, EPIPE, ESPIPE, errnoByCode } from "./errno";
import {
  Block, FileDescription, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLIN, POLLOUT, S_IFCHR, S_IFIFO, S_IFREG, S_IFSOCK, S_IFDIR,
  type ReadResult, type StatInfo, type SysRet,
} from "./file";
import type { Task } from "./task";
import type { HostTtyIoctl, Terminal } from "./tty";

const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

/** A pipe-like stat for streams that are not host files. */
function pipeStat(): StatInfo {
  const now = Date.now();
  return { dev: 12, ino: 1, mode: S_IFIFO | 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0,
    atimeMs: now, mtimeMs: now, ctimeMs: now };
}

function hostErrno(e: unknown): Errno {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EPIPE" ? EPIPE : code === "EBADF" ? EBADF : code === "EAGAIN" ? EAGAIN : EIO;
}

/** What the embedder provides for host descriptors (Node itself has no lseek or poll). */
export interface HostIo {
  /** lseek(2): the new offset or -errno. */
  seek(fd: number, offset: number, whence: number): number;
  /** poll(2) without waiting: revents, or -errno. */
  poll(fd: number, events: number): number;
  /** Call `cb` whenever `fd` turns readable, until the returned function is called; undefined if it cannot be watched. */
  watchReadable(fd: number, cb: () => void): (() => void) | undefined;
  /** An allow-listed terminal ioctl on `fd` (see kernel/tty.ts): 0 or -errno. */
  ttyIoctl: HostTtyIoctl;
}

/**
 * A host descriptor handed to the guest by the user. It shares the host's
 * file offset, as an inherited descriptor would: `syscage run x >> log`
 * appends after whatever the shell wrote.
 */
export class HostFdFile extends FileDescription {
  private readonly kind: number;
  private readonly isTTY: boolean;
  private unwatch: (() => void) | undefined;

  /**
   * `terminal`: the controlling terminal this descriptor is on, if it is a
   * terminal; `owned`: syscage opened `hostFd` itself (/dev/tty) and closes it
   * with the description.
   */
  constructor(private readonly hostFd: number, flags: number, private readonly host: HostIo,
    private readonly terminal?: Terminal, private readonly owned = false) {
    super(flags);
    const st = fs.fstatSync(hostFd);
    this.kind = st.isFile() ? S_IFREG : st.isCharacterDevice() ? S_IFCHR : st.isSocket() ? S_IFSOCK : st.isDirectory() ? S_IFDIR : S_IFIFO;
    this.isTTY = require("tty").isatty(hostFd);
    // Pipes, terminals and sockets have a readiness of their own (poll, epoll); files and /dev/null do not,
    // so only those get a poll() (an instance method: canPoll() then tells them apart, as file_can_poll does).
    if (this.kind === S_IFIFO || this.kind === S_IFSOCK || this.isTTY) {
      this.poll = () => {
        const r = this.host.poll(this.hostFd, POLLIN | POLLOUT);
        return r < 0 ? POLLERR : r;
      };
      this.readiness.onActivity((watched) => {
        if (watched && this.readable) this.unwatch = this.host.watchReadable(this.hostFd, () => this.readiness.notify(POLLIN));
        else if (!watched) {
          this.unwatch?.();
          this.unwatch = undefined;
        }
      });
    }
  }

  override read(_t: Task, len: number): ReadResult {
    if (!this.readable) return EBADF;
    if (this.kind === S_IFDIR) return EINVAL;
    if (this.kind === S_IFREG) {
      const buf = Buffer.alloc(Math.min(len, 1 << 24));
      try {
        return buf.subarray(0, fs.readSync(this.hostFd, buf, 0, buf.length, null));
      } catch (e) {
        return hostErrno(e);
      }
    }
    // Streams may block: read on the thread pool and park the task until data comes.
    if (this.flags & O_NONBLOCK) return EAGAIN;
    let result: Uint8Array | Errno | undefined;
    const wait = this.readAsync(len).then((r) => { result = r; });
    return new Block(wait, () => result ?? EIO);
  }

  private readAsync(len: number): Promise<Uint8Array | Errno> {
    const buf = Buffer.alloc(Math.min(len, 1 << 20));
    return new Promise((resolve) => {
      const attempt = () => fs.read(this.hostFd, buf, 0, buf.length, null, (err, n) => {
        if (err && (err as NodeJS.ErrnoException).code === "EAGAIN") return setTimeout(attempt, 5);
        resolve(err ? hostErrno(err) : buf.subarray(0, n));
      });
      attempt();
    });
  }

  override pread(_t: Task, len: number, offset: number): Uint8Array | Errno {
    if (this.kind !== S_IFREG) return ESPIPE;
    if (!this.readable) return EBADF;
    const buf = Buffer.alloc(Math.min(len, 1 << 24));
    try {
      return buf.subarray(0, fs.readSync(this.hostFd, buf, 0, buf.length, offset));
    } catch (e) {
      return hostErrno(e);
    }
  }

  override write(_t: Task, data: Uint8Array): number | Errno {
    if (!this.writable) return EBADF;
    let done = 0;
    try {
      while (done < data.length) {
        try {
          done += fs.writeSync(this.hostFd, data, done, data.length - done, null);
        } catch (e) {
          // The host end may be non-blocking (a terminal Node touched); the guest expects a blocking write.
          if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        }
      }
      return done;
    } catch (e) {
      return done > 0 ? done : hostErrno(e);
    }
  }

  override sync(): number | Errno {
    if (this.kind !== S_IFREG) return EINVAL;
    try { fs.fsyncSync(this.hostFd); return 0; } catch (e) { return hostErrno(e); }
  }

  override truncate(length: number): number | Errno {
    if (this.kind !== S_IFREG) return EINVAL;
    try { fs.ftruncateSync(this.hostFd, length); return 0; } catch (e) { return hostErrno(e); }
  }

  override seek(offset: number, whence: number): number | Errno {
    if (this.kind !== S_IFREG) return ESPIPE;
    if (whence !== SEEK_SET && whence !== SEEK_CUR && whence !== SEEK_END) return EINVAL;
    const r = this.host.seek(this.hostFd, offset, whence);
    return r >= 0 ? r : (errnoByCode.get(-r) ?? EINVAL);
  }

  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (!this.isTTY || !this.terminal) return ENOTTY;
    return this.terminal.ioctl(t, this.hostFd, request, arg);
  }

  override release(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.owned) fs.closeSync(this.hostFd);
  }

  override stat(): StatInfo {
    const st = fs.fstatSync(this.hostFd);
    const perm = st.mode & 0o7777;
    return { dev: st.dev, ino: st.ino, mode: this.kind | perm, nlink: st.nlink, uid: st.uid, gid: st.gid, rdev: st.rdev,
      size: this.kind === S_IFREG ? st.size : 0, blksize: st.blksize, blocks: st.blocks,
      atimeMs: st.atimeMs, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  }
}

/** Guest stdin from bytes held in memory (library API): a pipe that reaches EOF. */
export class BufferInputFile extends FileDescription {
  private pos = 0;
  constructor(private readonly data: Uint8Array) { super(O_RDONLY); }
  override read(_t: Task, len: number): Uint8Array {
    const chunk = this.data.subarray(this.pos, this.pos + Math.min(len, 65536));
    this.pos += chunk.length;
    return chunk;
  }
  override stat(): StatInfo { return pipeStat(); }
}

/** Guest output handed to a callback (library API): the write end of a pipe. */
export class SinkFile extends FileDescription {
  constructor(private readonly sink: (data: Uint8Array) => void) { super(O_WRONLY); }
  override write(_t: Task, data: Uint8Array): number {
    this.sink(data.slice());
    return data.length;
  }
  override stat(): StatInfo { return pipeStat(); }
}
