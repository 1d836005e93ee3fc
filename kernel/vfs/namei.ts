/**
 * Path resolution (Linux: fs/namei.c). Every path the guest names is walked
 * here, one component at a time, inside the guest's mount tree:
 *
 * - an absolute path, and an absolute symlink, start at the process root,
 *   which `..` never climbs above (chroot semantics, follow_dotdot);
 * - `..` from a mount's root continues from its mountpoint, never from
 *   anything a filesystem says; a filesystem only ever sees single names;
 * - magic links (/proc/self/{cwd,root,fd/N}) jump to a path the kernel holds,
 *   so they can only lead where the guest could already go.
 *
 * So no walk can leave the tree that setup.ts built from the given mounts.
 */
import { EACCES, EFAULT, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EBADF, EROFS, EXDEV, Errno } from "../errno";
import { PAGE_SIZE } from "../memory";
import type { Task } from "../task";
import type { FsContext } from "./context";
import { defaultContext } from "./setup";
import { VfsFile } from "./file";
import { Dentry, type Inode, type VfsPath } from "./inode";
import { AT_FDCWD, MAXSYMLINKS, MAY_EXEC, MAY_READ, MAY_WRITE, NAME_MAX, PATH_MAX, S_ISVTX,
  isDir, isLnk, type Cred } from "./types";

/** The task's filesystem context; a task built without one gets the synthetic default view (no host files). */
export function fsOf(t: Task): FsContext {
  return t.proc.vfs ??= defaultContext();
}

/** The filesystem ids of the caller: fsuid and fsgid, which follow euid and egid until setfsuid/setfsgid set them. */
export function credOf(t: Task): Cred {
  return { uid: t.proc.fsuid ?? t.proc.euid, gid: t.proc.fsgid ?? t.proc.egid };
}

/**
 * A path argument from guest memory as a byte string: EFAULT through a guest
 * fault, ENAMETOOLONG without a NUL in PATH_MAX bytes (Linux: getname).
 */
export function readPath(t: Task, addr: number): string | Errno {
  if (addr === 0) return EFAULT;
  let out = "";
  let at = addr;
  while (out.length < PATH_MAX) {
    const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), PATH_MAX - out.length);
    const chunk = t.mm.read(at, n);
    const nul = chunk.indexOf(0);
    if (nul >= 0) return out + Buffer.from(chunk.buffer, chunk.byteOffset, nul).toString("latin1");
    out += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString("latin1");
    at += n;
  }
  return ENAMETOOLONG;
}

export const samePath = (a: VfsPath, b: VfsPath): boolean => a.mnt === b.mnt && a.d.inode === b.d.inode;

/** Linux's generic_permission for `cred` asking `mask` (MAY_*) of `inode`. */
export function permission(cred: Cred, inode: Inode, mask: number): 0 | Errno {
  const mode = inode.mode;
  if (cred.uid === 0) {
    // CAP_DAC_OVERRIDE: everything but executing a file that nobody may execute.
    if (mask & MAY_EXEC && !isDir(mode) && !(mode & 0o111)) return EACCES;
    return 0;
  }
  let bits: number;
  if (cred.uid === inode.uid) bits = mode >> 6;
  else if (cred.gid === inode.gid || cred.groups?.includes(inode.gid)) bits = mode >> 3;
  else bits = mode;
  const want = (mask & MAY_READ ? 4 : 0) | (mask & MAY_WRITE ? 2 : 0) | (mask & MAY_EXEC ? 1 : 0);
  return (bits & want) === want ? 0 : EACCES;
}

/** Whether `cred` may write into the directory at `dir` (create, remove, rename there). */
export function mayModify(cred: Cred, dir: VfsPath): 0 | Errno {
  if (dir.mnt.readOnly) return EROFS;
  return permission(cred, dir.d.inode, MAY_WRITE | MAY_EXEC);
}

/** The sticky-directory rule (Linux: check_sticky): only the owner of the file or the directory may remove it. */
export function stickyDenies(cred: Cred, dir: Inode, victim: Inode): boolean {
  return !!(dir.mode & S_ISVTX) && cred.uid !== 0 && cred.uid !== victim.uid && cred.uid !== dir.uid;
}

/** Where a relative path starts: the cwd for AT_FDCWD, else the directory open as `dirfd`. */
export function startAt(t: Task, dirfd: number): VfsPath | Errno {
  if (dirfd === AT_FDCWD) return fsOf(t).cwd;
  const f = t.fds.get(dirfd);
  if (!f) return EBADF;
  if (!(f instanceof VfsFile)) return ENOTDIR;
  return f.path;
}

/** openat2's RESOLVE_* restrictions (include/uapi/linux/openat2.h). */
export const RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
  RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10, RESOLVE_CACHED = 0x20;

/** The restrictions of the openat2 call in progress, relative to its starting directory. */
interface Restriction { flags: number; base: VfsPath }
let restriction: Restriction | undefined;

/** Run `f` (one openat2's lookups, synchronously) under RESOLVE_* `flags` relative to `base`. */
export function withResolve<T>(flags: number, base: VfsPath, f: () => T): T {
  const prev = restriction;
  restriction = flags ? { flags, base } : undefined;
  try {
    return f();
  } finally {
    restriction = prev;
  }
}

const restricted = (flag: number): boolean => restriction !== undefined && (restriction.flags & flag) !== 0;

/** Where "/" is for this lookup: the process root, or the starting directory under RESOLVE_IN_ROOT. */
function rootOf(t: Task): VfsPath {
  return restricted(RESOLVE_IN_ROOT) ? restriction!.base : fsOf(t).root;
}

/** An absolute path or symlink: EXDEV under RESOLVE_BENEATH, else the lookup's root. */
function absoluteStart(t: Task): VfsPath | Errno {
  return restricted(RESOLVE_BENEATH) ? EXDEV : rootOf(t);
}

/** The topmost mount stacked on `p`, if any. */
function crossMounts(t: Task, p: VfsPath): VfsPath {
  const ns = fsOf(t).ns;
  let m = ns.mountedOn(p.mnt, p.d.inode);
  while (m) {
    p = m.root;
    m = ns.mountedOn(p.mnt, p.d.inode);
  }
  return p;
}

/** The parent of a directory, as `..` finds it (Linux: follow_dotdot). */
export function dotdot(t: Task, p: VfsPath): VfsPath {
  const root = rootOf(t);
  for (;;) {
    if (samePath(p, root)) return p;
    if (p.d === p.mnt.rootDentry || !p.d.parent) {
      const mp = p.mnt.mountpoint;
      if (!mp) return p; // the namespace root
      p = mp;
      continue;
    }
    return crossMounts(t, { mnt: p.mnt, d: p.d.parent });
  }
}

interface WalkState { links: number }

/** One component: lookup, mount crossing; symlinks are the caller's. */
function step(t: Task, dir: VfsPath, name: string): VfsPath | Errno {
  if (name === ".") return dir;
  if (name === "..") {
    if (restricted(RESOLVE_BENEATH) && samePath(dir, restriction!.base)) return EXDEV;
    const up = dotdot(t, dir);
    return restricted(RESOLVE_NO_XDEV) && up.mnt !== dir.mnt ? EXDEV : up;
  }
  if (name.length > NAME_MAX) return ENAMETOOLONG;
  const child = dir.d.inode.lookup(t, name);
  if (child instanceof Errno) return child;
  const next = crossMounts(t, { mnt: dir.mnt, d: new Dentry(name, dir.d, child) });
  return restricted(RESOLVE_NO_XDEV) && next.mnt !== dir.mnt ? EXDEV : next;
}

/** Follow the symlink at `link`, found in directory `dir`. */
function followLink(t: Task, dir: VfsPath, link: VfsPath, st: WalkState): VfsPath | Errno {
  if (++st.links > MAXSYMLINKS) return ELOOP;
  if (restricted(RESOLVE_NO_SYMLINKS)) return ELOOP;
  const inode = link.d.inode;
  if (inode.jump) {
    if (restricted(RESOLVE_NO_MAGICLINKS)) return ELOOP;
    if (restricted(RESOLVE_BENEATH | RESOLVE_IN_ROOT)) return EXDEV;
    const to = inode.jump(t, link);
    return !(to instanceof Errno) && restricted(RESOLVE_NO_XDEV) && to.mnt !== link.mnt ? EXDEV : to;
  }
  const target = inode.readlink(t);
  if (target instanceof Errno) return target;
  if (target === "") return ENOENT;
  return walkFrom(t, dir, target, true, st);
}

function walkFrom(t: Task, start: VfsPath, path: string, follow: boolean, st: WalkState): VfsPath | Errno {
  if (path === "") return ENOENT;
  const from = path[0] === "/" ? absoluteStart(t) : start;
  if (from instanceof Errno) return from;
  let cur = from;
  const names = path.split("/").filter((c) => c !== "");
  const trailingSlash = path.endsWith("/") && names.length > 0;
  const cred = credOf(t);
  for (let i = 0; i < names.length; i++) {
    if (!isDir(cur.d.inode.mode)) return ENOTDIR;
    const denied = permission(cred, cur.d.inode, MAY_EXEC);
    if (denied) return denied;
    const next = step(t, cur, names[i]);
    if (next instanceof Errno) return next;
    const last = i === names.length - 1;
    if (isLnk(next.d.inode.mode) && (!last || follow || trailingSlash)) {
      const r = followLink(t, cur, next, st);
      if (r instanceof Errno) return r;
      cur = r;
    } else {
      cur = next;
    }
  }
  if (trailingSlash && !isDir(cur.d.inode.mode)) return ENOTDIR;
  return cur;
}

/** Resolve `path` from `start` (used for relative paths); `follow` follows a final symlink. */
export function resolve(t: Task, start: VfsPath, path: string, follow: boolean): VfsPath | Errno {
  return walkFrom(t, start, path, follow, { links: 0 });
}

/** How a path ends, for the syscalls that act on a name in a directory (Linux: LAST_NORM, LAST_DOT...). */
export type LastKind = "normal" | "dot" | "dotdot" | "root";

export interface ParentWalk {
  /** The directory that holds (or will hold) the final name. */
  dir: VfsPath;
  name: string;
  kind: LastKind;
  trailingSlash: boolean;
}

/** Resolve every component but the last (Linux: filename_parentat). */
export function resolveParent(t: Task, start: VfsPath, path: string): ParentWalk | Errno {
  if (path === "") return ENOENT;
  const names = path.split("/").filter((c) => c !== "");
  const trailingSlash = path.endsWith("/") && names.length > 0;
  const absolute = path[0] === "/";
  const top = absolute ? absoluteStart(t) : start;
  if (top instanceof Errno) return top;
  if (names.length === 0) return { dir: top, name: "/", kind: "root", trailingSlash: false };
  const last = names[names.length - 1];
  const prefix = (absolute ? "/" : "") + names.slice(0, -1).join("/");
  let dir: VfsPath | Errno = prefix === "" ? top : resolve(t, start, prefix, true);
  if (dir instanceof Errno) return dir;
  if (!isDir(dir.d.inode.mode)) return ENOTDIR;
  const denied = permission(credOf(t), dir.d.inode, MAY_EXEC);
  if (denied) return denied;
  if (last.length > NAME_MAX) return ENAMETOOLONG;
  const kind: LastKind = last === "." ? "dot" : last === ".." ? "dotdot" : "normal";
  return { dir, name: last, kind, trailingSlash };
}

/** The child `name` of a parent walk, without following it (ENOENT when absent). */
export function lookupLast(t: Task, pw: ParentWalk): VfsPath | Errno {
  if (pw.kind === "root") return pw.dir;
  return step(t, pw.dir, pw.name);
}

/**
 * The path of `p` as the process sees it (Linux: d_path), or undefined when
 * it is not below the process root.
 */
export function pathOf(t: Task, p: VfsPath): string | undefined {
  const root = fsOf(t).root;
  const parts: string[] = [];
  for (let guard = 0; guard < PATH_MAX; guard++) {
    if (samePath(p, root)) return "/" + parts.reverse().join("/");
    if (p.d === p.mnt.rootDentry || !p.d.parent) {
      const mp = p.mnt.mountpoint;
      if (!mp) return undefined;
      p = mp;
      continue;
    }
    parts.push(p.d.name);
    p = { mnt: p.mnt, d: p.d.parent };
  }
  return undefined;
}

