/**
 * Extended attributes (Linux: fs/xattr.c for the VFS side, the simple_xattrs
 * of mm/shmem.c for tmpfs's storage).
 *
 * The VFS here does what vfs_setxattr / vfs_getxattr / vfs_removexattr /
 * vfs_listxattr do before a filesystem sees the call: xattr_permission (who
 * may touch which namespace) and the capability checks of the security
 * namespace (security/commoncap.c). Each Inode then stores what it supports:
 * the base Inode refuses every name with EOPNOTSUPP and lists nothing, as a
 * filesystem without IOP_XATTR does; tmpfs keeps a SimpleXattrs.
 */
import { capable } from "../capability";
import { E2BIG, EINVAL, ENODATA, EOPNOTSUPP, EPERM, ERANGE, EEXIST, EROFS, Errno } from "../errno";
import type { Task } from "../task";
import { IN_ATTRIB, notifyDentry } from "../inotify";
import type { Dentry, Inode, VfsPath } from "./inode";
import { credOf, permission } from "./namei";
import { MAY_READ, MAY_WRITE, S_ISVTX, isDir, isReg } from "./types";

/** setxattr(2) flags, include/uapi/linux/xattr.h. */
export const XATTR_CREATE = 1, XATTR_REPLACE = 2;
/** include/uapi/linux/limits.h: longest name, largest value, largest list. */
export const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536, XATTR_LIST_MAX = 65536;

const SECURITY = "security.", SYSTEM = "system.", TRUSTED = "trusted.", USER = "user.";
/** CAP_SYS_ADMIN (include/uapi/linux/capability.h). */
const CAP_SYS_ADMIN = 21;

/**
 * Linux: xattr_resolve_name — the handler prefix `name` starts with. A name
 * that is only a prefix ("user.") is EINVAL; no matching prefix is EOPNOTSUPP.
 */
function resolveName(prefixes: readonly string[], name: string): 0 | Errno {
  for (const p of prefixes) {
    if (name.startsWith(p)) return name.length === p.length ? EINVAL : 0;
  }
  return EOPNOTSUPP;
}

/**
 * In-memory attributes of one inode (Linux: struct simple_xattrs). Since
 * Linux 6.2 they are an rbtree whose leftmost name is the greatest
 * (rbtree_simple_xattr_cmp compares the other way round), so listxattr
 * reports names in descending strcmp order.
 */
export class SimpleXattrs {
  private readonly attrs = new Map<string, Uint8Array>();

  /** `prefixes`: the namespaces the filesystem has handlers for. */
  constructor(private readonly prefixes: readonly string[]) {}

  /** Linux: simple_xattr_get. */
  get(name: string): Uint8Array | Errno {
    const bad = resolveName(this.prefixes, name);
    if (bad) return bad;
    return this.attrs.get(name) ?? ENODATA;
  }

  /** Linux: simple_xattr_set — `value` undefined removes (the caller passes XATTR_REPLACE then). */
  set(name: string, value: Uint8Array | undefined, flags: number): 0 | Errno {
    const bad = resolveName(this.prefixes, name);
    if (bad) return bad;
    const exists = this.attrs.has(name);
    if (exists && flags & XATTR_CREATE) return EEXIST;
    if (!exists && flags & XATTR_REPLACE) return ENODATA;
    if (value === undefined) this.attrs.delete(name);
    else this.attrs.set(name, value.slice());
    return 0;
  }

  /** Linux: simple_xattr_list — trusted.* only for a caller with CAP_SYS_ADMIN. */
  list(trusted: boolean): string[] {
    return [...this.attrs.keys()].filter((n) => trusted || !n.startsWith(TRUSTED)).sort(byBytesDescending);
  }
}

const byBytesDescending = (a: string, b: string): number => (a < b ? 1 : a > b ? -1 : 0);

/**
 * The namespaces tmpfs has handlers for (mm/shmem.c shmem_xattr_handlers;
 * user.* since Linux 6.6). system.posix_acl_* is not modelled: syscage has no ACLs.
 */
export const TMPFS_XATTR_PREFIXES: readonly string[] = [SECURITY, TRUSTED, USER];

/** What the xattr syscalls act on: a located inode, or the inode behind a pipe or socket. */
export interface XattrTarget {
  inode: Pick<Inode, "mode" | "uid" | "getxattr" | "setxattr" | "listxattr">;
  /** The mount is read-only (mnt_want_write fails): EROFS for changes. */
  readOnly: boolean;
  /** How it was reached, for inotify (a pipe or socket has no name). */
  d?: Dentry;
}

export function pathTarget(p: VfsPath): XattrTarget {
  return { inode: p.d.inode, readOnly: p.mnt.readOnly || p.d.inode.readOnly, d: p.d };
}

/** fsnotify_xattr: a change is IN_ATTRIB. */
function notified(target: XattrTarget, r: 0 | Errno): 0 | Errno {
  if (r === 0 && target.d) notifyDentry(target.d, IN_ATTRIB);
  return r;
}

/** Linux: xattr_permission. */
function xattrPermission(t: Task, inode: XattrTarget["inode"], name: string, mask: number): 0 | Errno {
  const write = (mask & MAY_WRITE) !== 0;
  // security.* and system.* are left to the filesystem and the security module.
  if (name.startsWith(SECURITY) || name.startsWith(SYSTEM)) return 0;
  if (name.startsWith(TRUSTED)) {
    if (!capable(t.proc, CAP_SYS_ADMIN)) return write ? EPERM : ENODATA;
    return 0;
  }
  if (name.startsWith(USER)) {
    if (!isReg(inode.mode) && !isDir(inode.mode)) return write ? EPERM : ENODATA;
    const cred = credOf(t);
    // A sticky directory's user.* attributes are its owner's (inode_owner_or_capable).
    if (isDir(inode.mode) && inode.mode & S_ISVTX && write && cred.uid !== 0 && cred.uid !== inode.uid) return EPERM;
  }
  return permission(credOf(t), inode as Inode, mask);
}

/** security/commoncap.c cap_inode_setxattr / cap_inode_removexattr: security.* changes need CAP_SYS_ADMIN. */
function securityDenies(t: Task, name: string): boolean {
  return name.startsWith(SECURITY) && !capable(t.proc, CAP_SYS_ADMIN);
}

/** Linux: vfs_setxattr (after mnt_want_write); a zero-length value is an empty attribute, not a removal. */
export function setXattr(t: Task, target: XattrTarget, name: string, value: Uint8Array, flags: number): 0 | Errno {
  if (target.readOnly) return EROFS;
  const denied = xattrPermission(t, target.inode, name, MAY_WRITE);
  if (denied) return denied;
  if (securityDenies(t, name)) return EPERM;
  return notified(target, target.inode.setxattr(name, value, flags));
}

/** Linux: vfs_removexattr — the handler's set with no value and XATTR_REPLACE. */
export function removeXattr(t: Task, target: XattrTarget, name: string): 0 | Errno {
  if (target.readOnly) return EROFS;
  const denied = xattrPermission(t, target.inode, name, MAY_WRITE);
  if (denied) return denied;
  if (securityDenies(t, name)) return EPERM;
  return notified(target, target.inode.setxattr(name, undefined, XATTR_REPLACE));
}

/**
 * Linux: getxattr + vfs_getxattr. `size` 0 asks for the length; a value
 * longer than `size` is ERANGE.
 */
export function getXattr(t: Task, target: XattrTarget, name: string, size: number): Uint8Array | number | Errno {
  const denied = xattrPermission(t, target.inode, name, MAY_READ);
  if (denied) return denied;
  const value = target.inode.getxattr(name);
  if (value instanceof Errno) return value;
  if (size === 0) return value.length;
  // No value exceeds XATTR_SIZE_MAX, so getxattr's E2BIG for a maximal buffer never arises.
  return value.length > size ? ERANGE : value;
}

/** Linux: listxattr + vfs_listxattr — NUL-terminated names, back to back; `size` 0 asks for the length. */
export function listXattr(t: Task, target: XattrTarget, size: number): Uint8Array | number | Errno {
  const names = target.inode.listxattr(capable(t.proc, CAP_SYS_ADMIN));
  const list = Buffer.from(names.map((n) => n + "\0").join(""), "latin1");
  if (size === 0) return list.length;
  if (list.length > Math.min(size, XATTR_LIST_MAX)) return size >= XATTR_LIST_MAX ? E2BIG : ERANGE;
  return new Uint8Array(list);
}
