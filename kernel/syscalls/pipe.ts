/** Anonymous pipes: pipe(2) and pipe2(2). Linux: fs/pipe.c do_pipe2. */
import type { Handler } from "../abi";
import { EINVAL, Errno } from "../errno";
import type { SysRet } from "../file";
import type { Task } from "../task";
import { makePipe } from "../vfs/pipefs";
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK, openFlagsFromGuest } from "../vfs/types";

const O_NOTIFICATION_PIPE = O_DIRECT;

function doPipe(t: Task, fdsPtr: number, guestFlags: number): SysRet {
  const flags = openFlagsFromGuest(t.arch.name, guestFlags);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) return EINVAL;
  const [r, w] = makePipe(t.proc.euid, t.proc.egid, flags & O_NONBLOCK, t.arch.wordSize);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = t.fds.install(r, cloexec);
  if (rfd instanceof Errno) return rfd;
  const wfd = t.fds.install(w, cloexec);
  if (wfd instanceof Errno) {
    t.fds.close(rfd);
    return wfd;
  }
  try {
    t.mm.setU32(fdsPtr, rfd);
    t.mm.setU32(fdsPtr + 4, wfd);
  } catch (e) {
    t.fds.close(rfd);
    t.fds.close(wfd);
    throw e;
  }
  return 0;
}

/** Implements pipe(2). */
export const pipe: Handler = (t, a) => doPipe(t, a.ptr(0), 0);
/** Implements pipe2(2). */
export const pipe2: Handler = (t, a) => doPipe(t, a.ptr(0), a.int(1));
