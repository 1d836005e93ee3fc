/** inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch. Linux: fs/notify/inotify/inotify_user.c. */
import type { Handler } from "../abi";
import { EBADF, EINVAL, EMFILE, ENOTDIR, Errno } from "../errno";
import { O_NONBLOCK, type SysRet } from "../file";
import { ALL_INOTIFY_BITS, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR, InotifyFile } from "../inotify";
import type { Task } from "../task";
import type { VfsPath } from "../vfs/inode";
import { credOf, permission } from "../vfs/namei";
import { lookupAt, readPath } from "../vfs/ops";
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, MAY_READ, isDir } from "../vfs/types";

const IN_CLOEXEC = 0o2000000;

/** Linux: do_inotify_init — IN_CLOEXEC and IN_NONBLOCK only, max_user_instances per user. */
function init(t: Task, flags: number): SysRet {
  if (flags & ~(IN_CLOEXEC | O_NONBLOCK)) return EINVAL;
  const uid = t.proc.uid;
  if (!InotifyFile.allowed(uid)) return EMFILE;
  const file = new InotifyFile(uid, (flags & O_NONBLOCK) !== 0);
  const fd = t.fds.install(file, (flags & IN_CLOEXEC) !== 0);
  if (fd instanceof Errno) file.release();
  return fd;
}

/** Implements inotify_init1(2). */
export const inotify_init1: Handler = (t, a) => init(t, a.int(0));
/** Implements inotify_init(2). */
export const inotify_init: Handler = (t) => init(t, 0);

/** The inotify instance at `fd`: EBADF for no descriptor, EINVAL for another kind of file. */
function instance(t: Task, fd: number): InotifyFile | Errno {
  const f = t.fds.get(fd);
  if (!f) return EBADF;
  return f instanceof InotifyFile ? f : EINVAL;
}

/** Implements inotify_add_watch(2): the watched inode must be readable (inotify_find_inode). */
export const inotify_add_watch: Handler = (t, a) => {
  const mask = a.uint(2);
  if (mask & IN_MASK_ADD && mask & IN_MASK_CREATE) return EINVAL;
  if (!(mask & ALL_INOTIFY_BITS)) return EINVAL;
  const group = instance(t, a.int(0));
  if (group instanceof Errno) return group;
  const path = readPath(t, a.ptr(1));
  if (path instanceof Errno) return path;
  // Without AT_EMPTY_PATH the lookup never answers with a description.
  const p = lookupAt(t, AT_FDCWD, path, mask & IN_DONT_FOLLOW ? AT_SYMLINK_NOFOLLOW : 0) as VfsPath | Errno;
  if (p instanceof Errno) return p;
  if (mask & IN_ONLYDIR && !isDir(p.d.inode.mode)) return ENOTDIR;
  const denied = permission(credOf(t), p.d.inode, MAY_READ);
  if (denied) return denied;
  return group.addWatch(p.d.inode, mask);
};

/** Implements inotify_rm_watch(2): the watch goes with an IN_IGNORED event. */
export const inotify_rm_watch: Handler = (t, a) => {
  const group = instance(t, a.int(0));
  if (group instanceof Errno) return group;
  return group.rmWatch(a.int(1));
};
