/** Waiting for children, process groups and sessions. Linux: kernel/exit.c do_wait, kernel/sys.c. */
import type { Handler } from "../abi";
import { ECHILD, EINVAL, EPERM, ESRCH } from "../errno";
import { Block, type SysRet } from "../file";
import { INIT_PID } from "../kernel";
import type { ThreadGroup } from "../process";
import type { ExitStatus, Task } from "../task";

const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000;
const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2;
const SIGCHLD = 17, SIGCONT = 18, CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6;

/** The wait status word: code << 8, the signal (0x80 for a core dump), sig << 8 | 0x7f when stopped, 0xffff when continued. */
function waitStatus(ev: ChildEvent): number {
  if (ev.kind === "stopped") return (ev.sig << 8) | 0x7f;
  if (ev.kind === "continued") return 0xffff;
  const s = ev.status;
  return s.signal === undefined ? (s.code & 0xff) << 8 : s.signal | (s.core ? 0x80 : 0);
}

/** wait4 always collects exits (WEXITED is implied); this private bit says so to waitFor. */
const WAIT4_EXITS = 0x10000000;

type Selector = (g: ThreadGroup) => boolean;

/** What a waiter can collect from a child: its end, or (when asked for) a stop or a continue. */
type ChildEvent = { kind: "exit"; status: ExitStatus } | { kind: "stopped"; sig: number } | { kind: "continued" };

/** The common core of wait4 and waitid: find a child with something to report, or sleep until one has. */
function waitFor(t: Task, select: Selector, options: number, report: (g: ThreadGroup, ev: ChildEvent) => SysRet): SysRet {
  const candidates = [...t.group.children].filter(select);
  if (candidates.length === 0) return ECHILD;
  const zombie = options & (WEXITED | WAIT4_EXITS) ? candidates.find((g) => g.zombie) : undefined;
  if (zombie) {
    const r = report(zombie, { kind: "exit", status: zombie.exit! });
    if (!(options & WNOWAIT)) t.kernel.reap(zombie);
    return r;
  }
  const stopped = options & WUNTRACED ? candidates.find((g) => g.waitEvent === "stopped" && g.stopped) : undefined;
  if (stopped) {
    if (!(options & WNOWAIT)) stopped.waitEvent = undefined;
    return report(stopped, { kind: "stopped", sig: stopped.stopped! });
  }
  const continued = options & WCONTINUED ? candidates.find((g) => g.waitEvent === "continued") : undefined;
  if (continued) {
    if (!(options & WNOWAIT)) continued.waitEvent = undefined;
    return report(continued, { kind: "continued" });
  }
  if (options & WNOHANG) return 0;
  return new Block(t.group.childEvents.wait(), () => waitFor(t, select, options, report));
}

function byPid(t: Task, pid: number): Selector {
  if (pid > 0) return (g) => g.pid === pid;
  if (pid === 0) return (g) => g.pgid === t.group.pgid;
  if (pid === -1) return () => true;
  return (g) => g.pgid === -pid;
}

/** Implements wait4(2). rusage is reported as zeros (usage accounting comes later). */
export const wait4: Handler = (t, a) => {
  const pid = a.int(0), statusp = a.ptr(1), options = a.int(2), rusage = a.ptr(3);
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) return EINVAL;
  if (pid === -2147483648) return ESRCH; // INT_MIN cannot be negated into a pgid
  return waitFor(t, byPid(t, pid), options | WAIT4_EXITS, (g, ev) => {
    if (statusp) t.mm.setU32(statusp, waitStatus(ev));
    if (rusage) t.mm.write(rusage, new Uint8Array(t.arch.wordSize === 8 ? 144 : 72));
    return g.pid;
  });
};

/** Implements waitpid(2) (i386 only): wait4 without rusage. */
export const waitpid: Handler = (t, a) => {
  const pid = a.int(0), statusp = a.ptr(1), options = a.int(2);
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) return EINVAL;
  return waitFor(t, byPid(t, pid), options | WAIT4_EXITS, (g, ev) => {
    if (statusp) t.mm.setU32(statusp, waitStatus(ev));
    return g.pid;
  });
};

/** Implements waitid(2), filling a siginfo_t for SIGCHLD. */
export const waitid: Handler = (t, a) => {
  const idtype = a.int(0), id = a.int(1), infop = a.ptr(2), options = a.int(3);
  if (options & ~(WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) return EINVAL;
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) return EINVAL;
  let select: Selector;
  if (idtype === P_ALL) select = () => true;
  else if (idtype === P_PID) { if (id <= 0) return EINVAL; select = (g) => g.pid === id; }
  else if (idtype === P_PGID) { if (id < 0) return EINVAL; const pg = id || t.group.pgid; select = (g) => g.pgid === pg; }
  else return EINVAL;
  const r = waitFor(t, select, options, (g, ev) => {
    if (infop) writeChildInfo(t, infop, g, ev);
    return 0;
  });
  // With WNOHANG and nothing to report, Linux zeroes si_pid (and si_signo) so the caller can tell.
  if (r === 0 && options & WNOHANG && infop && ![...t.group.children].some((g) => select(g) && (g.zombie || g.waitEvent))) {
    t.mm.write(infop, new Uint8Array(128));
  }
  return r;
};

/** siginfo_t for a child's exit: the union starts after three ints, aligned to the word size. */
function writeChildInfo(t: Task, p: number, g: ThreadGroup, ev: ChildEvent): void {
  const b = new Uint8Array(128), d = new DataView(b.buffer);
  const u = t.arch.wordSize === 8 ? 16 : 12;
  let code: number, status: number;
  if (ev.kind === "stopped") [code, status] = [CLD_STOPPED, ev.sig];
  else if (ev.kind === "continued") [code, status] = [CLD_CONTINUED, SIGCONT];
  else {
    const s = ev.status;
    code = s.signal === undefined ? CLD_EXITED : s.core ? CLD_DUMPED : CLD_KILLED;
    status = s.signal ?? s.code;
  }
  d.setInt32(0, SIGCHLD, true);
  d.setInt32(8, code, true);
  d.setInt32(u, g.pid, true);
  d.setUint32(u + 4, t.proc.uid, true);
  d.setInt32(u + 8, status, true);
  t.mm.write(p, b);
}

/** Implements getppid(2): orphans and the first process report the sandbox's (virtual) init. */
export const getppid: Handler = (t) => t.group.parent?.pid ?? INIT_PID;

function groupOf(t: Task, pid: number): ThreadGroup | undefined {
  return pid === 0 ? t.group : t.kernel.processes.groups.get(pid);
}

/** Implements getpgid(2). */
export const getpgid: Handler = (t, a) => groupOf(t, a.int(0))?.pgid ?? ESRCH;
/** Implements getpgrp(2). */
export const getpgrp: Handler = (t) => t.group.pgid;
/** Implements getsid(2). */
export const getsid: Handler = (t, a) => groupOf(t, a.int(0))?.sid ?? ESRCH;

/** Implements setsid(2): EPERM for a process group leader. */
export const setsid: Handler = (t) => {
  const g = t.group;
  if ([...t.kernel.processes.groups.values()].some((o) => o.pgid === g.pid)) return EPERM;
  g.sid = g.pgid = g.pid;
  t.proc.ctty = undefined;
  return g.pid;
};

/** Implements setpgid(2). Linux: kernel/sys.c. */
export const setpgid: Handler = (t, a) => {
  const pid = a.int(0) || t.group.pid;
  let pgid = a.int(1);
  if (pgid < 0) return EINVAL;
  const g = t.kernel.processes.groups.get(pid);
  if (!g || (g !== t.group && g.parent !== t.group)) return ESRCH;
  if (g.sid === g.pid) return EPERM; // a session leader cannot move
  if (g.sid !== t.group.sid) return EPERM;
  if (pgid === 0) pgid = g.pid;
  if (pgid !== g.pid && ![...t.kernel.processes.groups.values()].some((o) => o.pgid === pgid && o.sid === t.group.sid)) return EPERM;
  g.pgid = pgid;
  return 0;
};
