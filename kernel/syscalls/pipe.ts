/** Pipes and event counters: pipe, pipe2, eventfd, eventfd2. Linux: fs/pipe.c, fs/eventfd.c. */
import type { Handler } from "../abi";
import { EINVAL, Errno, ENOPKG } from "../errno";
import { EFD_SEMAPHORE, EventFdFile } from "../eventfd";
import { O_NONBLOCK, type SysRet } from "../file";
import { createPipe } from "../pipe";
import type { Task } from "../task";
import { O_DIRECT, O_LARGEFILE, openFlagsFromGuest } from "../vfs/types";

const O_CLOEXEC = 0o2000000;
/** O_NOTIFICATION_PIPE is O_EXCL (include/uapi/linux/watch_queue.h). */
const O_NOTIFICATION_PIPE = 0o200;

/**
 * Linux: do_pipe2 — the flags, then both descriptors, then the copy to the
 * caller (EFAULT leaves no descriptor behind).
 */
function doPipe(t: Task, fildes: number, guestFlags: number): SysRet {
  // File flags are kept in asm-generic's numbering (O_DIRECT differs on arm64) and converted back by F_GETFL.
  const flags = openFlagsFromGuest(t.arch.name, guestFlags);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) return EINVAL;
  // A notification pipe needs CONFIG_WATCH_QUEUE; syscage answers as a kernel built without it.
  if (flags & O_NOTIFICATION_PIPE) return ENOPKG;
  // 64-bit kernels open every file O_LARGEFILE (force_o_largefile); compat tasks' pipes are not.
  const extra = t.arch.wordSize === 8 ? O_LARGEFILE : 0;
  const [r, w] = createPipe(t, (flags & O_NONBLOCK) !== 0, (flags & O_DIRECT) !== 0, extra);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = t.fds.install(r, cloexec);
  if (rfd instanceof Errno) {
    r.release();
    w.release();
    return rfd;
  }
  const wfd = t.fds.install(w, cloexec);
  if (wfd instanceof Errno) {
    t.fds.close(rfd);
    w.release();
    return wfd;
  }
  try {
    t.mm.setU32(fildes, rfd);
    t.mm.setU32(fildes + 4, wfd);
  } catch (e) {
    t.fds.close(rfd);
    t.fds.close(wfd);
    throw e;
  }
  return 0;
}

/** Implements pipe(2). */
export const pipe: Handler = (t, a) => doPipe(t, a.ptr(0), 0);
/** Implements pipe2(2): O_CLOEXEC, O_NONBLOCK and O_DIRECT (packet mode). */
export const pipe2: Handler = (t, a) => doPipe(t, a.ptr(0), a.int(1));

/** Linux: do_eventfd — only EFD_CLOEXEC, EFD_NONBLOCK and EFD_SEMAPHORE. */
function doEventfd(t: Task, initval: number, flags: number): SysRet {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE)) return EINVAL;
  const file = new EventFdFile(BigInt(initval), (flags & EFD_SEMAPHORE) !== 0, (flags & O_NONBLOCK) !== 0);
  return t.fds.install(file, (flags & O_CLOEXEC) !== 0);
}

/** Implements eventfd2(2). */
export const eventfd2: Handler = (t, a) => doEventfd(t, a.uint(0), a.int(1));
/** Implements eventfd(2): eventfd2 without flags. */
export const eventfd: Handler = (t, a) => doEventfd(t, a.uint(0), 0);
