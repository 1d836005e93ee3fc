/**
 * Readiness syscalls: poll, ppoll, select, pselect6 (and their i386 and
 * time64 forms), and epoll. Linux: fs/select.c, fs/eventpoll.c.
 *
 * ppoll, pselect6 and epoll_pwait wait under the signal mask they are given,
 * as Linux's set_user_sigmask/restore_saved_sigmask do.
 */
import type { Handler, SyscallArgs } from "../abi";
import { EBADF, EINTR, EINVAL, EPERM, Errno } from "../errno";
import {
  Block, canPoll, FileDescription, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM,
  type Readiness, type SysRet,
} from "../file";
import { GuestFault } from "../memory";
import { Deadline, EPOLL_CTL_DEL, EpollFile, waitReady } from "../poll";
import { RLIMIT_NOFILE } from "../rlimits";
import { hasDeliverable, UNBLOCKABLE } from "../signal";
import type { Task } from "../task";

const O_CLOEXEC = 0o2000000;
const NSEC_PER_SEC = 1_000_000_000;
/** sizeof(sigset_t) as the kernel sees it. */
const SIGSET_SIZE = 8;
/** struct pollfd: int fd; short events; short revents. */
const POLLFD_SIZE = 8;
/** INT_MAX / sizeof(struct epoll_event), the bound on maxevents. */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / 12);
/** What select's three sets mean in poll bits (fs/select.c POLLIN_SET, POLLOUT_SET, POLLEX_SET). */
const POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET = POLLPRI;

// --- timeouts ---------------------------------------------------------------------

/** How a timeout reaches the kernel and, for the remaining time, goes back. */
type TimeFormat = "timespec" | "timespec64" | "timeval";

/** Bytes of one time struct: the arch's longs, or two s64 for the *_time64 calls. */
function timeSize(t: Task, format: TimeFormat): number {
  return format === "timespec64" || t.arch.wordSize === 8 ? 16 : 8;
}

function readPair(t: Task, p: number, format: TimeFormat): [number, number] {
  if (timeSize(t, format) === 16) {
    return [Number(BigInt.asIntN(64, t.mm.u64(p))), Number(BigInt.asIntN(64, t.mm.u64(p + 8)))];
  }
  return [t.mm.i32(p), t.mm.i32(p + 4)];
}

/**
 * A guest timeout as a deadline. Linux: poll_select_set_timeout — negative
 * seconds or nanoseconds out of range are EINVAL; select's timeval folds
 * whole seconds out of tv_usec first (kern_select).
 */
function readTimeout(t: Task, p: number, format: TimeFormat): Deadline | Errno {
  let [sec, frac] = readPair(t, p, format);
  let nsec: number;
  if (format === "timeval") {
    sec += Math.trunc(frac / 1e6);
    nsec = (frac % 1e6) * 1000;
  } else {
    nsec = frac;
  }
  if (sec < 0 || nsec < 0 || nsec >= NSEC_PER_SEC) return EINVAL;
  return Deadline.inMs(sec * 1000 + nsec / 1e6);
}

/**
 * Linux: poll_select_finish — the time left goes back to the caller's
 * struct (not for a zero timeout); an unwritable struct is ignored.
 */
function finishTimeout(t: Task, p: number, format: TimeFormat, deadline: Deadline, zero: boolean, ret: SysRet): SysRet {
  if (!p || zero || deadline.forever) return ret;
  const ms = deadline.remainingMs();
  const sec = Math.floor(ms / 1000), nsec = Math.floor((ms - sec * 1000) * 1e6);
  const frac = format === "timeval" ? Math.floor(nsec / 1000) : nsec;
  try {
    if (timeSize(t, format) === 16) {
      t.mm.setU64(p, BigInt(sec));
      t.mm.setU64(p + 8, BigInt(frac));
    } else {
      t.mm.setU32(p, sec);
      t.mm.setU32(p + 4, frac);
    }
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
  }
  return ret;
}

/** set_user_sigmask's check: a mask must be exactly a sigset_t (EINVAL), and readable (EFAULT). */
function checkSigmask(t: Task, mask: number, size: number): Errno | undefined {
  if (!mask) return undefined;
  if (size !== SIGSET_SIZE) return EINVAL;
  t.mm.u64(mask);
  return undefined;
}

/**
 * Run a wait under the caller's temporary signal mask (set_user_sigmask):
 * a handler that interrupts it returns to the old mask through its frame
 * (savedMask, as rt_sigsuspend), and a normal finish restores it here.
 */
function withUserSigmask(t: Task, mask: number, run: () => SysRet): SysRet {
  if (!mask) return run();
  const old = t.sigmask;
  t.signals.savedMask = old;
  t.sigmask = t.mm.u64(mask) & ~UNBLOCKABLE;
  if (hasDeliverable(t)) {
    t.reschedule = true;
    return EINTR;
  }
  return andThen(run(), (r) => {
    if (t.signals.savedMask === old) {
      t.sigmask = old;
      t.signals.savedMask = undefined;
    }
    return r;
  });
}

/** `r`, finished by `then` once any wait is over. */
function andThen(r: SysRet, then: (r: Exclude<SysRet, Block>) => SysRet): SysRet {
  if (r instanceof Block) return new Block(r.wait, () => andThen(r.retry(), then));
  return then(r);
}

// --- poll -------------------------------------------------------------------------

/**
 * Linux: do_sys_poll — nfds above RLIMIT_NOFILE is EINVAL; each entry's
 * revents is what the file reports, filtered by its events plus POLLERR and
 * POLLHUP; a closed fd is POLLNVAL, a negative one is skipped.
 */
function doPoll(t: Task, ufds: number, nfds: number, deadline: Deadline): SysRet {
  const limit = Number(t.proc.rlimits.get(RLIMIT_NOFILE)?.[0] ?? 1024n);
  if (nfds > limit) return EINVAL;
  const raw = nfds ? t.mm.read(ufds, nfds * POLLFD_SIZE) : new Uint8Array(0);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const entries = Array.from({ length: nfds }, (_, i) => ({
    fd: view.getInt32(i * POLLFD_SIZE, true),
    events: view.getUint16(i * POLLFD_SIZE + 4, true),
  }));
  const revents = new Uint16Array(nfds);
  const scan = (): number => {
    let count = 0;
    entries.forEach((e, i) => {
      let mask = 0;
      if (e.fd >= 0) {
        const file = t.fds.get(e.fd);
        mask = file ? file.poll() & (e.events | POLLERR | POLLHUP) : POLLNVAL;
      }
      revents[i] = mask;
      if (mask) count++;
    });
    return count;
  };
  const writeBack = (count: number): SysRet => {
    for (let i = 0; i < nfds; i++) view.setUint16(i * POLLFD_SIZE + 6, revents[i], true);
    if (nfds) t.mm.write(ufds, raw);
    return count;
  };
  const sources = (): Readiness[] => entries.flatMap((e) => {
    const file = e.fd >= 0 ? t.fds.get(e.fd) : undefined;
    return file ? [file.readiness] : [];
  });
  return waitReady(sources, deadline, () => {
    const n = scan();
    return n ? writeBack(n) : undefined;
  }, () => writeBack(scan()));
}

/** Implements poll(2): a timeout in milliseconds, negative for none. */
export const poll: Handler = (t, a) => {
  const ms = a.int(2);
  return doPoll(t, a.ptr(0), a.uint(1), ms < 0 ? Deadline.never() : Deadline.inMs(ms));
};

/**
 * The optional timeout of select, ppoll and pselect6: its deadline (never
 * without one), and whether it was zero (no time left is written back then).
 */
function optionalTimeout(t: Task, tsp: number, format: TimeFormat): { deadline: Deadline; zero: boolean } | Errno {
  if (!tsp) return { deadline: Deadline.never(), zero: false };
  const deadline = readTimeout(t, tsp, format);
  if (deadline instanceof Errno) return deadline;
  const [sec, nsec] = readPair(t, tsp, format);
  return { deadline, zero: sec === 0 && nsec === 0 };
}

function doPpoll(t: Task, a: SyscallArgs, format: TimeFormat): SysRet {
  const tsp = a.ptr(2);
  const timeout = optionalTimeout(t, tsp, format);
  if (timeout instanceof Errno) return timeout;
  const { deadline, zero } = timeout;
  const bad = checkSigmask(t, a.ptr(3), a.ulong(4));
  if (bad) return bad;
  return withUserSigmask(t, a.ptr(3), () =>
    andThen(doPoll(t, a.ptr(0), a.uint(1), deadline), (r) => finishTimeout(t, tsp, format, deadline, zero, r)));
}

/** Implements ppoll(2): a timespec (NULL: none) and a signal mask. */
export const ppoll: Handler = (t, a) => doPpoll(t, a, "timespec");
/** Implements ppoll_time64 (i386): ppoll with a 64-bit timespec. */
export const ppoll_time64: Handler = (t, a) => doPpoll(t, a, "timespec64");

// --- select -----------------------------------------------------------------------

/**
 * fdt->max_fds: how many descriptors the table has room for. Linux starts a
 * table at BITS_PER_LONG (64) and grows it in steps of 1024/sizeof(void *).
 */
function maxFds(t: Task): number {
  const highest = t.fds.fds().at(-1) ?? -1;
  if (highest < 64) return 64;
  let nr = Math.floor((highest + 1) / 128);
  let pow = 1;
  while (pow < nr + 1) pow *= 2;
  nr = pow * 128;
  return nr;
}

/**
 * Linux: core_sys_select and do_select — n is clamped to the table's size;
 * a set bit on a closed descriptor is EBADF; the result counts set bits
 * over the three sets (a descriptor readable and writable counts twice).
 */
function doSelect(t: Task, n: number, inp: number, outp: number, exp: number, deadline: Deadline): SysRet {
  if (n < 0) return EINVAL;
  n = Math.min(n, maxFds(t));
  // FDS_BYTES: whole longs of the caller's ABI (4 bytes for an i386 task).
  const word = t.arch.wordSize;
  const bytes = Math.ceil(n / (8 * word)) * word;
  const readSet = (p: number): Uint8Array | undefined => (p && bytes ? t.mm.read(p, bytes) : undefined);
  const sets = [readSet(inp), readSet(outp), readSet(exp)];
  const isSet = (s: Uint8Array | undefined, fd: number): boolean => !!s && (s[fd >> 3] & (1 << (fd & 7))) !== 0;
  const wanted: Array<{ fd: number; file: FileDescription; r: boolean; w: boolean; x: boolean }> = [];
  for (let fd = 0; fd < n; fd++) {
    const r = isSet(sets[0], fd), w = isSet(sets[1], fd), x = isSet(sets[2], fd);
    if (!r && !w && !x) continue;
    const file = t.fds.get(fd);
    if (!file) return EBADF;
    wanted.push({ fd, file, r, w, x });
  }
  const results = [new Uint8Array(bytes), new Uint8Array(bytes), new Uint8Array(bytes)];
  const scan = (): number => {
    results.forEach((s) => s.fill(0));
    let count = 0;
    for (const { fd, file, r, w, x } of wanted) {
      const mask = file.poll();
      const bit = 1 << (fd & 7), at = fd >> 3;
      if (r && mask & POLLIN_SET) { results[0][at] |= bit; count++; }
      if (w && mask & POLLOUT_SET) { results[1][at] |= bit; count++; }
      if (x && mask & POLLEX_SET) { results[2][at] |= bit; count++; }
    }
    return count;
  };
  const writeBack = (count: number): SysRet => {
    [inp, outp, exp].forEach((p, i) => { if (p && bytes) t.mm.write(p, results[i]); });
    return count;
  };
  return waitReady(() => wanted.map((w) => w.file.readiness), deadline, () => {
    const c = scan();
    return c ? writeBack(c) : undefined;
  }, () => writeBack(scan()));
}

function selectWithTimeval(t: Task, n: number, inp: number, outp: number, exp: number, tvp: number): SysRet {
  const timeout = optionalTimeout(t, tvp, "timeval");
  if (timeout instanceof Errno) return timeout;
  const { deadline, zero } = timeout;
  return andThen(doSelect(t, n, inp, outp, exp, deadline), (r) => finishTimeout(t, tvp, "timeval", deadline, zero, r));
}

/** Implements select(2) (x86_64) and i386's _newselect: a struct timeval, NULL for none. */
export const select: Handler = (t, a) => selectWithTimeval(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4));
export const _newselect = select;

/** i386's old select (82): one pointer to struct sel_arg_struct { n, inp, outp, exp, tvp }. Linux: sys_old_select. */
export const oldSelect: Handler = (t, a) => {
  const p = a.ptr(0);
  const w = (i: number): number => t.mm.u32(p + 4 * i);
  return selectWithTimeval(t, w(0) | 0, w(1), w(2), w(3), w(4));
};

function doPselect(t: Task, a: SyscallArgs, format: TimeFormat): SysRet {
  const tsp = a.ptr(4), sig = a.ptr(5);
  const timeout = optionalTimeout(t, tsp, format);
  if (timeout instanceof Errno) return timeout;
  const { deadline, zero } = timeout;
  let mask = 0;
  if (sig) {
    // struct { const sigset_t *p; size_t size; } in the caller's longs.
    const w = t.arch.wordSize;
    mask = w === 8 ? t.mm.u64n(sig) : t.mm.u32(sig);
    const size = w === 8 ? t.mm.u64n(sig + 8) : t.mm.u32(sig + 4);
    const bad = checkSigmask(t, mask, size);
    if (bad) return bad;
  }
  return withUserSigmask(t, mask, () =>
    andThen(doSelect(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), deadline), (r) => finishTimeout(t, tsp, format, deadline, zero, r)));
}

/** Implements pselect6(2): a timespec and a {sigset pointer, size} pair. */
export const pselect6: Handler = (t, a) => doPselect(t, a, "timespec");
/** Implements pselect6_time64 (i386). */
export const pselect6_time64: Handler = (t, a) => doPselect(t, a, "timespec64");

// --- epoll ------------------------------------------------------------------------

/** struct epoll_event: packed on x86 (12 bytes), naturally aligned elsewhere (16). */
function epollEventSize(t: Task): number {
  return t.arch.name === "aarch64" ? 16 : 12;
}

function newEpoll(t: Task, cloexec: boolean): SysRet {
  return t.fds.install(new EpollFile(), cloexec);
}

/** Implements epoll_create1(2): only EPOLL_CLOEXEC. */
export const epoll_create1: Handler = (t, a) => {
  const flags = a.int(0);
  if (flags & ~O_CLOEXEC) return EINVAL;
  return newEpoll(t, flags !== 0);
};

/** Implements epoll_create(2): the size is a hint that must be positive. */
export const epoll_create: Handler = (t, a) => (a.int(0) <= 0 ? EINVAL : newEpoll(t, false));

/**
 * Implements epoll_ctl(2). Linux: do_epoll_ctl — the event is copied first
 * for every op but DEL, then both descriptors, then the instance decides.
 */
export const epoll_ctl: Handler = (t, a) => {
  const epfd = a.int(0), op = a.int(1), fd = a.int(2), ev = a.ptr(3);
  let events = 0, data = 0n;
  if (op !== EPOLL_CTL_DEL) {
    const size = epollEventSize(t);
    const raw = t.mm.read(ev, size);
    const d = new DataView(raw.buffer, raw.byteOffset);
    events = d.getUint32(0, true);
    data = d.getBigUint64(size - 8, true);
  }
  const ep = t.fds.get(epfd), file = t.fds.get(fd);
  if (!ep || !file) return EBADF;
  // Linux checks file_can_poll(target) before is_file_epoll(epfd).
  if (!canPoll(file)) return EPERM;
  if (!(ep instanceof EpollFile)) return EINVAL;
  return ep.ctl(op, fd, file, events, data);
};

/**
 * Linux: do_epoll_wait — maxevents in range, then the descriptor (EBADF,
 * EINVAL when not an epoll instance), then wait for events.
 */
function doEpollWait(t: Task, epfd: number, events: number, maxevents: number, deadline: Deadline): SysRet {
  if (maxevents <= 0 || maxevents > EP_MAX_EVENTS) return EINVAL;
  const ep = t.fds.get(epfd);
  if (!ep) return EBADF;
  if (!(ep instanceof EpollFile)) return EINVAL;
  const size = epollEventSize(t);
  const deliver = (list: ReturnType<EpollFile["collect"]>): number => {
    const out = new Uint8Array(list.length * size), d = new DataView(out.buffer);
    list.forEach((e, i) => {
      d.setUint32(i * size, e.events, true);
      d.setBigUint64(i * size + size - 8, e.data, true);
    });
    if (list.length) t.mm.write(events, out);
    return list.length;
  };
  return waitReady(() => [ep.readiness], deadline, () => {
    const list = ep.collect(maxevents);
    return list.length ? deliver(list) : undefined;
  }, () => 0);
}

const msDeadline = (ms: number): Deadline => (ms < 0 ? Deadline.never() : Deadline.inMs(ms));

/** Implements epoll_wait(2). */
export const epoll_wait: Handler = (t, a) => doEpollWait(t, a.int(0), a.ptr(1), a.int(2), msDeadline(a.int(3)));

/** Implements epoll_pwait(2): the signal mask is checked before anything else. */
export const epoll_pwait: Handler = (t, a) => {
  const bad = checkSigmask(t, a.ptr(4), a.ulong(5));
  if (bad) return bad;
  return withUserSigmask(t, a.ptr(4), () => doEpollWait(t, a.int(0), a.ptr(1), a.int(2), msDeadline(a.int(3))));
};

/** Implements epoll_pwait2(2): a 64-bit timespec timeout (NULL: none). */
export const epoll_pwait2: Handler = (t, a) => {
  let deadline = Deadline.never();
  if (a.ptr(3)) {
    const d = readTimeout(t, a.ptr(3), "timespec64");
    if (d instanceof Errno) return d;
    deadline = d;
  }
  const bad = checkSigmask(t, a.ptr(4), a.ulong(5));
  if (bad) return bad;
  return withUserSigmask(t, a.ptr(4), () => doEpollWait(t, a.int(0), a.ptr(1), a.int(2), deadline));
};
