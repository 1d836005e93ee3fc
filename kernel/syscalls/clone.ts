/** Process creation and exit: clone, clone3, fork, vfork, exit, exit_group. Linux: kernel/fork.c, kernel/exit.c. */
import type { Handler } from "../abi";
import { E2BIG, EINVAL, EPERM, Errno } from "../errno";
import { Block, type SysRet } from "../file";
import { ThreadGroup } from "../process";
import { Task } from "../task";
import { WaitQueue } from "../waitqueue";
import { holdMappedFiles } from "../writeback";
import { PROT_WRITE } from "../memory";
import { reservePidfd } from "../pidfd";

/** Clone flags, include/uapi/linux/sched.h. */
const CSIGNAL = 0xff, CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
  CLONE_PIDFD = 0x1000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000,
  CLONE_NEWNS = 0x20000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000,
  CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000, CLONE_CHILD_SETTID = 0x1000000;
/** Namespace flags: a sandbox is already its own namespace, and nested ones are not offered. */
const CLONE_NEWALL = 0x20000 | 0x2000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
const SIGCHLD = 17;

interface CloneRequest {
  flags: number;
  exitSignal: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
  /** Where CLONE_PIDFD stores the new pidfd: clone's parent_tid, clone3's own field. */
  pidfd: number;
}

function doClone(t: Task, req: CloneRequest): SysRet {
  const { flags } = req;
  // kernel_clone: the pidfd and the parent's tid cannot share one word.
  if (flags & CLONE_PIDFD && flags & CLONE_PARENT_SETTID && req.pidfd === req.parentTid) return EINVAL;
  // copy_process's consistency rules.
  if ((flags & (CLONE_NEWNS | CLONE_FS)) === (CLONE_NEWNS | CLONE_FS)) return EINVAL;
  if (flags & CLONE_THREAD && !(flags & CLONE_SIGHAND)) return EINVAL;
  if (flags & CLONE_SIGHAND && !(flags & CLONE_VM)) return EINVAL;
  if (flags & CLONE_PIDFD && flags & (CLONE_DETACHED | CLONE_THREAD)) return EINVAL;
  if (flags & CLONE_NEWALL) return EPERM;
  // copy_process takes the pidfd and stores it before the child exists: EMFILE or EFAULT means no child.
  const pidfd = flags & CLONE_PIDFD ? reservePidfd(t) : undefined;
  if (pidfd instanceof Errno) return pidfd;
  if (pidfd) {
    try {
      t.mm.check(req.pidfd, 4, PROT_WRITE);
    } catch (e) {
      t.fds.close(pidfd.fd);
      throw e;
    }
  }

  const kernel = t.kernel;
  const tid = kernel.processes.allocPid();
  let child: Task;
  if (flags & CLONE_THREAD) {
    child = new Task(t.pid, tid, t.ppid, t.mm, t.fds, t.arch, t.proc);
    kernel.addThread(child, t.group);
  } else {
    // The CPU first: when the host has no room for it, nothing else has been shared or counted yet.
    const forked = flags & CLONE_VM ? undefined : kernel.machine.forkProcess(t);
    if (forked instanceof Errno) {
      if (pidfd) t.fds.close(pidfd.fd);
      return forked;
    }
    const parentGroup = flags & CLONE_PARENT ? t.group.parent : t.group;
    const g = new ThreadGroup(tid, parentGroup, t.group.pgid, t.group.sid);
    g.exitSignal = req.exitSignal;
    const fds = flags & CLONE_FILES ? t.fds : t.fds.clone();
    // Without CLONE_FS the child gets its own cwd, root and umask from here on.
    const proc = { ...t.proc, vfs: flags & CLONE_FS ? t.proc.vfs : t.proc.vfs?.fork() };
    child = new Task(tid, tid, parentGroup?.pid ?? 0, forked?.mm ?? t.mm, fds, forked?.arch ?? t.arch, proc);
    kernel.adopt(child, g);
    if (forked) {
      forked.attach(g);
      holdMappedFiles(forked.mm);
    } else {
      kernel.machine.shareCpu(g, t.group);
      t.mm.users++;
    }
  }
  child.kernel = kernel;
  child.sigmask = t.sigmask;
  child.noNewPrivs = t.noNewPrivs;
  child.seccomp = t.seccomp;
  child.sighand = flags & CLONE_SIGHAND ? t.sighand : t.sighand.clone();
  kernel.machine.prepareChild(t, child, req.stack, flags & CLONE_SETTLS ? req.tls : undefined);

  if (pidfd) {
    pidfd.file.attach(t, child.group);
    t.mm.setU32(req.pidfd, pidfd.fd);
  }
  if (flags & CLONE_PARENT_SETTID) t.mm.setU32(req.parentTid, tid);
  if (flags & CLONE_CHILD_SETTID) child.mm.setU32(req.childTid, tid);
  if (flags & CLONE_CHILD_CLEARTID) child.clearChildTid = req.childTid;
  kernel.sched.add(child);

  if (flags & CLONE_VFORK) {
    const done = (child.group.vforkDone = new WaitQueue());
    return new Block(done.wait(), () => tid);
  }
  return tid;
}

/** Implements clone(2); i386 and aarch64 pass tls before child_tid. */
export const clone: Handler = (t, a) => {
  const flags = a.uint(0);
  const backwards = t.arch.cloneBackwards;
  return doClone(t, {
    flags: flags & ~CSIGNAL, exitSignal: flags & CSIGNAL, stack: a.ptr(1), parentTid: a.ptr(2),
    tls: backwards ? a.ptr(3) : a.ptr(4), childTid: backwards ? a.ptr(4) : a.ptr(3), pidfd: a.ptr(2),
  });
};

/** struct clone_args sizes, include/uapi/linux/sched.h (CLONE_ARGS_SIZE_VER0..2). */
const CLONE_ARGS_SIZE_VER0 = 64, CLONE_ARGS_SIZE_VER2 = 88;

/** Implements clone3(2). The new stack is [stack, stack + stack_size). Linux: kernel/fork.c copy_clone_args_from_user. */
export const clone3: Handler = (t, a) => {
  const p = a.ptr(0), size = a.ulong(1);
  if (size > 4096) return E2BIG;
  if (size < CLONE_ARGS_SIZE_VER0) return EINVAL;
  // copy_struct_from_user: all `size` bytes must be readable (EFAULT), and what this kernel does not know must be zero.
  const raw = t.mm.read(p, size);
  if (raw.subarray(CLONE_ARGS_SIZE_VER2).some((b) => b !== 0)) return E2BIG;
  const u = (i: number) => (8 * i + 8 <= size ? t.mm.u64n(p + 8 * i) : 0);
  const flags = u(0), exitSignal = u(4), stack = u(5), stackSize = u(6);
  if (flags >= 2 ** 32 || exitSignal > 64 || flags & CSIGNAL) return EINVAL;
  if ((stack === 0) !== (stackSize === 0)) return EINVAL;
  if (size > 72 && u(9) !== 0) return EPERM; // set_tid needs CAP_SYS_ADMIN over a pid namespace we do not offer
  return doClone(t, {
    flags, exitSignal, stack: stack ? stack + stackSize : 0, parentTid: u(3), childTid: u(2), tls: u(7), pidfd: u(1),
  });
};

/** Implements fork(2). */
export const fork: Handler = (t) =>
  doClone(t, { flags: 0, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0, pidfd: 0 });

/** Implements vfork(2): the parent waits until the child execs or exits. */
export const vfork: Handler = (t) =>
  doClone(t, { flags: CLONE_VM | CLONE_VFORK, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0, pidfd: 0 });

/** Implements exit(2): ends the calling thread; the last thread's code is the process's. */
export const exit: Handler = (t, a) => {
  t.exit = { code: a.int(0) & 0xff };
  return 0;
};

/** Implements exit_group(2): ends every thread of the process. */
export const exit_group: Handler = (t, a) => {
  const status = { code: a.int(0) & 0xff };
  t.exit = status;
  t.kernel.sched.killGroup(t.group, status);
  return 0;
};
