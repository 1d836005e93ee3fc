/**
 * tmpfs: files kept in memory (Linux: mm/shmem.c). File data lives in 4 KiB
 * pages allocated on first write, so sparse files cost nothing; the byte
 * limit is checked on allocation (ENOSPC), as tmpfs's size= option is.
 * Directory sizes and link counts follow shmem: a directory's size is 20
 * bytes per entry including "." and "..", its nlink is 2 plus its subdirectories.
 */
import { EEXIST, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, ENXIO, Errno } from "../errno";
import type { FileDescription, StatInfo } from "../file";
import type { Task } from "../task";
import { openDevice } from "./devices";
import { openFifo, Fifo } from "./fifo";
import { RegularFile, type FileData } from "./file";
import { Filesystem, Inode, TMPFS_MAGIC, type OpenResult, type StatFs, type VfsPath } from "./inode";
import { SimpleXattrs, TMPFS_XATTR_PREFIXES } from "./xattr";
import { S_IFCHR, S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, dtype, isDir, type Cred, type DirEntry, type SetAttr } from "./types";

const PAGE = 4096;
/** shmem's BOGO_DIRENT_SIZE. */
const BOGO_DIRENT_SIZE = 20;
export const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

export interface TmpFsOptions {
  /** Byte limit for file data (tmpfs size=); default 1 GiB. */
  size?: number;
  /** Mode of the root directory (tmpfs mode=); default 1777 like /tmp. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** The type /proc/mounts shows (devtmpfs for /dev). */
  type?: string;
}

export class TmpFs extends Filesystem {
  readonly type: string;
  readonly root: TmpDir;
  readonly limit: number;
  used = 0;
  private nextIno = 1;
  private inodes = 0;

  constructor(private readonly opts: TmpFsOptions = {}) {
    super();
    this.type = opts.type ?? "tmpfs";
    this.limit = opts.size ?? 1 << 30;
    this.root = new TmpDir(this, S_IFDIR | (opts.mode ?? 0o1777), opts.uid ?? 0, opts.gid ?? 0);
  }

  allocIno(): number { this.inodes++; return this.nextIno++; }
  freeIno(): void { this.inodes--; }

  override options(): string {
    const parts = [];
    if (this.opts.size !== undefined) parts.push(`size=${Math.floor(this.limit / 1024)}k`);
    parts.push(`mode=${(this.root.mode & 0o7777).toString(8)}`);
    if (this.opts.uid) parts.push(`uid=${this.opts.uid}`);
    if (this.opts.gid) parts.push(`gid=${this.opts.gid}`);
    return parts.join(",");
  }

  statfs(): StatFs {
    const blocks = Math.floor(this.limit / PAGE), used = Math.ceil(this.used / PAGE);
    return { type: TMPFS_MAGIC, bsize: PAGE, blocks, bfree: blocks - used, bavail: blocks - used,
      files: 1 << 20, ffree: (1 << 20) - this.inodes, namelen: 255 };
  }
}

export abstract class TmpInode extends Inode {
  readonly ino: number;
  nlinks = 1;
  /** An O_TMPFILE file that may still be linked in. */
  linkable = false;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;

  constructor(readonly fs: TmpFs, public modeBits: number, public owner: number, public group: number, public rdev = 0) {
    super();
    this.ino = fs.allocIno();
    this.atimeMs = this.mtimeMs = this.ctimeMs = Date.now();
  }

  get mode(): number { return this.modeBits; }
  get uid(): number { return this.owner; }
  get gid(): number { return this.group; }
  get nlink(): number { return this.nlinks; }
  abstract size(): number;

  stat(): StatInfo {
    const size = this.size();
    return { dev: this.fs.dev, ino: this.ino, mode: this.modeBits, nlink: this.nlinks, uid: this.owner, gid: this.group,
      rdev: this.rdev, size, blksize: PAGE, blocks: this.blocks(), atimeMs: this.atimeMs, mtimeMs: this.mtimeMs, ctimeMs: this.ctimeMs };
  }

  protected blocks(): number { return 0; }

  touch(m = true): void {
    const now = Date.now();
    if (m) this.mtimeMs = now;
    this.ctimeMs = now;
  }

  override setattr(a: SetAttr): 0 | Errno {
    if (a.size !== undefined) {
      const r = this.resize(a.size);
      if (r) return r;
    }
    if (a.mode !== undefined) this.modeBits = (this.modeBits & S_IFMT) | (a.mode & 0o7777);
    if (a.uid !== undefined) this.owner = a.uid;
    if (a.gid !== undefined) this.group = a.gid;
    if (a.atimeMs !== undefined) this.atimeMs = a.atimeMs;
    if (a.mtimeMs !== undefined) this.mtimeMs = a.mtimeMs;
    this.ctimeMs = Date.now();
    return 0;
  }

  protected resize(_size: number): 0 | Errno { return isDir(this.modeBits) ? EISDIR : EINVAL; }

  /** Extended attributes, made on the first set (Linux: shmem's simple_xattrs). */
  private xattrs: SimpleXattrs | undefined;

  override getxattr(name: string): Uint8Array | Errno {
    return (this.xattrs ?? new SimpleXattrs(TMPFS_XATTR_PREFIXES)).get(name);
  }

  /** Linux: shmem_xattr_handler_set — a change touches ctime. */
  override setxattr(name: string, value: Uint8Array | undefined, flags: number): 0 | Errno {
    const r = (this.xattrs ??= new SimpleXattrs(TMPFS_XATTR_PREFIXES)).set(name, value, flags);
    if (r === 0) this.touch(false);
    return r;
  }

  override listxattr(trusted: boolean): string[] { return this.xattrs?.list(trusted) ?? []; }

  /** The last name is gone: free what the inode holds. */
  dropped(): void { this.fs.freeIno(); }

  override open(t: Task, flags: number, path: VfsPath): OpenResult {
    switch (this.modeBits & S_IFMT) {
      case S_IFCHR: case S_IFBLK: return openDevice(t, this.modeBits & S_IFMT, this.rdev, flags, path);
      default: return ENXIO;
    }
  }
}

export class TmpFile extends TmpInode implements FileData {
  private readonly pages = new Map<number, Uint8Array>();
  private length = 0;
  /** Unlinked: page allocation no longer counts against the filesystem's size. */
  private detached = false;

  private account(bytes: number): void {
    if (!this.detached) this.fs.used += bytes;
  }

  size(): number { return this.length; }
  protected override blocks(): number { return this.pages.size * (PAGE / 512); }

  read(pos: number, len: number): Uint8Array {
    const end = Math.min(pos + len, this.length);
    if (end <= pos) return new Uint8Array(0);
    const out = new Uint8Array(end - pos);
    for (let at = pos; at < end;) {
      const idx = Math.floor(at / PAGE), off = at - idx * PAGE;
      const n = Math.min(PAGE - off, end - at);
      const page = this.pages.get(idx);
      if (page) out.set(page.subarray(off, off + n), at - pos);
      at += n;
    }
    this.atimeMs = Date.now();
    return out;
  }

  write(pos: number, data: Uint8Array): number | Errno {
    if (data.length === 0) return 0;
    const end = pos + data.length;
    let fresh = 0;
    for (let idx = Math.floor(pos / PAGE); idx * PAGE < end; idx++) if (!this.pages.has(idx)) fresh++;
    if (!this.detached && this.fs.used + fresh * PAGE > this.fs.limit) return ENOSPC;
    for (let at = pos; at < end;) {
      const idx = Math.floor(at / PAGE), off = at - idx * PAGE;
      const n = Math.min(PAGE - off, end - at);
      let page = this.pages.get(idx);
      if (!page) {
        page = new Uint8Array(PAGE);
        this.pages.set(idx, page);
        this.account(PAGE);
      }
      page.set(data.subarray(at - pos, at - pos + n), off);
      at += n;
    }
    if (end > this.length) this.length = end;
    this.touch();
    return data.length;
  }

  protected override resize(size: number): 0 | Errno {
    if (size < this.length) {
      for (const idx of [...this.pages.keys()]) {
        if (idx * PAGE >= size) {
          this.pages.delete(idx);
          this.account(-PAGE);
        }
      }
      const last = this.pages.get(Math.floor(size / PAGE));
      if (last) last.fill(0, size % PAGE);
    }
    if (size !== this.length) {
      this.length = size;
      this.touch();
    }
    return 0;
  }

  truncate(len: number): 0 | Errno { return this.resize(len); }
  sync(): 0 { return 0; }
  close(): void {}

  /**
   * The last name is gone. Open descriptors still read and write the data
   * (it goes with the last of them, by garbage collection); the space no
   * longer counts against the filesystem.
   */
  override dropped(): void {
    super.dropped();
    this.fs.used -= this.pages.size * PAGE;
    this.detached = true;
  }

  override open(_t: Task, flags: number, path: VfsPath): FileDescription {
    return new RegularFile(flags, path, this);
  }

  override openData(): FileData { return this; }
}

export class TmpSymlink extends TmpInode {
  constructor(fs: TmpFs, readonly target: string, uid: number, gid: number) {
    super(fs, S_IFLNK | 0o777, uid, gid);
  }
  size(): number { return this.target.length; }
  override readlink(): string { return this.target; }
}

/** A fifo, socket or device node. */
export class TmpNode extends TmpInode {
  /** A fifo's pipe, shared by every open of it. */
  fifo: Fifo | undefined;
  size(): number { return 0; }
  override open(t: Task, flags: number, path: VfsPath): OpenResult {
    if ((this.modeBits & S_IFMT) === S_IFIFO) return openFifo(t, (this.fifo ??= new Fifo(this.owner, this.group)), flags, path);
    return super.open(t, flags, path);
  }
}

export class TmpDir extends TmpInode {
  readonly entries = new Map<string, TmpInode>();

  constructor(fs: TmpFs, mode: number, uid: number, gid: number) {
    super(fs, mode, uid, gid);
    this.nlinks = 2;
  }

  size(): number { return (this.entries.size + 2) * BOGO_DIRENT_SIZE; }

  override lookup(_t: Task, name: string): Inode | Errno {
    return this.entries.get(name) ?? ENOENT;
  }

  override readdir(): DirEntry[] {
    return [...this.entries].map(([name, i]) => ({ name, ino: i.ino, type: dtype(i.mode) }));
  }

  private add(name: string, inode: TmpInode): TmpInode | Errno {
    if (this.entries.has(name)) return EEXIST;
    if (this.nlinks === 0) return ENOENT;
    this.entries.set(name, inode);
    if (isDir(inode.mode)) this.nlinks++;
    this.touch();
    return inode;
  }

  override create(name: string, mode: number, cred: Cred): Inode | Errno {
    return this.add(name, new TmpFile(this.fs, S_IFREG | (mode & 0o7777), cred.uid, cred.gid));
  }

  override mkdir(name: string, mode: number, cred: Cred): Inode | Errno {
    return this.add(name, new TmpDir(this.fs, S_IFDIR | (mode & 0o7777), cred.uid, cred.gid));
  }

  override mknod(name: string, mode: number, rdev: number, cred: Cred): Inode | Errno {
    if ((mode & S_IFMT) === S_IFREG) return this.create(name, mode, cred);
    return this.add(name, new TmpNode(this.fs, mode, cred.uid, cred.gid, rdev));
  }

  override symlink(name: string, target: string, cred: Cred): Inode | Errno {
    return this.add(name, new TmpSymlink(this.fs, target, cred.uid, cred.gid));
  }

  /** O_TMPFILE: a file with no name yet; linkat(AT_EMPTY_PATH) may give it one (I_LINKABLE). */
  tmpfile(mode: number, cred: Cred): Inode {
    const f = new TmpFile(this.fs, S_IFREG | (mode & 0o7777), cred.uid, cred.gid);
    f.nlinks = 0;
    f.linkable = true;
    return f;
  }

  override link(name: string, target: Inode): 0 | Errno {
    if (!(target instanceof TmpInode) || target.fs !== this.fs) return EINVAL;
    if (target.nlinks === 0 && !target.linkable) return ENOENT;
    target.linkable = false;
    const r = this.add(name, target);
    if (r instanceof Errno) return r;
    target.nlinks++;
    target.touch(false);
    return 0;
  }

  /** Remove the entry `name` (a file or an empty directory; the VFS checked which). */
  private remove(name: string): 0 | Errno {
    const victim = this.entries.get(name);
    if (!victim) return ENOENT;
    this.entries.delete(name);
    if (isDir(victim.mode)) {
      this.nlinks--;
      victim.nlinks = 0;
    } else {
      victim.nlinks--;
    }
    victim.touch(false);
    if (victim.nlinks === 0) victim.dropped();
    this.touch();
    return 0;
  }

  override unlink(name: string): 0 | Errno {
    const victim = this.entries.get(name);
    if (!victim) return ENOENT;
    if (isDir(victim.mode)) return EISDIR;
    return this.remove(name);
  }

  override rmdir(name: string): 0 | Errno {
    const victim = this.entries.get(name);
    if (!victim) return ENOENT;
    if (!(victim instanceof TmpDir)) return ENOTDIR;
    if (victim.entries.size) return ENOTEMPTY;
    return this.remove(name);
  }

  override rename(oldName: string, newDir: Inode, newName: string, flags: number): 0 | Errno {
    if (!(newDir instanceof TmpDir) || newDir.fs !== this.fs) return EINVAL;
    const src = this.entries.get(oldName);
    if (!src) return ENOENT;
    const dst = newDir.entries.get(newName);
    if (flags & RENAME_EXCHANGE) {
      if (!dst) return ENOENT;
      this.entries.set(oldName, dst);
      newDir.entries.set(newName, src);
      if (isDir(src.mode) !== isDir(dst.mode)) {
        const d = isDir(src.mode) ? 1 : -1;
        newDir.nlinks += d;
        this.nlinks -= d;
      }
      src.touch(false); dst.touch(false); this.touch(); newDir.touch();
      return 0;
    }
    if (dst) {
      if (flags & RENAME_NOREPLACE) return EEXIST;
      if (dst === src) return 0;
      const r = isDir(dst.mode) ? newDir.rmdir(newName) : newDir.unlink(newName);
      if (r) return r;
    }
    this.entries.delete(oldName);
    newDir.entries.set(newName, src);
    if (isDir(src.mode)) {
      this.nlinks--;
      newDir.nlinks++;
    }
    src.touch(false);
    this.touch();
    newDir.touch();
    return 0;
  }
}
