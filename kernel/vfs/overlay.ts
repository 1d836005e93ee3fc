/**
 * An overlay (Linux: fs/overlayfs) of a read-only lower filesystem (a host
 * directory) and an in-memory upper one (tmpfs): the guest sees the union,
 * every change lands in the upper layer, the lower is never written, and the
 * upper is discarded with the sandbox.
 *
 * - A lower file is copied up (data, mode, owner, times) the first time it is
 *   written or its attributes change; its parents are copied up first.
 * - Removing a lower name leaves a whiteout, kept in the directory's overlay
 *   inode (the upper is private, so whiteouts need no on-disk form); a
 *   directory made over a whiteout is opaque: the lower one stays hidden.
 * - Renaming a directory that has lower contents is EXDEV, as overlayfs
 *   without redirect_dir says; mv and cp then copy instead.
 */
import { EXDEV, ENOENT, Errno } from "../errno";
import type { StatInfo } from "../file";
import type { Task } from "../task";
import { Filesystem, Inode, OVERLAYFS_SUPER_MAGIC, type OpenResult, type StatFs, type VfsPath } from "./inode";
import { TmpFs, RENAME_EXCHANGE } from "./tmpfs";
import { SimpleXattrs, TMPFS_XATTR_PREFIXES } from "./xattr";
import { O_ACCMODE, S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, isDir, type Cred, type DirEntry, type SetAttr } from "./types";

/** Inode numbers for files that exist only in the upper layer, clear of small host numbers and below 2^32 (i386 stat). */
const UPPER_INO_BASE = 0xf0000000;
const COPY_CHUNK = 1 << 20;

export class OverlayFs extends Filesystem {
  readonly type = "overlay";
  readonly root: OvlInode;
  readonly upper: TmpFs;
  private readonly byLower = new Map<Inode, OvlInode>();
  readonly byUpper = new Map<Inode, OvlInode>();
  private nextIno = UPPER_INO_BASE;

  constructor(readonly lower: Filesystem, upperSize?: number) {
    super();
    const lr = lower.root;
    this.upper = new TmpFs({ mode: lr.mode & 0o7777, uid: lr.uid, gid: lr.gid, size: upperSize });
    const st = lr.stat();
    this.upper.root.setattr({ atimeMs: st.atimeMs, mtimeMs: st.mtimeMs });
    this.root = new OvlInode(this, this.upper.root, lr, undefined, "/");
    this.byUpper.set(this.upper.root, this.root);
    this.byLower.set(lr, this.root);
  }

  statfs(): StatFs {
    return { ...this.lower.statfs(), type: OVERLAYFS_SUPER_MAGIC };
  }

  override options(): string { return "lowerdir=host,upperdir=memory"; }

  allocIno(): number { return this.nextIno++; }

  close(): void { (this.lower as Filesystem & { close?(): void }).close?.(); }

  /** The overlay inode for a lower inode found as `name` in `parent` (one object per lower inode). */
  ofLower(lower: Inode, parent: OvlInode, name: string): OvlInode {
    let o = this.byLower.get(lower);
    if (!o) {
      o = new OvlInode(this, undefined, lower, parent, name);
      this.byLower.set(lower, o);
    } else if (!o.upper) {
      o.parent = parent;
      o.name = name;
    }
    return o;
  }

  /** The overlay inode for an upper inode this overlay made. */
  ofUpper(upper: Inode, parent: OvlInode, name: string): OvlInode {
    let o = this.byUpper.get(upper);
    if (!o) {
      o = new OvlInode(this, upper, undefined, parent, name);
      this.byUpper.set(upper, o);
    }
    return o;
  }
}

export class OvlInode extends Inode {
  readonly ino: number;
  /** Names of the lower directory that were removed here. */
  readonly whiteouts = new Set<string>();
  /** A directory made over a whiteout: the lower directory of that name stays hidden. */
  opaque = false;
  /** The name is gone (unlinked or replaced) while the lower file still exists. */
  gone = false;

  constructor(readonly fs: OverlayFs, public upper: Inode | undefined, readonly lower: Inode | undefined,
    public parent: OvlInode | undefined, public name: string) {
    super();
    this.ino = lower ? lower.ino : fs.allocIno();
  }

  private get real(): Inode { return (this.upper ?? this.lower)!; }
  get mode(): number { return this.real.mode; }
  get uid(): number { return this.real.uid; }
  get gid(): number { return this.real.gid; }
  get nlink(): number { return this.gone ? 0 : this.real.nlink; }

  /**
   * A merged directory shows its lower size and link count with the upper's
   * mode, owner and times (which copy-up took from the lower); anything else
   * is its topmost layer.
   */
  stat(): StatInfo {
    let st = this.real.stat();
    if (this.upper && this.lower && isDir(st.mode)) {
      const u = st;
      st = { ...this.lower.stat(), mode: u.mode, uid: u.uid, gid: u.gid, atimeMs: u.atimeMs, mtimeMs: u.mtimeMs, ctimeMs: u.ctimeMs };
    }
    return { ...st, dev: this.fs.dev, ino: this.ino, nlink: this.gone ? 0 : st.nlink };
  }

  override lookup(t: Task, name: string): Inode | Errno {
    if (!isDir(this.mode)) return super.lookup(t, name);
    if (this.upper) {
      const u = this.upper.lookup(t, name);
      if (!(u instanceof Errno)) return this.fs.ofUpper(u, this, name);
      if (u !== ENOENT) return u;
    }
    if (this.whiteouts.has(name) || this.opaque || !this.lower) return ENOENT;
    const l = this.lower.lookup(t, name);
    return l instanceof Errno ? l : this.fs.ofLower(l, this, name);
  }

  override readdir(t: Task): DirEntry[] | Errno {
    if (!isDir(this.mode)) return super.readdir(t);
    const out = new Map<string, DirEntry>();
    if (this.lower && !this.opaque) {
      const entries = this.lower.readdir(t);
      if (entries instanceof Errno) return entries;
      for (const e of entries) if (!this.whiteouts.has(e.name)) out.set(e.name, e);
    }
    if (this.upper) {
      const entries = this.upper.readdir(t);
      if (entries instanceof Errno) return entries;
      for (const e of entries) {
        const o = this.lookup(t, e.name);
        out.set(e.name, { name: e.name, ino: o instanceof Errno ? e.ino : o.ino, type: e.type });
      }
    }
    return [...out.values()];
  }

  /** Give this inode an upper copy (parents first), so it can change. */
  copyUp(): 0 | Errno {
    if (this.upper) return 0;
    const parent = this.parent;
    const lower = this.lower!;
    if (!parent) return ENOENT;
    const r = parent.copyUp();
    if (r) return r;
    const dir = parent.upper!;
    const st = lower.stat();
    const cred: Cred = { uid: st.uid, gid: st.gid };
    const perm = st.mode & 0o7777;
    let u: Inode | Errno;
    switch (st.mode & S_IFMT) {
      case S_IFDIR: u = dir.mkdir(this.name, perm, cred); break;
      case S_IFLNK: {
        const target = lower.readlink(undefined as never);
        if (target instanceof Errno) return target;
        u = dir.symlink(this.name, target, cred);
        break;
      }
      case S_IFREG: u = copyFile(dir, this.name, lower, perm, cred); break;
      default: u = dir.mknod(this.name, st.mode, st.rdev, cred);
    }
    if (u instanceof Errno) return u;
    u.setattr({ atimeMs: st.atimeMs, mtimeMs: st.mtimeMs });
    this.upper = u;
    this.fs.byUpper.set(u, this);
    return 0;
  }

  /** Make a name in this directory's upper layer with `make`. */
  private make(name: string, make: (dir: Inode) => Inode | Errno, opaqueIfWhiteout: boolean): Inode | Errno {
    const r = this.copyUp();
    if (r) return r;
    const hidLower = this.whiteouts.has(name);
    const u = make(this.upper!);
    if (u instanceof Errno) return u;
    this.whiteouts.delete(name);
    const o = this.fs.ofUpper(u, this, name);
    if (opaqueIfWhiteout && hidLower) o.opaque = true;
    return o;
  }

  override create(name: string, mode: number, cred: Cred): Inode | Errno {
    return this.make(name, (d) => d.create(name, mode, cred), false);
  }

  override mkdir(name: string, mode: number, cred: Cred): Inode | Errno {
    return this.make(name, (d) => d.mkdir(name, mode, cred), true);
  }

  override mknod(name: string, mode: number, rdev: number, cred: Cred): Inode | Errno {
    return this.make(name, (d) => d.mknod(name, mode, rdev, cred), false);
  }

  override symlink(name: string, target: string, cred: Cred): Inode | Errno {
    return this.make(name, (d) => d.symlink(name, target, cred), false);
  }

  override link(name: string, target: Inode): 0 | Errno {
    if (!(target instanceof OvlInode) || target.fs !== this.fs) return EXDEV;
    const r = target.copyUp() || this.copyUp();
    if (r) return r;
    const l = this.upper!.link(name, target.upper!);
    if (l) return l;
    this.whiteouts.delete(name);
    return 0;
  }

  /** Remove `name` from the merged view: from the upper layer, and by a whiteout from the lower. */
  private remove(name: string, dir: boolean): 0 | Errno {
    const victim = this.lookup(undefined as never, name);
    if (victim instanceof Errno) return victim;
    if (!(victim instanceof OvlInode)) return ENOENT;
    const r = this.copyUp();
    if (r) return r;
    if (victim.upper) {
      if (dir) {
        // Whiteouts inside an otherwise empty directory are the overlay's own bookkeeping.
        const u = this.upper!.rmdir(name);
        if (u) return u;
      } else {
        const u = this.upper!.unlink(name);
        if (u) return u;
      }
    }
    if (victim.lower) this.whiteouts.add(name);
    if (victim.lower || victim.nlink === 0) victim.gone = true;
    return 0;
  }

  override unlink(name: string): 0 | Errno { return this.remove(name, false); }
  override rmdir(name: string): 0 | Errno { return this.remove(name, true); }

  override rename(oldName: string, newDir: Inode, newName: string, flags: number): 0 | Errno {
    if (!(newDir instanceof OvlInode) || newDir.fs !== this.fs) return EXDEV;
    const src = this.lookup(undefined as never, oldName);
    if (src instanceof Errno) return src;
    if (!(src instanceof OvlInode)) return ENOENT;
    const dstFound = newDir.lookup(undefined as never, newName);
    const dst = dstFound instanceof OvlInode ? dstFound : undefined;
    if (isDir(src.mode) && src.lower) return EXDEV;
    if (flags & RENAME_EXCHANGE && (src.lower || dst?.lower)) return EXDEV;
    const r = this.copyUp() || newDir.copyUp() || src.copyUp() || (flags & RENAME_EXCHANGE && dst ? dst.copyUp() : 0);
    if (r) return r;
    const hidLower = newDir.whiteouts.has(newName) || !!dst?.lower;
    const m = this.upper!.rename(oldName, newDir.upper!, newName, flags);
    if (m) return m;
    newDir.whiteouts.delete(newName);
    if (flags & RENAME_EXCHANGE && dst) {
      dst.parent = this;
      dst.name = oldName;
    } else {
      if (src.lower) this.whiteouts.add(oldName);
      if (dst && dst !== src) dst.gone = true;
      // A directory moved over a hidden lower name must not merge with it.
      if (isDir(src.mode) && hidLower) src.opaque = true;
    }
    src.parent = newDir;
    src.name = newName;
    return 0;
  }

  override readlink(t: Task): string | Errno { return this.real.readlink(t); }

  override setattr(a: SetAttr): 0 | Errno {
    const r = this.copyUp();
    return r || this.upper!.setattr(a);
  }

  /**
   * Attributes live in the upper layer: a lower file (a host file, whose own
   * attributes syscage does not read) has none until a set copies it up.
   */
  override getxattr(name: string): Uint8Array | Errno {
    return this.upper ? this.upper.getxattr(name) : new SimpleXattrs(TMPFS_XATTR_PREFIXES).get(name);
  }

  override setxattr(name: string, value: Uint8Array | undefined, flags: number): 0 | Errno {
    const r = this.copyUp();
    return r || this.upper!.setxattr(name, value, flags);
  }

  override listxattr(trusted: boolean): string[] { return this.upper?.listxattr(trusted) ?? []; }

  override open(t: Task, flags: number, path: VfsPath): OpenResult {
    if ((flags & O_ACCMODE) !== 0 && (this.mode & S_IFMT) === S_IFREG) {
      const r = this.copyUp();
      if (r) return r;
    }
    return this.real.open(t, flags, path);
  }
}

/** Copy a lower regular file's bytes into a new upper file. */
function copyFile(dir: Inode, name: string, lower: Inode, perm: number, cred: Cred): Inode | Errno {
  const src = lower.openData?.(0);
  if (!src) return EXDEV;
  if (src instanceof Errno) return src;
  try {
    const u = dir.create(name, perm, cred);
    if (u instanceof Errno) return u;
    const dst = u.openData!(2);
    if (dst instanceof Errno) return dst;
    for (let pos = 0; ;) {
      const chunk = src.read(pos, COPY_CHUNK);
      if (chunk instanceof Errno) return chunk;
      if (chunk.length === 0) break;
      const w = dst.write(pos, chunk);
      if (w instanceof Errno) return w;
      pos += chunk.length;
    }
    return u;
  } finally {
    src.close();
  }
}

