/**
 * inotify: watches on inodes and a descriptor that reads the events they
 * see (Linux: fs/notify/inotify/inotify_user.c, inotify_fsnotify.c, and the
 * fsnotify_* hooks of include/linux/fsnotify.h the VFS calls).
 *
 * The VFS reports what happened with the functions at the end of this file,
 * one call per operation; each finds the watches on the inode (and, for
 * events a directory sees on its children, on the parent it was reached
 * through) and queues a struct inotify_event on each watching descriptor.
 */
import { EAGAIN, EEXIST, EINVAL, ENOSPC, Errno } from "./errno";
import { Block, FileDescription, O_NONBLOCK, O_RDONLY, POLLIN, POLLRDNORM, type ReadResult, type StatInfo, type SysRet } from "./file";
import type { Task } from "./task";
import type { Dentry, Inode } from "./vfs/inode";
import { registerSysctl } from "./vfs/sysctl";
import { isDir, type SetAttr } from "./vfs/types";
import { WaitQueue } from "./waitqueue";

/** include/uapi/linux/inotify.h. */
export const IN_ACCESS = 0x1, IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CLOSE_NOWRITE = 0x10,
  IN_OPEN = 0x20, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200,
  IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_UNMOUNT = 0x2000, IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000,
  IN_ONLYDIR = 0x01000000, IN_DONT_FOLLOW = 0x02000000, IN_EXCL_UNLINK = 0x04000000, IN_MASK_CREATE = 0x10000000,
  IN_MASK_ADD = 0x20000000, IN_ISDIR = 0x40000000, IN_ONESHOT = 0x80000000;
export const IN_ALL_EVENTS = 0xfff;
/** Every bit inotify_add_watch understands (ALL_INOTIFY_BITS). */
export const ALL_INOTIFY_BITS = (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | IN_DONT_FOLLOW |
  IN_EXCL_UNLINK | IN_MASK_ADD | IN_MASK_CREATE | IN_ISDIR | IN_ONESHOT) >>> 0;
/** Events a directory's watch also sees on its children (FS_EVENTS_POSS_ON_CHILD). */
const ON_CHILD = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN;
/** FIONREAD (include/uapi/asm-generic/ioctls.h); renameat2's RENAME_EXCHANGE (include/uapi/linux/fs.h). */
const FIONREAD = 0x541b, RENAME_EXCHANGE = 2;
/** sizeof(struct inotify_event): wd, mask, cookie, len; the name follows, NUL-padded to a multiple of it. */
const EVENT_SIZE = 16;

/** The limits of /proc/sys/fs/inotify (the reference machine's values). */
export const inotifyLimits = { maxQueuedEvents: 16384, maxUserInstances: 128, maxUserWatches: 192546 };
registerSysctl("fs/inotify/max_queued_events", () => String(inotifyLimits.maxQueuedEvents), undefined, 0o644);
registerSysctl("fs/inotify/max_user_instances", () => String(inotifyLimits.maxUserInstances), undefined, 0o644);
registerSysctl("fs/inotify/max_user_watches", () => String(inotifyLimits.maxUserWatches), undefined, 0o644);

interface Watch { readonly group: InotifyFile; readonly wd: number; readonly inode: Inode; mask: number }
interface InotifyEvent { wd: number; mask: number; cookie: number; name: string }

/** The watches on each inode (Linux: inode->i_fsnotify_marks). */
const watchesOn = new WeakMap<Inode, Watch[]>();
/** Instances and watches per uid (Linux: ucounts INOTIFY_INSTANCES / INOTIFY_WATCHES). */
const instancesOf = new Map<number, number>();
const watchCountOf = new Map<number, number>();
const bump = (m: Map<number, number>, uid: number, d: number): void => { m.set(uid, (m.get(uid) ?? 0) + d); };

/** anon_inodefs, as eventfd's. */
const ANON_INODE_DEV = 15, ANON_INODE_INO = 1;

/** An inotify instance (Linux: an fsnotify_group with inotify's ops). */
export class InotifyFile extends FileDescription {
  private readonly queue: InotifyEvent[] = [];
  private readonly watches = new Map<number, Watch>();
  /** idr_alloc_cyclic: descriptors count up from 1 and are not reused at once. */
  private lastWd = 0;
  private readonly waiters = new WaitQueue();

  constructor(private readonly uid: number, nonblock: boolean) {
    super(O_RDONLY | (nonblock ? O_NONBLOCK : 0));
    bump(instancesOf, uid, 1);
  }

  /** inotify_init1's EMFILE: at most max_user_instances per user. */
  static allowed(uid: number): boolean {
    return (instancesOf.get(uid) ?? 0) < inotifyLimits.maxUserInstances;
  }

  /** Linux: inotify_update_watch — change the watch on `inode`, or add one; returns its descriptor. */
  addWatch(inode: Inode, mask: number): number | Errno {
    const events = (mask & ALL_INOTIFY_BITS) >>> 0;
    const w = [...this.watches.values()].find((x) => x.inode === inode);
    if (w) {
      if (mask & IN_MASK_CREATE) return EEXIST;
      w.mask = (mask & IN_MASK_ADD ? w.mask | events : events) >>> 0;
      return w.wd;
    }
    if ((watchCountOf.get(this.uid) ?? 0) >= inotifyLimits.maxUserWatches) return ENOSPC;
    const nw: Watch = { group: this, wd: ++this.lastWd, inode, mask: events };
    this.watches.set(nw.wd, nw);
    const list = watchesOn.get(inode);
    if (list) list.push(nw);
    else watchesOn.set(inode, [nw]);
    bump(watchCountOf, this.uid, 1);
    return nw.wd;
  }

  /** Implements inotify_rm_watch's work: EINVAL for an unknown descriptor. */
  rmWatch(wd: number): 0 | Errno {
    const w = this.watches.get(wd);
    if (!w) return EINVAL;
    this.drop(w, true);
    return 0;
  }

  /** Remove a watch; `ignored`: tell the reader (IN_IGNORED), as every removal but closing the instance does. */
  drop(w: Watch, ignored: boolean): void {
    if (this.watches.get(w.wd) !== w) return;
    this.watches.delete(w.wd);
    const list = watchesOn.get(w.inode)!;
    list.splice(list.indexOf(w), 1);
    if (!list.length) watchesOn.delete(w.inode);
    bump(watchCountOf, this.uid, -1);
    if (ignored) this.queueEvent({ wd: w.wd, mask: IN_IGNORED, cookie: 0, name: "" });
  }

  /**
   * Linux: fsnotify_insert_event with inotify_merge — an event equal to the
   * last one queued is dropped; a full queue ends in one IN_Q_OVERFLOW.
   */
  queueEvent(e: InotifyEvent): void {
    const last = this.queue[this.queue.length - 1];
    if (this.queue.length >= inotifyLimits.maxQueuedEvents) {
      if (last?.mask === IN_Q_OVERFLOW) return;
      e = { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: "" };
    } else if (last && last.wd === e.wd && last.mask === e.mask && last.cookie === e.cookie && last.name === e.name) {
      return;
    }
    this.queue.push(e);
    this.waiters.wake();
    this.readiness.notify(POLLIN | POLLRDNORM);
  }

  /** Deliver `mask` to watch `w` (Linux: inotify_handle_inode_event); a one-shot watch goes after its first event. */
  deliver(w: Watch, mask: number, name: string, cookie: number): void {
    this.queueEvent({ wd: w.wd, mask, cookie, name });
    if (w.mask & IN_ONESHOT) this.drop(w, true);
  }

  private static size(e: InotifyEvent): number {
    return EVENT_SIZE + (e.name ? Math.ceil((e.name.length + 1) / EVENT_SIZE) * EVENT_SIZE : 0);
  }

  /** Linux: inotify_read — whole events while they fit; EINVAL when the first does not. */
  override read(t: Task, len: number): ReadResult {
    if (!this.queue.length) {
      if (this.flags & O_NONBLOCK) return EAGAIN;
      return new Block<ReadResult>(this.waiters.wait(), () => this.read(t, len));
    }
    let n = 0, count = 0;
    for (const e of this.queue) {
      if (n + InotifyFile.size(e) > len) break;
      n += InotifyFile.size(e);
      count++;
    }
    if (!count) return EINVAL;
    const out = new Uint8Array(n);
    const v = new DataView(out.buffer);
    let at = 0;
    for (const e of this.queue.splice(0, count)) {
      const size = InotifyFile.size(e);
      v.setInt32(at, e.wd, true);
      v.setUint32(at + 4, e.mask >>> 0, true);
      v.setUint32(at + 8, e.cookie, true);
      v.setUint32(at + 12, size - EVENT_SIZE, true);
      out.set(Buffer.from(e.name, "latin1"), at + EVENT_SIZE);
      at += size;
    }
    return out;
  }

  /** FIONREAD: the bytes of every queued event (Linux: inotify_ioctl). */
  override ioctl(t: Task, request: number, arg: number): SysRet {
    if (request !== FIONREAD) return super.ioctl(t, request, arg);
    t.mm.setU32(arg, this.queue.reduce((s, e) => s + InotifyFile.size(e), 0));
    return 0;
  }

  override poll(): number { return this.queue.length ? POLLIN | POLLRDNORM : 0; }

  /** Closing the instance removes its watches without IN_IGNORED (nobody is left to read it). */
  override release(): void {
    for (const w of [...this.watches.values()]) this.drop(w, false);
    bump(instancesOf, this.uid, -1);
  }

  override stat(): StatInfo {
    return {
      dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }
}

// --- what the VFS reports (Linux: include/linux/fsnotify.h) ------------------------------

/**
 * Send `mask` to the watches on `inode` that asked for it (`name`: the child
 * a directory's event is about). `unlinked`: the event is on an open file
 * that has no name any more, which IN_EXCL_UNLINK watches do not hear.
 */
function send(inode: Inode, mask: number, name = "", cookie = 0, unlinked = false): void {
  const list = watchesOn.get(inode);
  if (!list) return;
  for (const w of [...list]) {
    if (unlinked && w.mask & IN_EXCL_UNLINK) continue;
    if (w.mask & mask & IN_ALL_EVENTS) w.group.deliver(w, mask, name, cookie);
  }
}

const dirFlag = (inode: Inode): number => (isDir(inode.mode) ? IN_ISDIR : 0);

/**
 * An event on the inode `d` names (Linux: fsnotify_parent + fsnotify): the
 * parent directory's watches hear it first, with the name, then the inode's own.
 */
export function notifyDentry(d: Dentry, mask: number): void {
  const m = (mask | dirFlag(d.inode)) >>> 0;
  // Linux tests d_unlinked on the dentry; a name count of 0 is the same for a file with one name.
  const unlinked = d.inode.nlink === 0;
  if (d.parent && mask & ON_CHILD) send(d.parent.inode, m, d.name, 0, unlinked);
  send(d.inode, m, "", 0, unlinked);
}

/** fsnotify_open / fsnotify_close on a file opened by `d`. */
export const notifyOpen = (d: Dentry): void => notifyDentry(d, IN_OPEN);
export const notifyClose = (d: Dentry, wrote: boolean): void => notifyDentry(d, wrote ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);

/** fsnotify_create / fsnotify_mkdir / fsnotify_link: a new name `name` for `inode` in `dir`. */
export function notifyCreate(dir: Inode, name: string, inode: Inode, linked = false): void {
  if (linked) send(inode, (IN_ATTRIB | dirFlag(inode)) >>> 0);
  send(dir, (IN_CREATE | dirFlag(inode)) >>> 0, name);
}

/** Linux: fsnotify_inoderemove — the last name went: IN_DELETE_SELF, then the watches end (IN_IGNORED). */
function removed(inode: Inode): void {
  send(inode, IN_DELETE_SELF);
  for (const w of [...(watchesOn.get(inode) ?? [])]) w.group.drop(w, true);
}

/**
 * vfs_unlink / vfs_rmdir + d_delete_notify: a file's link count changes
 * (IN_ATTRIB), the inode is removed when no name is left (IN_DELETE_SELF,
 * which inotify never flags IN_ISDIR), then the directory hears IN_DELETE.
 */
export function notifyDelete(dir: Inode, name: string, inode: Inode): void {
  if (!isDir(inode.mode)) send(inode, IN_ATTRIB);
  if (inode.nlink === 0) removed(inode);
  send(dir, (IN_DELETE | dirFlag(inode)) >>> 0, name);
}

/** fsnotify_get_cookie: the number pairing IN_MOVED_FROM with IN_MOVED_TO. */
let lastCookie = 0;

/** fsnotify_move: `inode` went from `oldName` in `oldDir` to `newName` in `newDir`, replacing `target`. */
export function notifyMove(oldDir: Inode, oldName: string, newDir: Inode, newName: string, inode: Inode, target?: Inode): void {
  const cookie = (lastCookie = (lastCookie + 1) >>> 0);
  const isdir = dirFlag(inode);
  send(oldDir, (IN_MOVED_FROM | isdir) >>> 0, oldName, cookie);
  send(newDir, (IN_MOVED_TO | isdir) >>> 0, newName, cookie);
  if (target) send(target, (IN_ATTRIB | dirFlag(target)) >>> 0);
  send(inode, IN_MOVE_SELF);
  if (target && target.nlink === 0) removed(target);
}

// --- one-call hooks: each passes the operation's result through and reports it when it succeeded ---

/** vfs_read: bytes were read (fsnotify_access). */
export function accessed<T extends Uint8Array | Errno>(d: Dentry, r: T): T {
  if (r instanceof Uint8Array && r.length) notifyDentry(d, IN_ACCESS);
  return r;
}

/** vfs_write: bytes were written (fsnotify_modify). */
export function modified<T extends number | Errno>(d: Dentry, r: T): T {
  if (typeof r === "number" && r > 0) notifyDentry(d, IN_MODIFY);
  return r;
}

/** A new name (create, mkdir, mknod, symlink) made `r`. */
export function created<T extends Inode | Errno>(dir: Inode, name: string, r: T): T {
  if (!(r instanceof Errno)) notifyCreate(dir, name, r as Inode);
  return r;
}

/** link(2) gave `inode` the name `name` in `dir`. */
export function linked(dir: Inode, name: string, inode: Inode, r: 0 | Errno): 0 | Errno {
  if (r === 0) notifyCreate(dir, name, inode, true);
  return r;
}

/** unlink or rmdir removed `name` (`inode`) from `dir`. */
export function deleted(dir: Inode, name: string, inode: Inode, r: 0 | Errno): 0 | Errno {
  if (r === 0) notifyDelete(dir, name, inode);
  return r;
}

/** rename moved `inode` from `oldName` in `oldDir` to `newName` in `newDir`, over `target`; an exchange moves both. */
export function renamed(oldDir: Inode, oldName: string, newDir: Inode, newName: string, inode: Inode,
  target: Inode | undefined, flags: number, r: 0 | Errno): 0 | Errno {
  if (r !== 0) return r;
  if (flags & RENAME_EXCHANGE && target) {
    notifyMove(oldDir, oldName, newDir, newName, inode);
    notifyMove(newDir, newName, oldDir, oldName, target);
  } else {
    notifyMove(oldDir, oldName, newDir, newName, inode, target);
  }
  return r;
}

/**
 * Linux: fsnotify_change — owner, mode or both times are IN_ATTRIB; the size,
 * or the mtime alone, IN_MODIFY; the atime alone IN_ACCESS.
 */
export function attrChanged(d: Dentry, attr: SetAttr, r: 0 | Errno): 0 | Errno {
  if (r !== 0) return r;
  let mask = 0;
  if (attr.uid !== undefined || attr.gid !== undefined || attr.mode !== undefined) mask |= IN_ATTRIB;
  if (attr.size !== undefined) mask |= IN_MODIFY;
  if (attr.atimeMs !== undefined && attr.mtimeMs !== undefined) mask |= IN_ATTRIB;
  else if (attr.atimeMs !== undefined) mask |= IN_ACCESS;
  else if (attr.mtimeMs !== undefined) mask |= IN_MODIFY;
  if (mask) notifyDentry(d, mask);
  return r;
}
