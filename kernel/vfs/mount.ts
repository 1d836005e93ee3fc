/**
 * Mounts and the mount namespace: which filesystem is attached where.
 * A mount is attached on a directory inode of its parent mount; walking onto
 * that inode continues at the mount's root, and `..` from the mount's root
 * continues from the mountpoint (Linux: follow_mount / follow_dotdot).
 */
import { Dentry, type Filesystem, type Inode, type VfsPath } from "./inode";

export interface MountFlags {
  readOnly?: boolean;
  nosuid?: boolean;
  nodev?: boolean;
  noexec?: boolean;
}

/** statfs f_flags / /proc/mounts options, include/linux/statfs.h ST_*. */
export const ST_RDONLY = 1, ST_NOSUID = 2, ST_NODEV = 4, ST_NOEXEC = 8, ST_RELATIME = 4096;

let nextMountId = 21;

export class Mount {
  readonly id = nextMountId++;
  /** Mounts attached on directories of this one, by mountpoint inode. */
  readonly children = new Map<Inode, Mount>();
  readonly rootDentry: Dentry;

  constructor(
    readonly fs: Filesystem,
    readonly flags: MountFlags,
    /** What /proc/mounts shows as the source ("tmpfs", a host path...). */
    readonly source: string,
    /** Where this mount is attached; undefined for the namespace root. */
    readonly mountpoint: VfsPath | undefined,
  ) {
    this.rootDentry = new Dentry("/", undefined, fs.root);
  }

  get parent(): Mount | undefined { return this.mountpoint?.mnt; }
  get readOnly(): boolean { return !!this.flags.readOnly || this.fs.readOnly; }
  get root(): VfsPath { return { mnt: this, d: this.rootDentry }; }

  /** statfs f_flags. */
  stFlags(): number {
    const f = this.flags;
    return (this.readOnly ? ST_RDONLY : 0) | (f.nosuid ? ST_NOSUID : 0) | (f.nodev ? ST_NODEV : 0) |
      (f.noexec ? ST_NOEXEC : 0) | ST_RELATIME;
  }

  /** The option string of /proc/mounts ("rw,nosuid,nodev,relatime,size=..."). */
  optionString(): string {
    const f = this.flags;
    const opts = [this.readOnly ? "ro" : "rw"];
    if (f.nosuid) opts.push("nosuid");
    if (f.nodev) opts.push("nodev");
    if (f.noexec) opts.push("noexec");
    opts.push("relatime");
    const extra = this.fs.options();
    if (extra) opts.push(extra);
    return opts.join(",");
  }
}

export class MountNamespace {
  readonly root: Mount;
  private readonly all: Mount[] = [];

  constructor(rootFs: Filesystem, flags: MountFlags = {}, source = "rootfs") {
    this.root = new Mount(rootFs, flags, source, undefined);
    this.all.push(this.root);
  }

  /** Attach `fs` on the directory at `at` (already the topmost mount there). */
  mount(at: VfsPath, fs: Filesystem, flags: MountFlags, source: string): Mount {
    const m = new Mount(fs, flags, source, at);
    at.mnt.children.set(at.d.inode, m);
    this.all.push(m);
    return m;
  }

  /** The mount attached on `inode` of `mnt`, if any. */
  mountedOn(mnt: Mount, inode: Inode): Mount | undefined {
    return mnt.children.size ? mnt.children.get(inode) : undefined;
  }

  /** Let every filesystem close what it holds on the host (the sandbox is over). */
  release(): void {
    for (const m of this.all) (m.fs as Filesystem & { close?(): void }).close?.();
  }

  /** Every mount, in the order they were made (the order of /proc/mounts). */
  mounts(): readonly Mount[] {
    return this.all;
  }
}
