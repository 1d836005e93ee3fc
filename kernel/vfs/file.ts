/**
 * Open files of the VFS: a description that remembers the path it was opened
 * by (fstat, fchdir, /proc/self/fd), regular files over a filesystem's byte
 * store, directories with a getdents cursor, and O_PATH descriptors.
 */
import { EBADF, EINVAL, EISDIR, ENXIO, EOVERFLOW, type Errno } from "../errno";
import { FileDescription, type ReadResult, type StatInfo, type SysRet } from "../file";
import type { Task } from "../task";
import type { Inode, VfsPath } from "./inode";
import { accessed, modified, notifyClose, notifyOpen } from "../inotify";
import { released } from "./locks";
import { fsizeAllows } from "../rlimits";
import { O_APPEND, O_PATH, type DirEntry } from "./types";

/** FIONREAD, include/uapi/asm-generic/ioctls.h. */
const FIONREAD = 0x541b;
export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
/** The largest offset the VFS accepts (Linux's MAX_LFS_FILESIZE is 2^63-1; JS numbers stop being exact at 2^53). */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** The bytes of one regular file as a filesystem stores them. */
export interface FileData {
  read(pos: number, len: number): Uint8Array | Errno;
  write(pos: number, data: Uint8Array): number | Errno;
  size(): number;
  truncate(len: number): 0 | Errno;
  sync(): 0 | Errno;
  /** The description is gone (close a host descriptor). */
  close(): void;
}

export abstract class VfsFile extends FileDescription {
  constructor(flags: number, readonly path: VfsPath) {
    super(flags);
    if (!isPathFile(this)) notifyOpen(path.d);
  }
  get inode(): Inode { return this.path.d.inode; }
  override stat(): StatInfo { return this.inode.stat(); }
  /** The last descriptor is closed: its OFD and flock locks go. */
  override release(): void {
    released(this);
    if (!isPathFile(this)) notifyClose(this.path.d, this.writable);
  }
}

/** A descriptor opened with O_PATH: a handle on a location that cannot be read or written. */
export class PathFile extends VfsFile {
  override get readable(): boolean { return false; }
  override get writable(): boolean { return false; }
  override read(): ReadResult { return EBADF; }
  override write(): Errno { return EBADF; }
  override pread(): Errno { return EBADF; }
  override pwrite(): Errno { return EBADF; }
  override seek(): Errno { return EBADF; }
  override ioctl(): Errno { return EBADF; }
  override sync(): Errno { return EBADF; }
  override truncate(): Errno { return EBADF; }
}

export function isPathFile(f: FileDescription): boolean {
  return f instanceof PathFile || (f.flags & O_PATH) !== 0;
}

export class RegularFile extends VfsFile {
  pos = 0;

  constructor(flags: number, path: VfsPath, readonly data: FileData) { super(flags, path); }

  override read(_t: Task, len: number): ReadResult {
    const r = this.data.read(this.pos, len);
    if (r instanceof Uint8Array) this.pos += r.length;
    return accessed(this.path.d, r);
  }

  override write(t: Task, data: Uint8Array): number | Errno {
    if (this.flags & O_APPEND) this.pos = this.data.size();
    if (this.pos + data.length > MAX_OFFSET) return EINVAL;
    const allowed = fsizeAllows(t, this.pos, data.length);
    if (typeof allowed !== "number") return allowed;
    const n = this.data.write(this.pos, data.subarray(0, allowed));
    if (typeof n === "number") this.pos += n;
    return modified(this.path.d, n);
  }

  override pread(_t: Task, len: number, offset: number): Uint8Array | Errno {
    return accessed(this.path.d, this.data.read(offset, len));
  }

  /** Linux appends even here when the file is O_APPEND (see BUGS in pwrite(2)). */
  override pwrite(t: Task, data: Uint8Array, offset: number): number | Errno {
    const at = this.flags & O_APPEND ? this.data.size() : offset;
    const allowed = fsizeAllows(t, at, data.length);
    if (typeof allowed !== "number") return allowed;
    return modified(this.path.d, this.data.write(at, data.subarray(0, allowed)));
  }

  /** Implements lseek for a file without holes: SEEK_DATA finds data anywhere before EOF. */
  override seek(offset: number, whence: number): number | Errno {
    const size = this.data.size();
    let to: number;
    switch (whence) {
      case SEEK_SET: to = offset; break;
      case SEEK_CUR: to = this.pos + offset; break;
      case SEEK_END: to = size + offset; break;
      case SEEK_DATA: if (offset < 0 || offset >= size) return ENXIO; to = offset; break;
      case SEEK_HOLE: if (offset < 0 || offset >= size) return ENXIO; to = size; break;
      default: return EINVAL;
    }
    if (to < 0) return EINVAL;
    if (to > MAX_OFFSET) return EOVERFLOW;
    this.pos = to;
    return to;
  }

  override truncate(length: number): number | Errno {
    return this.data.truncate(length);
  }

  override sync(): number | Errno { return this.data.sync(); }

  /** FIONREAD on a regular file: the bytes from the position to the end (do_vfs_ioctl). */
  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (request !== FIONREAD) return super.ioctl(t, request, arg);
    t.mm.setU32(arg, Math.max(0, Math.min(this.data.size() - this.pos, 0x7fffffff)));
    return 0;
  }

  override release(): void {
    super.release();
    this.data.close();
  }
}

/** An entry of a directory listing, with the cookie telldir/lseek use to come back after it. */
export interface ListedEntry extends DirEntry { next: number }

/** An open directory: read(2) is EISDIR, getdents walks a listing taken when the cursor is at 0. */
export class DirFile extends VfsFile {
  pos = 0;
  private listing: ListedEntry[] | undefined;

  /** `list` produces the entries including "." and "..", in order. */
  constructor(flags: number, path: VfsPath, private readonly list: (t: Task) => DirEntry[] | Errno) { super(flags, path); }

  override read(): ReadResult { return EISDIR; }
  override pread(): Errno { return EISDIR; }
  override write(): Errno { return EBADF; }

  /** Entries from the cursor on; `take` says how many were used. */
  entries(t: Task): ListedEntry[] | Errno {
    if (!this.listing || this.pos === 0) {
      const l = this.list(t);
      if (!(l instanceof Array)) return l;
      this.listing = l.map((e, i) => ({ ...e, next: i + 1 }));
    }
    return this.listing.slice(this.pos);
  }

  advance(to: number): void { this.pos = to; }

  /** Directory offsets are cookies: SEEK_SET and SEEK_CUR move the cursor, SEEK_END is refused (dcache_dir_lseek). */
  override seek(offset: number, whence: number): number | Errno {
    let to: number;
    if (whence === SEEK_SET) to = offset;
    else if (whence === SEEK_CUR) to = this.pos + offset;
    else return EINVAL;
    if (to < 0) return EINVAL;
    if (to === 0) this.listing = undefined;
    this.pos = to;
    return to;
  }

  override sync(): number { return 0; }
}

