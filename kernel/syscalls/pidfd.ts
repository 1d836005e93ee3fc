/** Syscalls on process file descriptors: pidfd_open, pidfd_send_signal, process_mrelease. Linux: kernel/pid.c, kernel/signal.c, mm/oom_kill.c. */
import type { Handler } from "../abi";
import { EBADF, EINVAL, EPERM, ESRCH, Errno } from "../errno";
import { O_NONBLOCK } from "../file";
import { PidFile } from "../pidfd";
import type { ThreadGroup } from "../process";
import { NSIG, SI_TKILL, SI_USER, type PendingSignal } from "../signal";
import type { Task } from "../task";
import { DirFile } from "../vfs/file";
import { ProcFs } from "../vfs/procfs";

/** PIDFD_NONBLOCK is O_NONBLOCK (include/uapi/linux/pidfd.h). */
const PIDFD_NONBLOCK = O_NONBLOCK;

/** The process a pidfd names, as pidfd_pid finds it: EBADF for a bad descriptor or one that is not a pidfd. */
function pidfdGroup(t: Task, fd: number): ThreadGroup | Errno {
  const f = t.fds.get(fd);
  if (!(f instanceof PidFile) || !f.group) return EBADF;
  return f.group;
}

/**
 * What pidfd_send_signal accepts (pidfd_to_pid): a pidfd, or an open /proc/PID
 * directory (tgid_pidfd_to_pid) — not /proc/PID/task/TID. A process that is
 * gone is ESRCH when the signal is sent.
 */
function signalTarget(t: Task, fd: number): ThreadGroup | Errno | "gone" {
  const f = t.fds.get(fd);
  if (f instanceof DirFile && f.path.d.inode.fs instanceof ProcFs) {
    const d = f.path.d;
    if (d.parent?.parent !== undefined || !/^[1-9][0-9]*$/.test(d.name)) return EBADF;
    return t.kernel.processes.groups.get(Number(d.name)) ?? "gone";
  }
  return pidfdGroup(t, fd);
}

/** Implements pidfd_open(2). Linux: kernel/pid.c pidfd_open, pidfd_create. */
export const pidfd_open: Handler = (t, a) => {
  const pid = a.int(0), flags = a.uint(1);
  if (flags & ~PIDFD_NONBLOCK) return EINVAL;
  if (pid <= 0) return EINVAL;
  const g = t.kernel.processes.groups.get(pid);
  if (!g || g.reaped) {
    // A thread's id is a pid too, but not a thread group's (pid_has_task(PIDTYPE_TGID) fails).
    return t.kernel.processes.tasks.has(pid) ? EINVAL : ESRCH;
  }
  const file = new PidFile(flags);
  file.attach(t, g);
  // pidfds are always close-on-exec.
  return t.fds.install(file, true);
};

/** siginfo_t fields pidfd_send_signal reads: si_signo, si_code, and _kill/_rt's si_pid, si_uid, si_value. */
function readSiginfo(t: Task, p: number): PendingSignal {
  // The union follows three ints, aligned to the arch's pointer size.
  const u = t.arch.wordSize === 8 ? 16 : 12;
  const value = t.arch.wordSize === 8 ? t.mm.u64(p + u + 8) : BigInt(t.mm.u32(p + u + 8));
  return { sig: t.mm.i32(p), code: t.mm.i32(p + 8), pid: t.mm.i32(p + u), uid: t.mm.u32(p + u + 4), value };
}

/** Implements pidfd_send_signal(2). Linux: kernel/signal.c pidfd_send_signal, kill_pid_info. */
export const pidfd_send_signal: Handler = (t, a) => {
  const sig = a.int(1), infop = a.ptr(2), flags = a.uint(3);
  if (flags) return EINVAL;
  const g = signalTarget(t, a.int(0));
  if (g instanceof Errno) return g;
  let info: PendingSignal;
  if (infop) {
    info = readSiginfo(t, infop);
    if (info.sig !== sig) return EINVAL;
    // Only a process signalling itself may pass kernel-reserved codes (si_code >= 0) or SI_TKILL.
    if (t.tid !== (g === "gone" ? 0 : g.pid) && (info.code >= 0 || info.code === SI_TKILL)) return EPERM;
  } else {
    info = { sig, code: SI_USER, pid: t.group.pid, uid: t.proc.uid };
  }
  // kill_pid_info: a reaped process is gone (ESRCH) before the signal is looked at; a zombie takes it and ignores it.
  if (g === "gone" || g.reaped) return ESRCH;
  // check_kill_permission's valid_signal: an unsigned comparison, so negative numbers fail too.
  if (sig < 0 || sig > NSIG) return EINVAL;
  if (sig !== 0) t.kernel.signalGroup(g, info);
  return 0;
};

/**
 * Implements process_mrelease(2). Linux: mm/oom_kill.c. Only a process already
 * dying still has memory to reap early; a live one is EINVAL, one whose memory
 * is gone (a zombie) ESRCH. Memory is released as the process exits anyway.
 */
export const process_mrelease: Handler = (t, a) => {
  if (a.uint(1)) return EINVAL;
  const g = pidfdGroup(t, a.int(0));
  if (g instanceof Errno) return g;
  if (g.exit || g.reaped) return ESRCH;
  return g.exiting ? 0 : EINVAL;
};
