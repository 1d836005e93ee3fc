/**
 * Waiting for readiness (Linux: fs/select.c, fs/eventpoll.c). poll, select
 * and epoll all come down to the same loop: scan the files; if nothing is
 * ready and time remains, sleep until one of them notifies a change or the
 * deadline passes, then scan again. The sleep is a Block whose promise is a
 * race of readiness notifications and one timer, both cancelled when it ends.
 */
import { EINVAL, EEXIST, ELOOP, ENOENT, EPERM, type Errno } from "./errno";
import {
  Block, canPoll, FileDescription, O_RDWR, POLLERR, POLLFREE, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, type Readiness,
  type StatInfo, type SysRet,
} from "./file";

/** setTimeout's longest delay; a longer wait is split. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An absolute deadline on the monotonic clock, or none (wait forever). */
export class Deadline {
  private constructor(private readonly at: number | undefined) {}

  static never(): Deadline { return new Deadline(undefined); }
  /** `ms` from now; 0 means "do not wait" (poll's zero timeout). */
  static inMs(ms: number): Deadline { return new Deadline(performance.now() + Math.max(0, ms)); }

  get forever(): boolean { return this.at === undefined; }
  /** Milliseconds left (0 once passed); Infinity for none. */
  remainingMs(): number { return this.at === undefined ? Infinity : Math.max(0, this.at - performance.now()); }
  get expired(): boolean { return this.remainingMs() === 0; }
}

/**
 * A promise that settles at the first notification of any of `sources` or
 * when `deadline` passes, and a cancel that detaches both (idempotent).
 */
export function readinessOrTimeout(sources: Iterable<Readiness>, deadline: Deadline): { wait: Promise<void>; cancel: () => void } {
  const unwatch: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  let settle: () => void = () => undefined;
  const cancel = (): void => {
    for (const u of unwatch.splice(0)) u();
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const wait = new Promise<void>((resolve) => {
    settle = () => { cancel(); resolve(); };
  });
  for (const s of sources) unwatch.push(s.watch(settle));
  if (!deadline.forever) {
    // The scheduler keeps Node alive while tasks sleep; the timer alone must not.
    timer = setTimeout(settle, Math.min(Math.ceil(deadline.remainingMs()), MAX_TIMER_MS));
    timer.unref();
  }
  return { wait, cancel };
}

/**
 * The poll loop: `scan()` answers when something is ready (undefined when
 * nothing is); once the deadline passes `expired()` answers instead. In
 * between, the task sleeps on the sources' readiness.
 */
export function waitReady(sources: () => Iterable<Readiness>, deadline: Deadline, scan: () => SysRet | undefined, expired: () => SysRet): SysRet {
  const r = scan();
  if (r !== undefined) return r;
  if (deadline.expired) return expired();
  const { wait, cancel } = readinessOrTimeout(sources(), deadline);
  return new Block(wait, () => {
    cancel();
    return waitReady(sources, deadline, scan, expired);
  }, cancel);
}

// --- epoll ----------------------------------------------------------------------

/** include/uapi/linux/eventpoll.h. */
export const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
export const EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29, EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;
/** EP_PRIVATE_BITS: the flags that are not events. */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** EPOLLEXCLUSIVE_OK_BITS: what may accompany EPOLLEXCLUSIVE. */
const EPOLLEXCLUSIVE_OK_BITS = POLLIN | POLLOUT | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** EP_MAX_NESTS: how deep epoll instances may watch each other. */
const EP_MAX_NESTS = 4;
const ANON_INODE_DEV = 15, ANON_INODE_INO = 1;

/** One watched (file, fd) pair (struct epitem). */
interface EpItem {
  fd: number;
  file: FileDescription;
  /** The requested events and flags, as epoll_event.events (unsigned). */
  events: number;
  data: bigint;
  unwatch: () => void;
}

export interface EpollEvent { events: number; data: bigint }

/** An epoll instance (Linux: struct eventpoll behind an anonymous "[eventpoll]" file). */
export class EpollFile extends FileDescription {
  private readonly items = new Map<FileDescription, Map<number, EpItem>>();
  /** rdllist: items that may be ready, in the order they became so. */
  private readonly ready = new Set<EpItem>();

  constructor() { super(O_RDWR); }

  private find(file: FileDescription, fd: number): EpItem | undefined {
    return this.items.get(file)?.get(fd);
  }

  /**
   * Implements epoll_ctl(2) once both descriptors are known. Linux:
   * do_epoll_ctl — `events` is the caller's epoll_event.events for ADD/MOD.
   */
  ctl(op: number, fd: number, file: FileDescription, events: number, data: bigint): 0 | Errno {
    if (!canPoll(file)) return EPERM;
    if (file === this) return EINVAL;
    if (op !== EPOLL_CTL_DEL && events & EPOLLEXCLUSIVE) {
      if (op === EPOLL_CTL_MOD) return EINVAL;
      if (op === EPOLL_CTL_ADD && (file instanceof EpollFile || events & ~EPOLLEXCLUSIVE_OK_BITS)) return EINVAL;
    }
    if (op === EPOLL_CTL_ADD && file instanceof EpollFile && (file.watches(this) || file.depth() + 1 > EP_MAX_NESTS)) return ELOOP;
    const item = this.find(file, fd);
    switch (op) {
      case EPOLL_CTL_ADD:
        if (item) return EEXIST;
        this.insert(fd, file, (events | POLLERR | POLLHUP) >>> 0, data);
        return 0;
      case EPOLL_CTL_DEL:
        if (!item) return ENOENT;
        this.remove(item);
        return 0;
      case EPOLL_CTL_MOD:
        if (!item) return ENOENT;
        // An EPOLLEXCLUSIVE item cannot be modified (Linux silently keeps it).
        if (!(item.events & EPOLLEXCLUSIVE)) {
          item.events = (events | POLLERR | POLLHUP) >>> 0;
          item.data = data;
          if (this.pollItem(item)) this.makeReady(item);
        }
        return 0;
      default:
        return EINVAL;
    }
  }

  /** Whether this instance watches `ep`, directly or through other instances. */
  private watches(ep: EpollFile): boolean {
    for (const file of this.items.keys()) {
      if (file === ep) return true;
      if (file instanceof EpollFile && file.watches(ep)) return true;
    }
    return false;
  }

  /** How many epoll levels sit below this one. */
  private depth(): number {
    let d = 0;
    for (const file of this.items.keys()) if (file instanceof EpollFile) d = Math.max(d, file.depth() + 1);
    return d;
  }

  /** Linux: ep_insert — register the callback, then report the item at once if it is ready already. */
  private insert(fd: number, file: FileDescription, events: number, data: bigint): void {
    const item: EpItem = { fd, file, events, data, unwatch: () => undefined };
    item.unwatch = file.readiness.watch((key) => this.callback(item, key));
    let byFd = this.items.get(file);
    if (!byFd) this.items.set(file, (byFd = new Map()));
    byFd.set(fd, item);
    if (this.pollItem(item)) this.makeReady(item);
  }

  private remove(item: EpItem): void {
    item.unwatch();
    this.ready.delete(item);
    const byFd = this.items.get(item.file);
    byFd?.delete(item.fd);
    if (byFd?.size === 0) this.items.delete(item.file);
  }

  /** Linux: ep_poll_callback — a file changed; POLLFREE means it is gone (eventpoll_release). */
  private callback(item: EpItem, key: number): void {
    if (key & POLLFREE) {
      this.remove(item);
      return;
    }
    if (!(item.events & ~EP_PRIVATE_BITS)) return; // a fired EPOLLONESHOT item, until re-armed
    if (key && !(key & item.events)) return; // not an event this item waits for
    this.makeReady(item);
  }

  private makeReady(item: EpItem): void {
    if (this.ready.has(item)) return;
    this.ready.add(item);
    this.readiness.notify(POLLIN | POLLRDNORM);
  }

  private pollItem(item: EpItem): number {
    return item.file.poll() & item.events & ~EP_PRIVATE_BITS;
  }

  /**
   * Linux: ep_send_events — up to `max` ready items, each polled again: one
   * that is not ready after all leaves the list; a level-triggered one goes
   * back to its tail, an edge-triggered one waits for its next wake-up, and
   * an EPOLLONESHOT one is disarmed.
   */
  collect(max: number): EpollEvent[] {
    const out: EpollEvent[] = [];
    for (const item of [...this.ready]) {
      if (out.length >= max) break;
      this.ready.delete(item);
      const revents = this.pollItem(item);
      if (!revents) continue;
      out.push({ events: revents >>> 0, data: item.data });
      if (item.events & EPOLLONESHOT) item.events = (item.events & EP_PRIVATE_BITS) >>> 0;
      else if (!(item.events & EPOLLET)) this.ready.add(item);
    }
    return out;
  }

  /** Linux: ep_eventpoll_poll — readable while some listed item really is ready. */
  override poll(): number {
    for (const item of [...this.ready]) {
      if (this.pollItem(item)) return POLLIN | POLLRDNORM;
      this.ready.delete(item);
    }
    return 0;
  }

  override stat(): StatInfo {
    return {
      dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
    };
  }

  override release(): void {
    for (const byFd of [...this.items.values()]) for (const item of [...byFd.values()]) this.remove(item);
  }
}
