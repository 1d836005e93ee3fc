/**
 * The VFS operations the path syscalls call, with Linux's checks in Linux's
 * order (fs/namei.c, fs/open.c, fs/attr.c). Handlers in kernel/syscalls/ read
 * arguments and write results; everything about files happens here, so it can
 * be unit-tested against a fake task.
 */
import {
  EACCES, EBADF, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EROFS, EXDEV, EOPNOTSUPP, Errno,
} from "../errno";
import { FileDescription } from "../file";
import { attrChanged, created, deleted, linked, renamed } from "../inotify";
import type { Task } from "../task";
import { DirFile, PathFile, VfsFile } from "./file";
import { Dentry, type Inode, type OpenResult, type VfsPath } from "./inode";
import {
  credOf, dotdot, fsOf, lookupLast, mayModify, pathOf, permission, readPath, resolve, resolveParent,
  startAt, stickyDenies, type ParentWalk,
} from "./namei";
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from "./tmpfs";
import { fsizeAllowsSize } from "../rlimits";
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, MAXSYMLINKS, MAY_EXEC, MAY_READ, MAY_WRITE,
  O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_PATH,
  O_RDONLY, O_TMPFILE, O_TMPFILE_BIT, O_TRUNC, O_WRONLY, O_RDWR, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG,
  S_IFSOCK, S_ISGID, S_ISUID, S_IFLNK, DT_DIR, isDir, isLnk, isReg, type Cred, type DirEntry, type SetAttr,
} from "./types";

export { readPath };

/** Where a path starts: the process root for an absolute path (any dirfd), else cwd or the dirfd's directory. */
function base(t: Task, dirfd: number, path: string): VfsPath | Errno {
  return path[0] === "/" ? fsOf(t).root : startAt(t, dirfd);
}

/**
 * The location `path` names from `dirfd` (*at() syscalls). With AT_EMPTY_PATH
 * an empty path is the descriptor itself: its path when it is a VFS file, or
 * the description (a pipe, a socket, a host stream) otherwise.
 */
export function lookupAt(t: Task, dirfd: number, path: string, flags: number): VfsPath | FileDescription | Errno {
  if (path === "" && flags & AT_EMPTY_PATH) {
    if (dirfd === AT_FDCWD) return fsOf(t).cwd;
    const f = t.fds.get(dirfd);
    if (!f) return EBADF;
    return f instanceof VfsFile ? f.path : f;
  }
  const start = base(t, dirfd, path);
  if (start instanceof Errno) return start;
  return resolve(t, start, path, !(flags & AT_SYMLINK_NOFOLLOW));
}

/** A parent walk from `dirfd`. */
function parentAt(t: Task, dirfd: number, path: string): ParentWalk | Errno {
  const start = base(t, dirfd, path);
  if (start instanceof Errno) return start;
  return resolveParent(t, start, path);
}

/** The child a parent walk names, or undefined when it does not exist. */
function child(t: Task, pw: ParentWalk): VfsPath | undefined | Errno {
  const c = lookupLast(t, pw);
  return c === ENOENT ? undefined : c;
}

/**
 * The parent walk for a name about to be created (Linux's filename_create): EEXIST
 * for ".", "..", "/" or a name already there, ENOENT for a trailing slash on
 * anything but a directory being made.
 */
function newName(t: Task, dirfd: number, path: string, forDirectory: boolean): ParentWalk | Errno {
  const pw = parentAt(t, dirfd, path);
  if (pw instanceof Errno) return pw;
  if (pw.kind !== "normal") return EEXIST;
  const existing = child(t, pw);
  if (existing instanceof Errno) return existing;
  if (existing) return EEXIST;
  if (pw.trailingSlash && !forDirectory) return ENOENT;
  return pw;
}

/** The ids a new file gets: the caller's, or the directory's group when it is setgid (Linux: inode_init_owner). */
function newOwner(t: Task, dir: Inode): Cred {
  const c = credOf(t);
  return dir.mode & S_ISGID ? { uid: c.uid, gid: dir.gid } : c;
}

/**
 * Whether `p` cannot be written as on a read-only mount (sb_permission,
 * mnt_want_write): the mount, or an inode standing for a read-only bind over
 * it (a container's /proc/sys entries).
 */
const readOnlyAt = (p: VfsPath): boolean => p.mnt.readOnly || p.d.inode.readOnly;

const isMountpoint = (t: Task, p: VfsPath): boolean =>
  p.d === p.mnt.rootDentry || fsOf(t).ns.mountedOn(p.mnt, p.d.inode) !== undefined;

// --- open ---------------------------------------------------------------------

/** The listing a directory descriptor reads: ".", "..", then the filesystem's entries. */
export function listDir(t: Task, p: VfsPath): DirEntry[] | Errno {
  const entries = p.d.inode.readdir(t);
  if (entries instanceof Errno) return entries;
  const up = dotdot(t, p).d.inode;
  return [{ name: ".", ino: p.d.inode.ino, type: DT_DIR }, { name: "..", ino: up.ino, type: DT_DIR }, ...entries];
}

/** The status flags an open description keeps (Linux: do_dentry_open drops the creation flags). */
function keptFlags(t: Task, flags: number): number {
  // 64-bit kernels force O_LARGEFILE (force_o_largefile); i386 keeps what the program passed; O_PATH drops it.
  const large = t.arch.wordSize === 8 && !(flags & O_PATH) ? O_LARGEFILE : 0;
  return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | large;
}

/** Linux's may_open: what opening an existing inode with `flags` requires. */
function mayOpen(t: Task, p: VfsPath, flags: number): 0 | Errno {
  const inode = p.d.inode;
  const type = inode.mode & S_IFMT;
  const acc = accessMask(flags);
  if (type === S_IFLNK) return ELOOP;
  if (type === S_IFDIR && acc & MAY_WRITE) return EISDIR;
  if ((type === S_IFCHR || type === S_IFBLK) && p.mnt.flags.nodev) return EACCES;
  if (acc & MAY_WRITE && readOnlyAt(p) && (type === S_IFREG || type === S_IFDIR)) return EROFS;
  const denied = permission(credOf(t), inode, acc);
  if (denied) return denied;
  if (flags & O_NOATIME && credOf(t).uid !== 0 && credOf(t).uid !== inode.uid) return EPERM;
  return 0;
}

function accessMask(flags: number): number {
  const mode = flags & O_ACCMODE;
  let m = mode === O_RDONLY ? MAY_READ : mode === O_WRONLY ? MAY_WRITE : mode === O_RDWR ? MAY_READ | MAY_WRITE : 0;
  if (flags & O_TRUNC) m |= MAY_WRITE;
  return m;
}

/** Open the inode at `p` (already checked), directories and O_PATH included. */
export function openPath(t: Task, p: VfsPath, flags: number): OpenResult {
  const kept = keptFlags(t, flags);
  if (flags & O_PATH) return new PathFile(kept, p);
  if (isDir(p.d.inode.mode)) return new DirFile(kept, p, (tt) => listDir(tt, p));
  return p.d.inode.open(t, kept, p);
}

/** Which flags an O_PATH open keeps (build_open_flags). */
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

/** Implements openat2's core (Linux: do_filp_open): returns the description; the caller installs it. */
export function openAt(t: Task, dirfd: number, path: string, flags: number, mode: number): OpenResult {
  if (flags & O_PATH) flags &= O_PATH_FLAGS;
  if ((flags & O_TMPFILE) === O_TMPFILE) {
    if (flags & O_CREAT || !(flags & (O_WRONLY | O_RDWR))) return EINVAL;
    return openTmpfile(t, dirfd, path, flags, mode);
  }
  if (flags & O_TMPFILE_BIT) return EINVAL;
  // Since Linux 6.4, O_CREAT|O_DIRECTORY is refused outright.
  if ((flags & (O_CREAT | O_DIRECTORY)) === (O_CREAT | O_DIRECTORY)) return EINVAL;
  if (flags & O_CREAT) return openCreate(t, dirfd, path, flags, mode & 0o7777);

  const start = base(t, dirfd, path);
  if (start instanceof Errno) return start;
  const p = resolve(t, start, path, !(flags & O_NOFOLLOW));
  if (p instanceof Errno) return p;
  return openExisting(t, p, flags, path.endsWith("/"));
}

function openExisting(t: Task, p: VfsPath, flags: number, trailingSlash: boolean): OpenResult {
  const inode = p.d.inode;
  if (isLnk(inode.mode) && !(flags & O_PATH)) return ELOOP;
  if ((flags & O_DIRECTORY || trailingSlash) && !isDir(inode.mode)) return ENOTDIR;
  if (!(flags & O_PATH)) {
    const denied = mayOpen(t, p, flags);
    if (denied) return denied;
    if (flags & O_TRUNC && isReg(inode.mode)) {
      const r = attrChanged(p.d, { size: 0 }, inode.setattr({ size: 0 }));
      if (r) return r;
    }
  }
  return openPath(t, p, flags);
}

/** open with O_CREAT: find or make the final name, following a final symlink to create its target. */
function openCreate(t: Task, dirfd: number, path: string, flags: number, mode: number): OpenResult {
  const pw = parentAt(t, dirfd, path);
  if (pw instanceof Errno) return pw;
  return openCreateWalked(t, pw, flags, mode, 0);
}

function openCreateWalked(t: Task, pw: ParentWalk, flags: number, mode: number, links: number): OpenResult {
  if (pw.kind !== "normal") return EISDIR;
  const existing = child(t, pw);
  if (existing instanceof Errno) return existing;
  if (existing) {
    if (flags & O_EXCL) return EEXIST;
    if (isLnk(existing.d.inode.mode)) {
      if (flags & O_NOFOLLOW) return ELOOP;
      if (++links > MAXSYMLINKS) return ELOOP;
      const target = existing.d.inode.jump ? existing.d.inode.jump(t, existing) : existing.d.inode.readlink(t);
      if (target instanceof Errno) return target;
      if (typeof target !== "string") return openExisting(t, target, flags, false);
      if (target === "") return ENOENT;
      // The target is created relative to the link's directory, or the root when absolute.
      const next = resolveParent(t, target[0] === "/" ? fsOf(t).root : pw.dir, target);
      if (next instanceof Errno) return next;
      return openCreateWalked(t, next, flags, mode, links);
    }
    if (isDir(existing.d.inode.mode)) return EISDIR;
    return openExisting(t, existing, flags, pw.trailingSlash);
  }
  if (pw.trailingSlash) return EISDIR;
  const denied = mayModify(credOf(t), pw.dir);
  if (denied) return denied;
  const inode = created(pw.dir.d.inode, pw.name, pw.dir.d.inode.create(pw.name, mode & ~fsOf(t).umask, newOwner(t, pw.dir.d.inode)));
  if (inode instanceof Errno) return inode;
  return openPath(t, { mnt: pw.dir.mnt, d: new Dentry(pw.name, pw.dir.d, inode) }, flags & ~O_TRUNC);
}

/** O_TMPFILE: an unnamed regular file in a directory, which linkat(AT_EMPTY_PATH) may name later. */
function openTmpfile(t: Task, dirfd: number, path: string, flags: number, mode: number): OpenResult {
  const start = base(t, dirfd, path);
  if (start instanceof Errno) return start;
  const dir = resolve(t, start, path, !(flags & O_NOFOLLOW));
  if (dir instanceof Errno) return dir;
  if (!isDir(dir.d.inode.mode)) return ENOTDIR;
  const denied = mayModify(credOf(t), dir);
  if (denied) return denied;
  const tmpfile = (dir.d.inode as Inode & { tmpfile?: (mode: number, cred: Cred) => Inode | Errno }).tmpfile;
  if (!tmpfile) return EOPNOTSUPP;
  const inode = tmpfile.call(dir.d.inode, S_IFREG | (mode & 0o7777 & ~fsOf(t).umask), newOwner(t, dir.d.inode));
  if (inode instanceof Errno) return inode;
  return openPath(t, { mnt: dir.mnt, d: new Dentry(`#${inode.ino}`, dir.d, inode) }, flags & ~O_DIRECTORY);
}

// --- names ----------------------------------------------------------------------

/** Implements mkdirat(2). */
export function mkdirAt(t: Task, dirfd: number, path: string, mode: number): 0 | Errno {
  const pw = newName(t, dirfd, path, true);
  if (pw instanceof Errno) return pw;
  const denied = mayModify(credOf(t), pw.dir);
  if (denied) return denied;
  const parent = pw.dir.d.inode;
  let perm = mode & 0o1777 & ~fsOf(t).umask;
  if (parent.mode & S_ISGID) perm |= S_ISGID;
  const r = created(parent, pw.name, parent.mkdir(pw.name, perm, newOwner(t, parent)));
  return r instanceof Errno ? r : 0;
}

/** Implements mknodat(2): regular files, fifos and sockets for anyone, devices for root (CAP_MKNOD). */
export function mknodAt(t: Task, dirfd: number, path: string, mode: number, dev: number): 0 | Errno {
  const r = makeNode(t, dirfd, path, mode, dev);
  return r instanceof Errno ? r : 0;
}

/** mknodat's work (Linux: filename_create + vfs_mknod), giving the new inode; AF_UNIX bind makes its socket files here. */
export function makeNode(t: Task, dirfd: number, path: string, mode: number, dev: number): Inode | Errno {
  const type = mode & S_IFMT;
  if (type === S_IFDIR) return EPERM;
  if (![0, S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK].includes(type)) return EINVAL;
  if ((type === S_IFCHR || type === S_IFBLK) && credOf(t).uid !== 0) return EPERM;
  const pw = newName(t, dirfd, path, false);
  if (pw instanceof Errno) return pw;
  const denied = mayModify(credOf(t), pw.dir);
  if (denied) return denied;
  const parent = pw.dir.d.inode;
  const perm = mode & 0o7777 & ~fsOf(t).umask;
  return created(parent, pw.name, type === 0 || type === S_IFREG
    ? parent.create(pw.name, perm, newOwner(t, parent))
    : parent.mknod(pw.name, type | perm, type === S_IFCHR || type === S_IFBLK ? dev : 0, newOwner(t, parent)));
}

/** Implements symlinkat(2). */
export function symlinkAt(t: Task, target: string, dirfd: number, path: string): 0 | Errno {
  if (target === "") return ENOENT;
  const pw = newName(t, dirfd, path, false);
  if (pw instanceof Errno) return pw;
  const denied = mayModify(credOf(t), pw.dir);
  if (denied) return denied;
  const r = created(pw.dir.d.inode, pw.name, pw.dir.d.inode.symlink(pw.name, target, newOwner(t, pw.dir.d.inode)));
  return r instanceof Errno ? r : 0;
}

/** Linux's may_delete for `victim` in `dir`. */
function mayDelete(t: Task, dir: VfsPath, victim: VfsPath, wantDir: boolean): 0 | Errno {
  const cred = credOf(t);
  const denied = mayModify(cred, dir);
  if (denied) return denied;
  if (stickyDenies(cred, dir.d.inode, victim.d.inode)) return EPERM;
  if (wantDir && !isDir(victim.d.inode.mode)) return ENOTDIR;
  if (!wantDir && isDir(victim.d.inode.mode)) return EISDIR;
  if (isMountpoint(t, victim)) return EBUSY;
  return 0;
}

/** Implements unlinkat(2) without AT_REMOVEDIR. */
export function unlinkAt(t: Task, dirfd: number, path: string): 0 | Errno {
  const pw = parentAt(t, dirfd, path);
  if (pw instanceof Errno) return pw;
  if (pw.kind !== "normal") return EISDIR;
  const victim = lookupLast(t, pw);
  if (victim instanceof Errno) return victim;
  // "file/" names a directory that is not there (do_unlinkat's slashes case).
  if (pw.trailingSlash) return isDir(victim.d.inode.mode) ? EISDIR : ENOTDIR;
  const denied = mayDelete(t, pw.dir, victim, false);
  if (denied) return denied;
  return deleted(pw.dir.d.inode, pw.name, victim.d.inode, pw.dir.d.inode.unlink(pw.name));
}

/** Implements rmdir(2) and unlinkat(AT_REMOVEDIR). */
export function rmdirAt(t: Task, dirfd: number, path: string): 0 | Errno {
  const pw = parentAt(t, dirfd, path);
  if (pw instanceof Errno) return pw;
  if (pw.kind === "dot") return EINVAL;
  if (pw.kind === "dotdot") return ENOTEMPTY;
  if (pw.kind === "root") return EBUSY;
  const victim = lookupLast(t, pw);
  if (victim instanceof Errno) return victim;
  const denied = mayDelete(t, pw.dir, victim, true);
  if (denied) return denied;
  const entries = victim.d.inode.readdir(t);
  if (entries instanceof Errno) return entries;
  if (entries.length) return ENOTEMPTY;
  return deleted(pw.dir.d.inode, pw.name, victim.d.inode, pw.dir.d.inode.rmdir(pw.name));
}

/** Whether `anc` is `p` or one of the directories above it within one mount. */
function isAncestor(anc: VfsPath, p: VfsPath): boolean {
  if (anc.mnt !== p.mnt) return false;
  for (let d: Dentry | undefined = p.d; d; d = d.parent) if (d.inode === anc.d.inode) return true;
  return false;
}

const RENAME_VALID = RENAME_NOREPLACE | RENAME_EXCHANGE;

/** Implements renameat2(2) (Linux: do_renameat2, vfs_rename). */
export function renameAt(t: Task, olddfd: number, oldpath: string, newdfd: number, newpath: string, flags: number): 0 | Errno {
  if (flags & ~RENAME_VALID) return EINVAL;
  if (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE) return EINVAL;
  const from = parentAt(t, olddfd, oldpath);
  if (from instanceof Errno) return from;
  const to = parentAt(t, newdfd, newpath);
  if (to instanceof Errno) return to;
  if (from.dir.mnt !== to.dir.mnt) return EXDEV;
  if (from.kind !== "normal" || to.kind !== "normal") return EBUSY;
  if (from.dir.mnt.readOnly) return EROFS;
  const src = lookupLast(t, from);
  if (src instanceof Errno) return src;
  const srcIsDir = isDir(src.d.inode.mode);
  if ((from.trailingSlash || to.trailingSlash) && !srcIsDir) return ENOTDIR;
  const dst = child(t, to);
  if (dst instanceof Errno) return dst;
  if (flags & RENAME_EXCHANGE && !dst) return ENOENT;
  if (flags & RENAME_NOREPLACE && dst) return EEXIST;
  // Moving a directory below itself (vfs_rename's trap), or onto one of its ancestors.
  if (srcIsDir && isAncestor(src, to.dir)) return EINVAL;
  if (dst && isAncestor(dst, from.dir)) return flags & RENAME_EXCHANGE ? EINVAL : ENOTEMPTY;
  if (dst && dst.d.inode === src.d.inode) return 0;
  let denied = mayDelete(t, from.dir, src, srcIsDir);
  if (denied) return denied;
  if (dst) {
    const dstIsDir = isDir(dst.d.inode.mode);
    if (flags & RENAME_EXCHANGE) denied = mayDelete(t, to.dir, dst, dstIsDir);
    else if (srcIsDir && !dstIsDir) denied = ENOTDIR;
    else if (!srcIsDir && dstIsDir) denied = EISDIR;
    else denied = mayDelete(t, to.dir, dst, dstIsDir);
    if (denied) return denied;
    if (dstIsDir && !(flags & RENAME_EXCHANGE)) {
      const entries = dst.d.inode.readdir(t);
      if (entries instanceof Errno) return entries;
      if (entries.length) return ENOTEMPTY;
    }
  } else {
    denied = mayModify(credOf(t), to.dir);
    if (denied) return denied;
  }
  // A directory changing parents rewrites its "..": that needs write permission on it.
  if (srcIsDir && from.dir.d.inode !== to.dir.d.inode) {
    denied = permission(credOf(t), src.d.inode, MAY_WRITE);
    if (denied) return denied;
  }
  return renamed(from.dir.d.inode, from.name, to.dir.d.inode, to.name, src.d.inode, dst?.d.inode, flags,
    from.dir.d.inode.rename(from.name, to.dir.d.inode, to.name, flags));
}

/** Implements linkat(2) (Linux: do_linkat, vfs_link, may_linkat with protected_hardlinks=1). */
export function linkAt(t: Task, olddfd: number, oldpath: string, newdfd: number, newpath: string, flags: number): 0 | Errno {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const cred = credOf(t);
  if (flags & AT_EMPTY_PATH && oldpath === "" && cred.uid !== 0) return ENOENT;
  const old = lookupAt(t, olddfd, oldpath, (flags & AT_EMPTY_PATH) | (flags & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW));
  if (old instanceof Errno) return old;
  if (old instanceof FileDescription) return EXDEV;
  const pw = newName(t, newdfd, newpath, false);
  if (pw instanceof Errno) return pw;
  if (old.mnt !== pw.dir.mnt) return EXDEV;
  const denied = mayModify(cred, pw.dir);
  if (denied) return denied;
  const inode = old.d.inode;
  if (isDir(inode.mode)) return EPERM;
  if (cred.uid !== 0 && cred.uid !== inode.uid) {
    const safe = isReg(inode.mode) && !(inode.mode & S_ISUID) && (inode.mode & (S_ISGID | 0o010)) !== (S_ISGID | 0o010);
    if (!safe || permission(cred, inode, MAY_READ | MAY_WRITE)) return EPERM;
  }
  return linked(pw.dir.d.inode, pw.name, inode, pw.dir.d.inode.link(pw.name, inode));
}

/** Implements readlinkat(2): an empty path reads the symlink open as `dirfd` (O_PATH|O_NOFOLLOW). */
export function readlinkAt(t: Task, dirfd: number, path: string): string | Errno {
  const p = lookupAt(t, dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
  if (p instanceof Errno) return p;
  if (p instanceof FileDescription || !isLnk(p.d.inode.mode)) return path === "" ? ENOENT : EINVAL;
  return p.d.inode.readlink(t);
}

// --- working directory and root --------------------------------------------------

function enterable(t: Task, p: VfsPath): 0 | Errno {
  if (!isDir(p.d.inode.mode)) return ENOTDIR;
  return permission(credOf(t), p.d.inode, MAY_EXEC);
}

/** Implements chdir(2). */
export function chdir(t: Task, path: string): 0 | Errno {
  const p = lookupAt(t, AT_FDCWD, path, 0);
  if (p instanceof Errno) return p;
  if (p instanceof FileDescription) return ENOTDIR;
  const denied = enterable(t, p);
  if (denied) return denied;
  fsOf(t).cwd = p;
  return 0;
}

/** Implements fchdir(2). */
export function fchdir(t: Task, fd: number): 0 | Errno {
  const f = t.fds.get(fd);
  if (!f) return EBADF;
  if (!(f instanceof VfsFile)) return ENOTDIR;
  const denied = enterable(t, f.path);
  if (denied) return denied;
  fsOf(t).cwd = f.path;
  return 0;
}

/** Implements chroot(2): root only (CAP_SYS_CHROOT). */
export function chroot(t: Task, path: string): 0 | Errno {
  const p = lookupAt(t, AT_FDCWD, path, 0);
  if (p instanceof Errno) return p;
  if (p instanceof FileDescription) return ENOTDIR;
  const denied = enterable(t, p);
  if (denied) return denied;
  if (credOf(t).uid !== 0) return EPERM;
  fsOf(t).root = p;
  return 0;
}

/** The cwd as getcwd(2) reports it: ENOENT once removed, "(unreachable)" when outside the root. */
export function getcwd(t: Task): string | Errno {
  const cwd = fsOf(t).cwd;
  if (cwd.d.inode.nlink === 0) return ENOENT;
  return pathOf(t, cwd) ?? "(unreachable)" + cwd.d.name;
}

// --- attributes ------------------------------------------------------------------

const UID_UNCHANGED = 0xffffffff;

function owns(cred: Cred, inode: Inode): boolean {
  return cred.uid === 0 || cred.uid === inode.uid;
}

function writableMount(p: VfsPath): 0 | Errno {
  return readOnlyAt(p) ? EROFS : 0;
}

/** Implements chmod on a located inode (Linux: chmod_common, setattr_prepare). */
export function chmodPath(t: Task, p: VfsPath, mode: number): 0 | Errno {
  const cred = credOf(t);
  const ro = writableMount(p);
  if (ro) return ro;
  const inode = p.d.inode;
  if (!owns(cred, inode)) return EPERM;
  let m = mode & 0o7777;
  // Only a member of the file's group may set its setgid bit (setattr_prepare).
  if (cred.uid !== 0 && cred.gid !== inode.gid && !cred.groups?.includes(inode.gid)) m &= ~S_ISGID;
  return attrChanged(p.d, { mode: m }, inode.setattr({ mode: m }));
}

/** Implements chown on a located inode (Linux: chown_common, setattr_prepare). */
export function chownPath(t: Task, p: VfsPath, uid: number, gid: number): 0 | Errno {
  const cred = credOf(t);
  const ro = writableMount(p);
  if (ro) return ro;
  const inode = p.d.inode;
  const attr: SetAttr = {};
  if (uid !== UID_UNCHANGED && uid !== -1) attr.uid = uid >>> 0;
  if (gid !== UID_UNCHANGED && gid !== -1) attr.gid = gid >>> 0;
  if (cred.uid !== 0) {
    if (attr.uid !== undefined && attr.uid !== inode.uid) return EPERM;
    if (attr.gid !== undefined && attr.gid !== inode.gid &&
      (cred.uid !== inode.uid || (attr.gid !== cred.gid && !cred.groups?.includes(attr.gid)))) return EPERM;
    if (attr.uid === undefined && attr.gid === undefined && cred.uid !== inode.uid) return 0;
  }
  if (attr.uid === undefined && attr.gid === undefined) return inode.setattr({});
  // Changing the owner of a regular file drops its set-id bits (Linux: should_remove_suid on notify_change).
  if (isReg(inode.mode) && inode.mode & (S_ISUID | S_ISGID)) {
    let mode = inode.mode & 0o7777 & ~S_ISUID;
    if (inode.mode & 0o010) mode &= ~S_ISGID;
    attr.mode = mode;
  }
  return attrChanged(p.d, attr, inode.setattr(attr));
}

/** Time values for utimensat: a number of ms, "now", or "omit". */
export type TimeSpec = number | "now" | "omit";

/** Implements utimensat on a located inode (Linux: vfs_utimes, inode_owner_or_capable / write permission for "now"). */
export function utimesPath(t: Task, p: VfsPath, atime: TimeSpec, mtime: TimeSpec): 0 | Errno {
  const cred = credOf(t);
  const ro = writableMount(p);
  if (ro) return ro;
  const inode = p.d.inode;
  if (atime === "omit" && mtime === "omit") return 0;
  const explicit = (atime !== "now" && atime !== "omit") || (mtime !== "now" && mtime !== "omit");
  if (!owns(cred, inode)) {
    if (explicit) return EPERM;
    if (permission(cred, inode, MAY_WRITE)) return EACCES;
  }
  const now = Date.now();
  const attr: SetAttr = {};
  if (atime !== "omit") attr.atimeMs = atime === "now" ? now : atime;
  if (mtime !== "omit") attr.mtimeMs = mtime === "now" ? now : mtime;
  return attrChanged(p.d, attr, inode.setattr(attr));
}

/** Implements truncate(2) on a path (Linux: vfs_truncate). */
export function truncatePath(t: Task, p: VfsPath, length: number): 0 | Errno {
  const inode = p.d.inode;
  if (isDir(inode.mode)) return EISDIR;
  if (!isReg(inode.mode)) return EINVAL;
  const ro = writableMount(p);
  if (ro) return ro;
  const denied = permission(credOf(t), inode, MAY_WRITE);
  if (denied) return denied;
  const limited = fsizeAllowsSize(t, length);
  if (limited) return limited;
  return attrChanged(p.d, { size: length }, inode.setattr({ size: length }));
}

/** F_OK, R_OK, W_OK, X_OK. */
const ACCESS_MODES = 7;

/** Implements faccessat2(2): checks with the real ids unless AT_EACCESS (Linux: do_faccessat). */
export function accessAt(t: Task, dirfd: number, path: string, mode: number, flags: number, effective: boolean): 0 | Errno {
  if (mode & ~ACCESS_MODES) return EINVAL;
  const p = lookupAt(t, dirfd, path, flags);
  if (p instanceof Errno) return p;
  if (p instanceof FileDescription) return 0;
  const cred: Cred = effective ? credOf(t) : { uid: t.proc.uid, gid: t.proc.gid };
  const inode = p.d.inode;
  const mask = (mode & 4 ? MAY_READ : 0) | (mode & 2 ? MAY_WRITE : 0) | (mode & 1 ? MAY_EXEC : 0);
  if (mask & MAY_WRITE && readOnlyAt(p) && (isReg(inode.mode) || isDir(inode.mode) || isLnk(inode.mode))) return EROFS;
  return permission(cred, inode, mask);
}

/** The path a descriptor was opened by, as /proc/self/fd shows it. */
export function fdPath(t: Task, f: VfsFile): string {
  const p = pathOf(t, f.path) ?? f.path.d.name;
  return f.path.d.inode.nlink === 0 && !isDir(f.path.d.inode.mode) ? `${p} (deleted)` : p;
}

