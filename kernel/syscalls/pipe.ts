/** Pipes and event counters: pipe, pipe2, eventfd, eventfd2. Linux: fs/pipe.c, fs/eventfd.c. */
import type { Handler } from "../abi";
import { EINVAL, Errno, ENOPKG } from "../errno";
import { EFD_SEMAPHORE, EventFdFile } from "../eventfd";
import { O_NONBLOCK, type SysRet } from "../file";
import { createPipe } from "../pipe";
import type { Task } from "../task";

const O_CLOEXEC = 0o2000000;
/** O_NOTIFICATION_PIPE is O_EXCL (include/uapi/linux/watch_queue.h). */
const O_NOTIFICATION_PIPE = 0o200;

/** O_DIRECT: asm-generic's 040000, arm64's own 0200000. */
function oDirect(t: Task): number {
  return t.arch.name === "aarch64" ? 0o200000 : 0o40000;
}

/**
 * Linux: do_pipe2 — the flags, then both descriptors, then the copy to the
 * caller (EFAULT leaves no descriptor behind).
 */
function doPipe(t: Task, fildes: number, flags: number): SysRet {
  const direct = oDirect(t);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | direct | O_NOTIFICATION_PIPE)) return EINVAL;
  // A notification pipe needs CONFIG_WATCH_QUEUE; syscage answers as a kernel built without it.
  if (flags & O_NOTIFICATION_PIPE) return ENOPKG;
  const [r, w] = createPipe(t, (flags & O_NONBLOCK) !== 0, direct, (flags & direct) !== 0);
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
