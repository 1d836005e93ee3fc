/**
 * hostfs: a host directory as a guest filesystem — the only way guest code
 * ever reaches a host file.
 *
 * How no guest path can leave the directory:
 *
 * 1. The host never resolves a guest-controlled path. The VFS walks guest
 *    paths itself (namei.ts) and hands this filesystem single names that
 *    are never "", ".", ".." and never contain "/" or NUL (checked again
 *    here). `..` is answered by the VFS from its own dentries, and stops at
 *    the guest's root, so it never reaches the host's parent directory.
 * 2. Every host call is made relative to a directory descriptor, as openat
 *    would be: Node has no *at() calls, so a path is built as
 *    "/proc/self/fd/<dirfd>/<name>". The host kernel resolves /proc/self/fd/N
 *    as a magic link to the very directory the descriptor holds (no text is
 *    re-resolved), then looks up exactly one name in it.
 * 3. Directory descriptors are opened one component at a time from the
 *    mount's root descriptor with O_PATH|O_DIRECTORY|O_NOFOLLOW, and checked
 *    (device and inode) against what lstat saw, so a component swapped for a
 *    symlink by a concurrent host process makes the call fail instead of
 *    following it (no symlink race).
 * 4. Final components are never followed by the host: lookups use lstat,
 *    files are opened with O_NOFOLLOW (and O_NONBLOCK, then checked to be
 *    regular), symlinks are read with readlink and resolved by the VFS inside
 *    the guest's root. Changing attributes goes through an O_PATH|O_NOFOLLOW
 *    descriptor of the file itself ("/proc/self/fd/<fd>" names that inode),
 *    or the l*() calls for symlinks, so chmod, chown, utimes and truncate
 *    cannot be redirected through a symlink either.
 * 5. Host device nodes, fifos and sockets are never opened (a nodev mount);
 *    syscage's own devices come from devices.ts.
 * 6. A read-only hostfs refuses every write itself (EROFS), in addition to
 *    the VFS's read-only mount check; the overlay's lower layer is one.
 * 7. Extended attributes are neither read from nor written to the host: a
 *    hostfs inode answers EOPNOTSUPP, as a filesystem without xattrs does
 *    (the Inode defaults); through the overlay they live in the upper layer.
 *
 * Ownership and modes are the host's; the VFS checks them against the guest
 * identity, and the host checks them against syscage's own.
 */
import * as fs from "fs";
import { EACCES, EEXIST, EINVAL, EIO, ENOENT, ENXIO, EPERM, EROFS, Errno, errnoByCode } from "../errno";
import type { StatInfo } from "../file";
import type { Task } from "../task";
import { RegularFile, type FileData } from "./file";
import { Filesystem, Inode, type OpenResult, type StatFs, type VfsPath } from "./inode";
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from "./tmpfs";
import {
  NAME_MAX, O_ACCMODE, S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, dtype, isDir, isLnk,
  type Cred, type DirEntry, type SetAttr,
} from "./types";

/** Host open flags (the host is Linux: the asm-generic values, O_PATH from include/uapi/asm-generic/fcntl.h). */
const H = fs.constants;
const O_PATH = 0o10000000;
const DIR_OPEN = O_PATH | H.O_DIRECTORY | H.O_NOFOLLOW;
const NODE_OPEN = O_PATH | H.O_NOFOLLOW;

/** How many directory descriptors one hostfs keeps open at most (least recently used ones are closed). */
const DIR_FD_CACHE = 128;
/** The largest single host read (a bigger guest read returns short, as Linux may). */
const MAX_READ = 16 << 20;

/** A host error as the guest's errno (the host is Linux, so the numbers are the same). */
export function hostErrno(e: unknown): Errno {
  const n = (e as NodeJS.ErrnoException).errno;
  if (typeof n === "number") return errnoByCode.get(-n) ?? errnoByCode.get(n) ?? EIO;
  throw e;
}

/** Run a host call, turning a host error into the guest's errno. */
function host<T>(f: () => T): T | Errno {
  try {
    return f();
  } catch (e) {
    return hostErrno(e);
  }
}

/** A name the VFS may pass: anything else is a syscage bug, refused loudly. */
function checkName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0") || name.length > NAME_MAX) {
    throw new Error(`hostfs: refusing name ${JSON.stringify(name)}`);
  }
}

const magic = (fd: number): Buffer => Buffer.from(`/proc/self/fd/${fd}`);
const inDir = (fd: number, name: string): Buffer => Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), Buffer.from(name, "latin1")]);

export interface HostFsOptions {
  /** Refuse every change (EROFS). */
  readOnly?: boolean;
}

export class HostFs extends Filesystem {
  readonly type = "hostfs";
  readonly root: HostInode;
  override readonly readOnly: boolean;
  readonly rootFd: number;
  /** Host path of the root, for /proc/mounts and messages only; never used to reach files. */
  readonly hostPath: string;
  private readonly inodes = new Map<string, HostInode>();
  private readonly dirFds = new Map<HostInode, number>();
  private readonly pinned = new Set<HostInode>();
  private depth = 0;
  private readonly chownNew = typeof process.getuid === "function" && process.getuid() === 0;

  constructor(hostPath: string, opts: HostFsOptions = {}) {
    super();
    this.readOnly = !!opts.readOnly;
    // The user named this directory: the host resolves it once, here, and never again.
    this.hostPath = fs.realpathSync(hostPath);
    this.rootFd = fs.openSync(this.hostPath, O_PATH | H.O_DIRECTORY);
    const st = fs.fstatSync(this.rootFd, { bigint: true });
    this.root = this.inode(st, undefined, "/");
  }

  override options(): string { return ""; }

  statfs(): StatFs {
    const s = fs.statfsSync(magic(this.rootFd));
    return { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: 255 };
  }

  /** The inode for host attributes `st`, reached as `name` in `parent` (the same object for the same host inode). */
  inode(st: fs.BigIntStats, parent: HostInode | undefined, name: string): HostInode {
    const key = `${st.dev}:${st.ino}`;
    let i = this.inodes.get(key);
    if (!i) {
      i = new HostInode(this, st, parent, name);
      this.inodes.set(key, i);
    } else {
      i.seen(st, parent, name);
    }
    return i;
  }

  /** Run one filesystem operation; descriptors it used stay open until the outermost one ends. */
  op<T>(f: () => T): T | Errno {
    this.depth++;
    try {
      return f();
    } catch (e) {
      return hostErrno(e);
    } finally {
      if (--this.depth === 0) this.pinned.clear();
    }
  }

  /** An O_PATH descriptor of directory `dir`, opened component by component without following symlinks. */
  dirFd(dir: HostInode): number {
    if (dir === this.root) return this.rootFd;
    let fd = this.dirFds.get(dir);
    if (fd !== undefined) {
      this.dirFds.delete(dir);
      this.dirFds.set(dir, fd);
      this.pinned.add(dir);
      return fd;
    }
    if (!dir.parent) throw Object.assign(new Error("hostfs: detached directory"), { errno: -ENOENT.code });
    const parentFd = this.dirFd(dir.parent);
    fd = fs.openSync(inDir(parentFd, dir.name), DIR_OPEN);
    const st = fs.fstatSync(fd, { bigint: true });
    if (st.dev !== dir.hostDev || st.ino !== dir.hostIno) {
      // Replaced since we looked (a host process renamed something): refuse rather than guess.
      fs.closeSync(fd);
      throw Object.assign(new Error("hostfs: directory changed"), { errno: -ENOENT.code });
    }
    this.dirFds.set(dir, fd);
    this.pinned.add(dir);
    this.evict();
    return fd;
  }

  private evict(): void {
    if (this.dirFds.size <= DIR_FD_CACHE) return;
    for (const [dir, fd] of this.dirFds) {
      if (this.dirFds.size <= DIR_FD_CACHE) break;
      if (this.pinned.has(dir)) continue;
      this.dirFds.delete(dir);
      fs.closeSync(fd);
    }
  }

  /** The host path of `name` inside directory `dir`, good for one host call. */
  at(dir: HostInode, name: string): Buffer {
    checkName(name);
    return inDir(this.dirFd(dir), name);
  }

  /** A directory was moved or removed: its descriptor still names it, but its place has changed. */
  forget(dir: HostInode): void {
    const fd = this.dirFds.get(dir);
    if (fd !== undefined && !this.pinned.has(dir)) {
      this.dirFds.delete(dir);
      fs.closeSync(fd);
    }
  }

  /** Close every host descriptor (the sandbox is done). */
  close(): void {
    for (const fd of this.dirFds.values()) fs.closeSync(fd);
    this.dirFds.clear();
    fs.closeSync(this.rootFd);
  }

  /** Give a new host file the guest's ids when syscage may (it runs as root). */
  ownNew(path: Buffer, cred: Cred): void {
    if (this.chownNew) fs.lchownSync(path, cred.uid, cred.gid);
  }
}

function toStat(st: fs.BigIntStats): StatInfo {
  return {
    dev: Number(st.dev), ino: Number(st.ino), mode: Number(st.mode), nlink: Number(st.nlink), uid: Number(st.uid),
    gid: Number(st.gid), rdev: Number(st.rdev), size: Number(st.size), blksize: Number(st.blksize), blocks: Number(st.blocks),
    atimeMs: Number(st.atimeNs) / 1e6, mtimeMs: Number(st.mtimeNs) / 1e6, ctimeMs: Number(st.ctimeNs) / 1e6,
  };
}

export class HostInode extends Inode {
  readonly ino: number;
  readonly hostDev: bigint;
  readonly hostIno: bigint;
  private attrs: StatInfo;

  constructor(readonly fs: HostFs, st: fs.BigIntStats, public parent: HostInode | undefined, public name: string) {
    super();
    this.hostDev = st.dev;
    this.hostIno = st.ino;
    this.ino = Number(st.ino);
    this.attrs = toStat(st);
  }

  /** A fresh lstat of this inode arrived (a lookup found it again, maybe under another name). */
  seen(st: fs.BigIntStats, parent: HostInode | undefined, name: string): void {
    this.attrs = toStat(st);
    if (parent) {
      this.parent = parent;
      this.name = name;
    }
  }

  get mode(): number { return this.attrs.mode; }
  get uid(): number { return this.attrs.uid; }
  get gid(): number { return this.attrs.gid; }
  get nlink(): number { return this.attrs.nlink; }

  stat(): StatInfo {
    const r = this.fs.op(() => {
      const st = this.parent
        ? fs.lstatSync(this.fs.at(this.parent, this.name), { bigint: true })
        : fs.fstatSync(this.fs.rootFd, { bigint: true });
      if (st.dev !== this.hostDev || st.ino !== this.hostIno) return undefined;
      this.attrs = toStat(st);
      return this.attrs;
    });
    // Gone or replaced on the host: report what we knew, as an unlinked file would.
    if (r instanceof Errno || r === undefined) return { ...this.attrs, nlink: 0 };
    return r;
  }

  private writable(): 0 | Errno { return this.fs.readOnly ? EROFS : 0; }

  override lookup(_t: Task, name: string): Inode | Errno {
    if (!isDir(this.mode)) return super.lookup(_t, name);
    return this.fs.op(() => this.fs.inode(fs.lstatSync(this.fs.at(this, name), { bigint: true }), this, name));
  }

  override readdir(_t: Task): DirEntry[] | Errno {
    if (!isDir(this.mode)) return super.readdir(_t);
    return this.fs.op(() => {
      const fd = this.fs.dirFd(this);
      const out: DirEntry[] = [];
      // opendir keeps the host's own order (readdirSync sorts), as getdents would see it.
      const dir = fs.opendirSync(magic(fd) as unknown as string, { encoding: "buffer" as BufferEncoding });
      const names: string[] = [];
      try {
        for (let e = dir.readSync(); e; e = dir.readSync()) names.push(Buffer.from(e.name as unknown as Buffer).toString("latin1"));
      } finally {
        dir.closeSync();
      }
      for (const name of names) {
        try {
          const st = fs.lstatSync(inDir(fd, name), { bigint: true });
          out.push({ name, ino: Number(st.ino), type: dtype(Number(st.mode)) });
        } catch {
          // Removed between readdir and lstat: it is gone.
        }
      }
      return out;
    });
  }

  /** Make `name` with `make`, then return its inode. */
  private made(name: string, cred: Cred, make: (path: Buffer) => void): Inode | Errno {
    const ro = this.writable();
    if (ro) return ro;
    return this.fs.op(() => {
      const path = this.fs.at(this, name);
      make(path);
      this.fs.ownNew(path, cred);
      return this.fs.inode(fs.lstatSync(path, { bigint: true }), this, name);
    });
  }

  override create(name: string, mode: number, cred: Cred): Inode | Errno {
    return this.made(name, cred, (p) => fs.closeSync(fs.openSync(p, H.O_CREAT | H.O_EXCL | H.O_WRONLY | H.O_NOFOLLOW, mode & 0o7777)));
  }

  override mkdir(name: string, mode: number, cred: Cred): Inode | Errno {
    return this.made(name, cred, (p) => {
      fs.mkdirSync(p, { mode: mode & 0o7777 });
      // mkdir's mode passes through the host's umask; set exactly what the guest asked for.
      fs.chmodSync(inDir(this.fs.dirFd(this), name), mode & 0o7777);
    });
  }

  /** Node cannot mknod: fifos, sockets and devices cannot be made on a host directory. */
  override mknod(): Inode | Errno {
    return this.fs.readOnly ? EROFS : EPERM;
  }

  override symlink(name: string, target: string, cred: Cred): Inode | Errno {
    return this.made(name, cred, (p) => fs.symlinkSync(Buffer.from(target, "latin1"), p));
  }

  override link(name: string, target: Inode): 0 | Errno {
    const ro = this.writable();
    if (ro) return ro;
    if (!(target instanceof HostInode) || target.fs !== this.fs || !target.parent) return EINVAL;
    const from = target.parent;
    return this.fs.op(() => {
      // link(2) does not follow a symlink at the source.
      fs.linkSync(this.fs.at(from, target.name), this.fs.at(this, name));
      return 0 as const;
    });
  }

  override unlink(name: string): 0 | Errno {
    const ro = this.writable();
    if (ro) return ro;
    return this.fs.op(() => {
      fs.unlinkSync(this.fs.at(this, name));
      return 0 as const;
    });
  }

  override rmdir(name: string): 0 | Errno {
    const ro = this.writable();
    if (ro) return ro;
    return this.fs.op(() => {
      const path = this.fs.at(this, name);
      const st = fs.lstatSync(path, { bigint: true });
      fs.rmdirSync(path);
      const gone = this.fs.inode(st, undefined, name);
      this.fs.forget(gone);
      gone.parent = undefined;
      return 0 as const;
    });
  }

  override rename(oldName: string, newDir: Inode, newName: string, flags: number): 0 | Errno {
    const ro = this.writable();
    if (ro) return ro;
    if (!(newDir instanceof HostInode) || newDir.fs !== this.fs) return EINVAL;
    return this.fs.op(() => {
      const from = this.fs.at(this, oldName), to = this.fs.at(newDir, newName);
      const moved = this.fs.inode(fs.lstatSync(from, { bigint: true }), this, oldName);
      if (flags & RENAME_EXCHANGE) {
        const other = this.fs.inode(fs.lstatSync(to, { bigint: true }), newDir, newName);
        // Node has no renameat2: swap through a temporary name in the source directory.
        const tmp = `.syscage-exchange-${process.pid}-${Date.now()}`;
        fs.renameSync(from, this.fs.at(this, tmp));
        fs.renameSync(to, from);
        fs.renameSync(this.fs.at(this, tmp), to);
        other.seen(fs.lstatSync(from, { bigint: true }), this, oldName);
        this.fs.forget(other);
      } else {
        const taken = !(host(() => fs.lstatSync(to)) instanceof Errno);
        if (flags & RENAME_NOREPLACE && taken) return EEXIST;
        fs.renameSync(from, to);
      }
      moved.seen(fs.lstatSync(to, { bigint: true }), newDir, newName);
      this.fs.forget(moved);
      return 0 as const;
    });
  }

  override readlink(_t: Task): string | Errno {
    if (!isLnk(this.mode) || !this.parent) return EINVAL;
    const dir = this.parent;
    return this.fs.op(() => (fs.readlinkSync(this.fs.at(dir, this.name), { encoding: "buffer" }) as Buffer).toString("latin1"));
  }

  override open(_t: Task, flags: number, path: VfsPath): OpenResult {
    const type = this.mode & S_IFMT;
    if (type === S_IFCHR || type === S_IFBLK) return EACCES;
    if (type === S_IFIFO || type === S_IFSOCK) return ENXIO;
    const data = this.openData(flags & O_ACCMODE);
    return data instanceof Errno ? data : new RegularFile(flags, path, data);
  }

  override openData(acc: number): FileData | Errno {
    if ((this.mode & S_IFMT) !== S_IFREG || !this.parent) return EINVAL;
    if (acc !== 0 && this.fs.readOnly) return EROFS;
    const dir = this.parent;
    const fd = this.fs.op(() => {
      const hostFlags = (acc === 1 ? H.O_WRONLY : acc === 2 ? H.O_RDWR : H.O_RDONLY) | H.O_NOFOLLOW | H.O_NONBLOCK;
      const fd = fs.openSync(this.fs.at(dir, this.name), hostFlags);
      const st = fs.fstatSync(fd, { bigint: true });
      if (!st.isFile() || st.dev !== this.hostDev || st.ino !== this.hostIno) {
        fs.closeSync(fd);
        return ENOENT;
      }
      return fd;
    });
    if (fd instanceof Errno) return fd;
    return new HostFileData(fd, this);
  }

  /** Host descriptors the guest has open on this file: they name it whatever happens to its name. */
  readonly openFds = new Set<number>();

  /** Run `f` on a path that names this inode itself and is never re-resolved through a symlink. */
  private onSelf<T>(f: (self: Buffer) => T): T | Errno {
    return this.fs.op(() => {
      if (isDir(this.mode)) return f(magic(this.fs.dirFd(this)));
      for (const fd of this.openFds) return f(magic(fd));
      if (!this.parent) return ENOENT;
      const fd = fs.openSync(this.fs.at(this.parent, this.name), NODE_OPEN);
      try {
        const st = fs.fstatSync(fd, { bigint: true });
        if (st.dev !== this.hostDev || st.ino !== this.hostIno) return ENOENT;
        return f(magic(fd));
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  override setattr(a: SetAttr): 0 | Errno {
    const ro = this.writable();
    if (ro) return ro;
    const link = isLnk(this.mode);
    const linkPath = (): Buffer => this.fs.at(this.parent!, this.name);
    const r = link && this.parent
      ? this.fs.op(() => this.apply(a, linkPath, true))
      : this.onSelf((self) => this.apply(a, () => self, false));
    if (r instanceof Errno) return r;
    this.stat();
    return 0;
  }

  private apply(a: SetAttr, path: () => Buffer, link: boolean): 0 {
    if (a.size !== undefined) fs.truncateSync(path(), a.size);
    if (a.mode !== undefined && !link) fs.chmodSync(path(), a.mode & 0o7777);
    if (a.uid !== undefined || a.gid !== undefined) {
      (link ? fs.lchownSync : fs.chownSync)(path(), a.uid ?? -1, a.gid ?? -1);
    }
    if (a.atimeMs !== undefined || a.mtimeMs !== undefined) {
      const cur = this.attrs;
      const at = (a.atimeMs ?? cur.atimeMs) / 1000, mt = (a.mtimeMs ?? cur.mtimeMs) / 1000;
      (link ? fs.lutimesSync : fs.utimesSync)(path(), at, mt);
    }
    return 0;
  }
}

/** A host file opened for the guest: positioned reads and writes on the host descriptor. */
class HostFileData implements FileData {
  constructor(private readonly fd: number, private readonly inode: HostInode) {
    inode.openFds.add(fd);
  }

  read(pos: number, len: number): Uint8Array | Errno {
    return host(() => {
      const buf = Buffer.alloc(Math.min(len, MAX_READ));
      const n = fs.readSync(this.fd, buf, 0, buf.length, pos);
      return buf.subarray(0, n);
    });
  }

  write(pos: number, data: Uint8Array): number | Errno {
    return host(() => {
      let done = 0;
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, pos + done);
      return done;
    });
  }

  size(): number {
    const r = host(() => fs.fstatSync(this.fd).size);
    return r instanceof Errno ? 0 : r;
  }

  truncate(len: number): 0 | Errno {
    return host(() => { fs.ftruncateSync(this.fd, len); return 0 as const; });
  }

  sync(): 0 | Errno {
    return host(() => { fs.fsyncSync(this.fd); return 0 as const; });
  }

  close(): void {
    this.inode.openFds.delete(this.fd);
    host(() => fs.closeSync(this.fd));
  }
}

