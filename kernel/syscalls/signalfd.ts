/** signalfd(2) and signalfd4(2). Linux: fs/signalfd.c do_signalfd4. */
import type { Handler } from "../abi";
import { EBADF, EINVAL } from "../errno";
import { O_NONBLOCK, type SysRet } from "../file";
import { SignalFdFile } from "../signalfd";
import type { Task } from "../task";

const O_CLOEXEC = 0o2000000;
/** sizeof(sigset_t) as the kernel sees it. */
const SIGSET_SIZE = 8;

function doSignalfd(t: Task, fd: number, maskp: number, size: number, flags: number): SysRet {
  if (size !== SIGSET_SIZE) return EINVAL;
  const mask = t.mm.u64(maskp);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return EINVAL;
  if (fd === -1) return t.fds.install(new SignalFdFile(t, mask, (flags & O_NONBLOCK) !== 0), (flags & O_CLOEXEC) !== 0);
  const file = t.fds.get(fd);
  if (!file) return EBADF;
  if (!(file instanceof SignalFdFile)) return EINVAL;
  // Changing the mask of an existing descriptor ignores the flags (they belong to its file description).
  file.setMask(t, mask);
  return fd;
}

/** Implements signalfd4(2). */
export const signalfd4: Handler = (t, a) => doSignalfd(t, a.int(0), a.ptr(1), a.ulong(2), a.int(3));
/** Implements signalfd(2): signalfd4 without flags. */
export const signalfd: Handler = (t, a) => doSignalfd(t, a.int(0), a.ptr(1), a.ulong(2), 0);
