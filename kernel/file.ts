/**
 * Open file descriptions and the per-process descriptor table.
 *
 * Like browser_wasi_shim's Fd, every operation of the base class refuses with
 * the errno Linux gives for a file that cannot do it, so a new kind of file
 * only implements what it supports.
 */
import { Errno, EBADF, EINVAL, EMFILE, ENOTTY, ESPIPE } from "./errno";
import type { Task } from "./task";

/** Status flags (fcntl F_GETFL / F_SETFL), from include/uapi/asm-generic/fcntl.h. */
export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
export const O_APPEND = 0o2000, O_NONBLOCK = 0o4000;

/** The file-type part of st_mode, from include/uapi/linux/stat.h. */
export const S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFSOCK = 0o140000;

/** Arch-neutral stat fields; each arch writes its own struct layout. */
export interface StatInfo {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number;
  size: number; blksize: number; blocks: number;
  atimeMs: number; mtimeMs: number; ctimeMs: number;
}

/**
 * Readiness bits (include/uapi/asm-generic/poll.h; EPOLL* in eventpoll.h share
 * the low values). POLLRDHUP is 0x2000 on every arch syscage runs.
 */
export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
export const POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100, POLLWRBAND = 0x200, POLLRDHUP = 0x2000;
/** The key of the last notification: the file is gone (Linux's POLLFREE; epoll drops it, as eventpoll_release does). */
export const POLLFREE = 0x4000;
/** What a file without f_op->poll reports: always readable and writable (include/linux/poll.h). */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/**
 * Who to tell when a file's readiness may have changed: the wait queue a
 * file's poll registers on (Linux: poll_wait + wake_up_poll). A notification
 * carries the POLL* bits that changed as its key (0: unknown, anything may
 * have), so an edge-triggered epoll can ignore wake-ups it did not ask for.
 */
export class Readiness {
  private watchers: Set<(key: number) => void> | undefined;
  /** Told when the first watcher comes and the last one goes (a host descriptor starts and stops watching then). */
  private activity: ((watched: boolean) => void) | undefined;

  onActivity(fn: (watched: boolean) => void): void {
    this.activity = fn;
  }

  /** Call `cb` on every notification until the returned function is called. */
  watch(cb: (key: number) => void): () => void {
    const set = (this.watchers ??= new Set());
    set.add(cb);
    if (set.size === 1) this.activity?.(true);
    return () => {
      if (set.delete(cb) && set.size === 0) this.activity?.(false);
    };
  }

  notify(key = 0): void {
    if (!this.watchers?.size) return;
    for (const cb of [...this.watchers]) cb(key);
  }
}

/** A result the dispatcher puts in the return register, or a task that must wait. */
export type SysRet = number | bigint | Errno | Block;

/** A syscall that cannot finish now: the task sleeps until `wait` settles, then `retry` runs. */
export class Block<T = SysRet> {
  /** `cancel` undoes the wait's side effects (a futex queue entry, a timer) when a signal cuts it short. */
  constructor(readonly wait: Promise<unknown>, readonly retry: () => T, readonly cancel?: () => void) {}
}

/** What a read produces: bytes, an error, or a wait after which the read is tried again. */
export type ReadResult = Uint8Array | Errno | Block<ReadResult>;

export abstract class FileDescription {
  /** Open-file status flags (O_ACCMODE | O_APPEND | O_NONBLOCK...), shared by dup'ed descriptors. */
  constructor(public flags: number) {}

  get readable(): boolean { return (this.flags & O_ACCMODE) !== O_WRONLY; }
  get writable(): boolean { return (this.flags & O_ACCMODE) !== O_RDONLY; }

  read(_t: Task, _len: number): ReadResult { return EINVAL; }
  write(_t: Task, _data: Uint8Array): number | Errno | Block { return EINVAL; }
  pread(_t: Task, _len: number, _offset: number): Uint8Array | Errno { return ESPIPE; }
  pwrite(_t: Task, _data: Uint8Array, _offset: number): number | Errno { return ESPIPE; }
  seek(_offset: number, _whence: number): number | Errno { return ESPIPE; }
  ioctl(_t: Task, _request: number, _arg: number): SysRet { return ENOTTY; }
  /** fsync/fdatasync: pipes, sockets and terminals cannot be synced. */
  sync(): number | Errno { return EINVAL; }
  truncate(_length: number): number | Errno { return EINVAL; }
  abstract stat(): StatInfo;
  /** Called when the last descriptor referring to this description is closed. */
  release(): void {}
  /** Readiness now, as POLL* bits (Linux: f_op->poll). A file without one is always ready. */
  poll(): number { return DEFAULT_POLLMASK; }
  /** Notified whenever poll() may answer differently; a file that overrides poll() must notify it. */
  readonly readiness = new Readiness();
}

/** file_can_poll(): whether the file has its own poll (epoll refuses the others with EPERM). */
export function canPoll(file: FileDescription): boolean {
  return file.poll !== FileDescription.prototype.poll;
}

/**
 * Open descriptors per file description across every table: a description
 * shared by fork or SCM_RIGHTS is released once, when its last descriptor
 * anywhere closes (Linux: the struct file's f_count).
 */
const openRefs = new WeakMap<FileDescription, number>();

/** Hold a description without a descriptor (a message in flight carrying it); drop it with unrefFile. */
export function refFile(file: FileDescription): void {
  openRefs.set(file, (openRefs.get(file) ?? 0) + 1);
}

export function unrefFile(file: FileDescription): void {
  const n = (openRefs.get(file) ?? 1) - 1;
  if (n > 0) {
    openRefs.set(file, n);
    return;
  }
  openRefs.delete(file);
  file.release();
  file.readiness.notify(POLLFREE);
}

interface Slot { file: FileDescription; cloexec: boolean }

/** Linux's default RLIMIT_NOFILE soft limit. */
export const DEFAULT_NOFILE = 1024;

export class FdTable {
  private readonly slots: (Slot | undefined)[] = [];
  limit = DEFAULT_NOFILE;

  get(fd: number): FileDescription | undefined {
    return fd >= 0 ? this.slots[fd]?.file : undefined;
  }

  cloexec(fd: number): boolean { return this.slots[fd]?.cloexec ?? false; }

  setCloexec(fd: number, on: boolean): void {
    const s = this.slots[fd];
    if (s) s.cloexec = on;
  }

  /** Install at the lowest free descriptor >= min; EMFILE when none is below the limit. */
  install(file: FileDescription, cloexec = false, min = 0): number | Errno {
    for (let fd = min; fd < this.limit; fd++) {
      if (!this.slots[fd]) {
        this.place(fd, file, cloexec);
        return fd;
      }
    }
    return EMFILE;
  }

  /** Put `file` at exactly `fd`, closing what was there (dup2 semantics). */
  installAt(fd: number, file: FileDescription, cloexec: boolean): void {
    this.ref(file);
    this.close(fd);
    this.unref(file);
    this.place(fd, file, cloexec);
  }

  close(fd: number): Errno | 0 {
    const s = fd >= 0 ? this.slots[fd] : undefined;
    if (!s) return EBADF;
    this.slots[fd] = undefined;
    this.unref(s.file);
    return 0;
  }

  /** Open descriptors in increasing order. */
  fds(): number[] {
    const out: number[] = [];
    this.slots.forEach((s, fd) => { if (s) out.push(fd); });
    return out;
  }

  /** A copy for a forked process: same open file descriptions, same close-on-exec flags. */
  clone(): FdTable {
    const copy = new FdTable();
    copy.limit = this.limit;
    this.slots.forEach((s, fd) => { if (s) copy.place(fd, s.file, s.cloexec); });
    return copy;
  }

  /** execve: close every descriptor marked close-on-exec. */
  closeOnExec(): void {
    for (const fd of this.fds()) if (this.slots[fd]?.cloexec) this.close(fd);
  }

  closeAll(): void {
    for (const fd of this.fds()) this.close(fd);
  }

  private place(fd: number, file: FileDescription, cloexec: boolean): void {
    this.slots[fd] = { file, cloexec };
    this.ref(file);
  }

  private ref(file: FileDescription): void { refFile(file); }
  private unref(file: FileDescription): void { unrefFile(file); }
}
