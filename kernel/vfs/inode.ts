/**
 * Inodes, filesystems, dentries and paths: the objects the VFS walks.
 *
 * An Inode is one file of one filesystem. Like FileDescription, every
 * operation of the base class refuses with the errno Linux gives for an
 * inode that cannot do it (a regular file has no lookup: ENOTDIR), so a
 * filesystem implements only what its inodes support. The VFS (namei.ts)
 * does every check that does not depend on the filesystem: permissions,
 * read-only mounts, sticky directories, "." and "..", mount crossings.
 *
 * Dentries are not cached: a Dentry records how one walk reached an inode
 * (its name and the dentry of its parent directory), which is what `..`,
 * getcwd and /proc/self/fd need. Identity lives in inodes, which each
 * filesystem keeps stable (tmpfs objects, host inodes by device and number).
 */
import { EINVAL, ENOTDIR, EOPNOTSUPP, EPERM, EXDEV, type Errno } from "../errno";
import type { Block, FileDescription, StatInfo } from "../file";
import type { Task } from "../task";
import type { FileData } from "./file";
import type { Mount } from "./mount";
import { makedev, type Cred, type DirEntry, type SetAttr } from "./types";

/** An open file, an error, or (a fifo waiting for its other end) a wait. */
export type OpenResult = FileDescription | Errno | Block<OpenResult>;

/** What statfs(2) reports, arch-neutral. */
export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
}

let nextAnonMinor = 20;
/** A device number for a filesystem without a device (Linux: get_anon_bdev, major 0). */
export function anonDev(): number {
  return makedev(0, nextAnonMinor++);
}

export abstract class Filesystem {
  /** st_dev of every inode. */
  readonly dev = anonDev();
  /** The type /proc/mounts names (tmpfs, proc, overlay...). */
  abstract readonly type: string;
  abstract readonly root: Inode;
  /** Whether the filesystem itself cannot be written (a strictly read-only host directory). */
  readonly readOnly: boolean = false;
  /** Extra options for /proc/mounts ("size=...,mode=755"). */
  options(): string { return ""; }
  abstract statfs(): StatFs;
}

/** Magic numbers for statfs f_type, include/uapi/linux/magic.h. */
export const TMPFS_MAGIC = 0x01021994, PROC_SUPER_MAGIC = 0x9fa0, OVERLAYFS_SUPER_MAGIC = 0x794c7630,
  DEVPTS_SUPER_MAGIC = 0x1cd1, SYSFS_MAGIC = 0x62656572;

export abstract class Inode {
  abstract readonly fs: Filesystem;
  abstract readonly ino: number;
  /** File type and permission bits, current. */
  abstract get mode(): number;
  abstract get uid(): number;
  abstract get gid(): number;
  /** 0 once the last name is gone (an unlinked directory cannot be entered). */
  abstract get nlink(): number;
  abstract stat(): StatInfo;
  /**
   * Whether the inode is seen through a read-only bind of a writable
   * filesystem (a container's /proc/sys): opening it for writing, changing
   * its attributes and access(W_OK) are EROFS, as on a read-only mount.
   */
  get readOnly(): boolean { return false; }

  // --- directories (the VFS has already checked permissions and the name) ---
  lookup(_t: Task, _name: string): Inode | Errno { return ENOTDIR; }
  /** Entries other than "." and "..". */
  readdir(_t: Task): DirEntry[] | Errno { return ENOTDIR; }
  /** A new empty regular file (EEXIST when the name is taken). */
  create(_name: string, _mode: number, _cred: Cred): Inode | Errno { return ENOTDIR; }
  mkdir(_name: string, _mode: number, _cred: Cred): Inode | Errno { return ENOTDIR; }
  /** A fifo, socket or device node. */
  mknod(_name: string, _mode: number, _rdev: number, _cred: Cred): Inode | Errno { return ENOTDIR; }
  symlink(_name: string, _target: string, _cred: Cred): Inode | Errno { return ENOTDIR; }
  /** A new name for `target`, an inode of the same filesystem. */
  link(_name: string, _target: Inode): 0 | Errno { return ENOTDIR; }
  unlink(_name: string): 0 | Errno { return ENOTDIR; }
  rmdir(_name: string): 0 | Errno { return ENOTDIR; }
  /**
   * Move `oldName` here to `newName` in `newDir` (same filesystem), replacing
   * what is there; the VFS has checked types, emptiness rules are the fs's.
   * `flags` are renameat2's RENAME_NOREPLACE / RENAME_EXCHANGE.
   */
  rename(_oldName: string, _newDir: Inode, _newName: string, _flags: number): 0 | Errno { return EXDEV; }

  // --- symlinks ---
  readlink(_t: Task): string | Errno { return EINVAL; }
  /**
   * A "magic" link (/proc/self/cwd, /proc/self/fd/N): following it jumps to a
   * path the kernel already holds instead of resolving text (Linux: nd_jump_link).
   */
  jump?(t: Task, link: VfsPath): VfsPath | Errno;

  // --- files ---
  /**
   * Open this inode. The VFS calls it after every check; `path` is how the
   * caller reached it. Regular files return a RegularFile, devices their own.
   */
  abstract open(t: Task, flags: number, path: VfsPath): OpenResult;
  /** The bytes of a regular file, opened for reading (acc 0) or writing too: copy-up and internal copies use it. */
  openData?(acc: number): FileData | Errno;
  setattr(_attr: SetAttr): 0 | Errno { return EPERM; }

  // --- extended attributes (the VFS has checked xattr_permission; names keep their prefix) ---
  /** The value of attribute `name`: EOPNOTSUPP on a filesystem without xattrs (no IOP_XATTR). */
  getxattr(_name: string): Uint8Array | Errno { return EOPNOTSUPP; }
  /** Set attribute `name`, or remove it when `value` is undefined; `flags` are XATTR_CREATE / XATTR_REPLACE. */
  setxattr(_name: string, _value: Uint8Array | undefined, _flags: number): 0 | Errno { return EOPNOTSUPP; }
  /** The attribute names; trusted.* only when `trusted` (CAP_SYS_ADMIN). A filesystem without xattrs lists none. */
  listxattr(_trusted: boolean): string[] { return []; }
}

/** How one walk reached an inode: its name and its parent directory's dentry (undefined at a mount's root). */
export class Dentry {
  constructor(readonly name: string, readonly parent: Dentry | undefined, readonly inode: Inode) {}
}

/** A location in the mount tree (Linux: struct path). */
export interface VfsPath {
  readonly mnt: Mount;
  readonly d: Dentry;
}

/** A fresh StatInfo with Linux's defaults for a synthetic file. */
export function baseStat(fs: Filesystem, ino: number, mode: number, extra: Partial<StatInfo> = {}): StatInfo {
  const now = Date.now();
  return {
    dev: fs.dev, ino, mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0,
    atimeMs: now, mtimeMs: now, ctimeMs: now, ...extra,
  };
}
