/**
 * Synthetic inodes whose contents a function computes when they are read:
 * the building blocks of /proc (Linux: fs/proc/generic.c and seq_file).
 * A directory lists children by name; a file renders text at open and again
 * whenever a read starts at offset 0 (as seq_file does); a link gives text to
 * readlink and may be a magic link that jumps to a path the kernel holds.
 */
import { EINVAL, EIO, ENOENT, EPERM, Errno } from "../errno";
import type { ReadResult, StatInfo } from "../file";
import type { Task } from "../task";
import { SEEK_CUR, SEEK_END, SEEK_SET, VfsFile } from "./file";
import { baseStat, Inode, type Filesystem, type OpenResult, type VfsPath } from "./inode";
import { S_IFDIR, S_IFLNK, S_IFREG, dtype, bytes, type DirEntry, type SetAttr } from "./types";

/** How a child is made when it is looked up. */
export type Maker = () => Inode;

abstract class SynthInode extends Inode {
  constructor(readonly fs: Filesystem, readonly ino: number, private readonly modeBits: number,
    private readonly owner = 0, private readonly group = 0) { super(); }
  get mode(): number { return this.modeBits; }
  get uid(): number { return this.owner; }
  get gid(): number { return this.group; }
  get nlink(): number { return (this.modeBits & S_IFDIR) === S_IFDIR ? 2 : 1; }
  stat(): StatInfo {
    return baseStat(this.fs, this.ino, this.modeBits, { nlink: this.nlink, uid: this.owner, gid: this.group, blksize: 1024 });
  }
  /** proc_setattr on generic entries accepts and forgets. */
  override setattr(_a: SetAttr): 0 | Errno { return 0; }
  override open(_t: Task, _flags: number, _path: VfsPath): OpenResult { return EINVAL; }
}

export class SynthDir extends SynthInode {
  constructor(fs: Filesystem, ino: number, mode: number, private readonly children: (t: Task) => Map<string, Maker>,
    uid = 0, gid = 0) {
    super(fs, ino, S_IFDIR | mode, uid, gid);
  }
  override lookup(t: Task, name: string): Inode | Errno {
    const make = this.children(t).get(name);
    return make ? make() : ENOENT;
  }
  // Linux's /proc lookups fail with ENOENT before any create; removing is EPERM.
  override create(): Errno { return ENOENT; }
  override mkdir(): Errno { return ENOENT; }
  override mknod(): Errno { return ENOENT; }
  override symlink(): Errno { return ENOENT; }
  override link(): Errno { return ENOENT; }
  override unlink(): Errno { return EPERM; }
  override rmdir(): Errno { return EPERM; }
  override rename(): Errno { return ENOENT; }
  override readdir(t: Task): DirEntry[] {
    return [...this.children(t)].map(([name, make]) => {
      const i = make();
      return { name, ino: i.ino, type: dtype(i.mode) };
    });
  }
}

export type Render = (t: Task) => string | Uint8Array | Errno;
export type Store = (t: Task, value: string) => 0 | Errno;

export class SynthFile extends SynthInode {
  constructor(fs: Filesystem, ino: number, mode: number, readonly render: Render, readonly store?: Store, uid = 0, gid = 0) {
    super(fs, ino, S_IFREG | mode, uid, gid);
  }
  override open(t: Task, flags: number, path: VfsPath): OpenResult {
    const file = new SeqFile(flags, path, this.render, this.store);
    if (file.readable) {
      const first = file.refresh(t);
      if (first instanceof Errno) return first;
    }
    return file;
  }
}

/**
 * A running program's image that is not in the guest's tree (the first program,
 * loaded from the host): what /proc/PID/exe opens and executes, as Linux's magic
 * link reaches the running file whether or not its path is visible.
 */
export class ExeImage extends SynthFile {
  constructor(fs: Filesystem, ino: number, readonly exePath: string, readonly image: Uint8Array) {
    super(fs, ino, 0o755, () => image);
  }
  override stat(): StatInfo { return { ...super.stat(), size: this.image.length }; }
}

/**
 * A synthetic file behind a read-only bind mount: the writes a container
 * refuses (/proc/sys entries the guest may not set) are EROFS; reads work.
 */
export class ReadOnlySynthFile extends SynthFile {
  override get readOnly(): boolean { return true; }
}

export class SynthLink extends SynthInode {
  constructor(fs: Filesystem, ino: number, private readonly target: (t: Task) => string | Errno,
    jumpTo?: (t: Task, link: VfsPath) => VfsPath | Errno, uid = 0, gid = 0) {
    super(fs, ino, S_IFLNK | 0o777, uid, gid);
    if (jumpTo) this.jump = jumpTo;
  }
  override readlink(t: Task): string | Errno { return this.target(t); }
}

/** An open synthetic file: the rendered text, re-rendered when a read starts at 0. */
export class SeqFile extends VfsFile {
  pos = 0;
  private text: Uint8Array = new Uint8Array(0);

  constructor(flags: number, path: VfsPath, private readonly render: Render, private readonly store?: Store) { super(flags, path); }

  refresh(t: Task): 0 | Errno {
    const r = this.render(t);
    if (r instanceof Errno) return r;
    this.text = typeof r === "string" ? bytes(r) : r;
    return 0;
  }

  override read(t: Task, len: number): ReadResult {
    const r = this.pread(t, len, this.pos);
    if (r instanceof Uint8Array) this.pos += r.length;
    return r;
  }

  override pread(t: Task, len: number, offset: number): Uint8Array | Errno {
    if (offset === 0) {
      const r = this.refresh(t);
      if (r) return r;
    }
    return this.text.slice(offset, offset + len);
  }

  /** A file without a store accepts the open (the mode decides) and fails the write, as proc does with EIO. */
  override write(t: Task, data: Uint8Array): number | Errno {
    if (!this.store) return EIO;
    const r = this.store(t, Buffer.from(data).toString("latin1"));
    return r instanceof Errno ? r : data.length;
  }

  override pwrite(t: Task, data: Uint8Array): number | Errno { return this.write(t, data); }

  override seek(offset: number, whence: number): number | Errno {
    const to = whence === SEEK_SET ? offset : whence === SEEK_CUR ? this.pos + offset : whence === SEEK_END ? this.text.length + offset : -1;
    if (to < 0) return EINVAL;
    this.pos = to;
    return to;
  }
}
