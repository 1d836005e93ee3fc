/**
 * Extended attribute syscalls: set, get, list and remove, each by path
 * (following symlinks), by path without following the last one (l*), and by
 * descriptor (f*). Linux: fs/xattr.c. Since Linux 6.13 every variant goes
 * through path_*xattrat, which copies the name and value in before it looks
 * the path or descriptor up, so those errors come first.
 */
import type { Handler, SyscallArgs } from "../abi";
import { E2BIG, EBADF, EINVAL, EOPNOTSUPP, ERANGE, Errno } from "../errno";
import { FileDescription, type SysRet } from "../file";
import type { Task } from "../task";
import { isPathFile, VfsFile } from "../vfs/file";
import { lookupAt, readPath } from "../vfs/ops";
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW } from "../vfs/types";
import {
  getXattr, listXattr, pathTarget, removeXattr, setXattr, XATTR_CREATE, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX,
  type XattrTarget,
} from "../vfs/xattr";

/** Linux: import_xattr_name — an empty name, or none within XATTR_NAME_MAX bytes, is ERANGE. */
function readName(t: Task, addr: number): string | Errno {
  const bytes: number[] = [];
  for (let at = addr; bytes.length <= XATTR_NAME_MAX; at++) {
    const b = t.mm.read(at, 1)[0];
    if (b === 0) return bytes.length ? Buffer.from(bytes).toString("latin1") : ERANGE;
    bytes.push(b);
  }
  return ERANGE;
}

/**
 * The inode behind a descriptor (fdget: O_PATH is EBADF). A pipe or socket
 * has an inode of a filesystem without attributes here (pipefs; sockfs's
 * read-only system.sockprotoname is not modelled).
 */
function fdTarget(t: Task, fd: number): XattrTarget | Errno {
  const f = t.fds.get(fd);
  if (!f || isPathFile(f)) return EBADF;
  return f instanceof VfsFile ? pathTarget(f.path) : fileTarget(f);
}

function fileTarget(f: FileDescription): XattrTarget {
  const { mode, uid } = f.stat();
  const inode = { mode, uid, getxattr: () => EOPNOTSUPP, setxattr: () => EOPNOTSUPP, listxattr: () => [] };
  return { inode, readOnly: false };
}

/** The target of a path argument; `follow` false for the l* variants. */
function pathArg(t: Task, pathPtr: number, follow: boolean): XattrTarget | Errno {
  const path = readPath(t, pathPtr);
  if (path instanceof Errno) return path;
  const p = lookupAt(t, AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW);
  if (p instanceof Errno) return p;
  return p instanceof FileDescription ? fileTarget(p) : pathTarget(p);
}

type Locate = (t: Task, a: SyscallArgs) => XattrTarget | Errno;
const byPath = (follow: boolean): Locate => (t, a) => pathArg(t, a.ptr(0), follow);
const byFd: Locate = (t, a) => fdTarget(t, a.int(0));

/** Linux: setxattr_copy — flags, then name, then the value's size and bytes. */
const setBy = (locate: Locate): Handler => (t, a) => {
  const flags = a.int(4), size = a.ulong(3);
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  const name = readName(t, a.ptr(1));
  if (name instanceof Errno) return name;
  if (size > XATTR_SIZE_MAX) return E2BIG;
  const value = size ? t.mm.read(a.ptr(2), size).slice() : new Uint8Array(0);
  const target = locate(t, a);
  return target instanceof Errno ? target : setXattr(t, target, name, value, flags);
};

/** Copy a value or list out when the caller gave room for it; size 0 only asks for the length. */
function copyOut(t: Task, addr: number, r: Uint8Array | number | Errno): SysRet {
  if (r instanceof Errno || typeof r === "number") return r;
  t.mm.write(addr, r);
  return r.length;
}

const getBy = (locate: Locate): Handler => (t, a) => {
  const name = readName(t, a.ptr(1));
  if (name instanceof Errno) return name;
  const target = locate(t, a);
  if (target instanceof Errno) return target;
  return copyOut(t, a.ptr(2), getXattr(t, target, name, a.ulong(3)));
};

const listBy = (locate: Locate): Handler => (t, a) => {
  const target = locate(t, a);
  if (target instanceof Errno) return target;
  return copyOut(t, a.ptr(1), listXattr(t, target, a.ulong(2)));
};

const removeBy = (locate: Locate): Handler => (t, a) => {
  const name = readName(t, a.ptr(1));
  if (name instanceof Errno) return name;
  const target = locate(t, a);
  return target instanceof Errno ? target : removeXattr(t, target, name);
};

/** Implements setxattr(2), lsetxattr(2) and fsetxattr(2). */
export const setxattr = setBy(byPath(true));
export const lsetxattr = setBy(byPath(false));
export const fsetxattr = setBy(byFd);
/** Implements getxattr(2), lgetxattr(2) and fgetxattr(2). */
export const getxattr = getBy(byPath(true));
export const lgetxattr = getBy(byPath(false));
export const fgetxattr = getBy(byFd);
/** Implements listxattr(2), llistxattr(2) and flistxattr(2). */
export const listxattr = listBy(byPath(true));
export const llistxattr = listBy(byPath(false));
export const flistxattr = listBy(byFd);
/** Implements removexattr(2), lremovexattr(2) and fremovexattr(2). */
export const removexattr = removeBy(byPath(true));
export const lremovexattr = removeBy(byPath(false));
export const fremovexattr = removeBy(byFd);
