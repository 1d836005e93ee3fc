/**
 * Advisory file locks (Linux: fs/locks.c), kept per inode in the sandbox:
 * - POSIX record locks (F_SETLK): owned by the process, released when the
 *   process closes any descriptor of the file;
 * - OFD locks (F_OFD_SETLK): owned by the open file description;
 * - flock(2) locks: whole-file, owned by the description, independent of the
 *   record locks (as on Linux).
 */
import { EAGAIN, EDEADLK, type Errno } from "../errno";
import { Block, type FileDescription } from "../file";
import { WaitQueue } from "../waitqueue";
import { VfsFile } from "./file";

export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

/** One record lock: bytes [start, end] inclusive (end = Infinity: to EOF and beyond). */
export interface RecordLock {
  owner: object;
  type: number;
  start: number;
  end: number;
  /** The owning process's pid, or -1 for an OFD lock (F_GETLK reports it). */
  pid: number;
}

class InodeLocks {
  records: RecordLock[] = [];
  readonly flocks = new Map<FileDescription, number>();
  readonly changed = new WaitQueue();
}

const table = new WeakMap<object, InodeLocks>();

/** What locks hang off: the inode of a VFS file, else the description itself. */
function keyOf(f: FileDescription): object {
  return f instanceof VfsFile ? f.inode : f;
}

function locksOf(f: FileDescription): InodeLocks {
  const k = keyOf(f);
  let l = table.get(k);
  if (!l) table.set(k, (l = new InodeLocks()));
  return l;
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
  a.start <= b.end && b.start <= a.end;

/** The first lock of another owner that conflicts with `want` (F_GETLK's answer). */
export function conflict(f: FileDescription, want: RecordLock): RecordLock | undefined {
  return locksOf(f).records.find((l) => l.owner !== want.owner && overlaps(l, want) && (l.type === F_WRLCK || want.type === F_WRLCK));
}

/** Remove `owner`'s locks on [start, end], splitting those that stick out. */
function cut(records: RecordLock[], owner: object, start: number, end: number): RecordLock[] {
  const out: RecordLock[] = [];
  for (const l of records) {
    if (l.owner !== owner || !overlaps(l, { start, end })) {
      out.push(l);
      continue;
    }
    if (l.start < start) out.push({ ...l, end: start - 1 });
    if (l.end > end) out.push({ ...l, start: end + 1 });
  }
  return out;
}

/** Set, change or remove a record lock; `wait` blocks on a conflict (F_SETLKW), else EAGAIN. */
export function setRecordLock(f: FileDescription, want: RecordLock, wait: boolean): 0 | Errno | Block {
  const locks = locksOf(f);
  if (want.type !== F_UNLCK && conflict(f, want)) {
    if (!wait) return EAGAIN;
    // One process holding a conflicting POSIX lock would wait for itself only through another process.
    if (want.pid !== -1 && conflict(f, want)?.pid === want.pid) return EDEADLK;
    if (want.pid !== -1 && deadlocks(f, want)) return EDEADLK;
    waiting.set(want.owner, { f, want });
    const retry = (): 0 | Errno | Block => {
      waiting.delete(want.owner);
      return setRecordLock(f, want, wait);
    };
    return new Block(locks.changed.wait(), retry, () => waiting.delete(want.owner));
  }
  locks.records = sorted(cut(locks.records, want.owner, want.start, want.end), want.type !== F_UNLCK ? want : undefined);
  locks.changed.wake();
  return 0;
}

/** What each POSIX lock owner sleeping in F_SETLKW waits for. */
const waiting = new Map<object, { f: FileDescription; want: RecordLock }>();

/** The deadlock walk (fs/locks.c posix_locks_deadlock): does the owner in the way wait, through others, for `want`'s owner? */
function deadlocks(f: FileDescription, want: RecordLock): boolean {
  let blocker = conflict(f, want);
  // Linux gives up after MAX_DEADLK_ITERATIONS steps.
  for (let i = 0; blocker && i < 10; i++) {
    if (blocker.owner === want.owner) return true;
    const next = waiting.get(blocker.owner);
    blocker = next && conflict(next.f, next.want);
  }
  return false;
}

/**
 * The inode's locks in Linux's list order (posix_lock_inode): grouped by owner,
 * owners in the order they first locked, each owner's locks by start, merged.
 * F_GETLK reports the first conflicting lock in this order.
 */
function sorted(records: RecordLock[], add: RecordLock | undefined): RecordLock[] {
  const all = add ? [...records, add] : records;
  const rank = new Map<object, number>();
  for (const l of all) if (!rank.has(l.owner)) rank.set(l.owner, rank.size);
  all.sort((a, b) => rank.get(a.owner)! - rank.get(b.owner)! || a.start - b.start);
  // An owner's adjacent or overlapping locks of one type become one, as Linux merges them.
  const out: RecordLock[] = [];
  for (const l of all) {
    const last = out[out.length - 1];
    if (last && last.owner === l.owner && last.type === l.type && l.start <= last.end + 1) {
      out[out.length - 1] = { ...last, end: Math.max(last.end, l.end) };
    } else out.push(l);
  }
  return out;
}

/** The process closed a descriptor of this file: all its POSIX locks on it go (Linux: locks_remove_posix). */
export function closedBy(f: FileDescription, owner: object): void {
  const l = table.get(keyOf(f));
  if (!l || !l.records.some((r) => r.owner === owner)) return;
  l.records = l.records.filter((r) => r.owner !== owner);
  l.changed.wake();
}

/** The description is gone: its OFD and flock locks go (locks_remove_file). */
export function released(f: FileDescription): void {
  const l = table.get(keyOf(f));
  if (!l) return;
  l.records = l.records.filter((r) => r.owner !== f);
  l.flocks.delete(f);
  l.changed.wake();
}

export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

/** Implements flock(2)'s locking on a description. */
export function flock(f: FileDescription, op: number): 0 | Errno | Block {
  const locks = locksOf(f);
  const kind = op & ~LOCK_NB;
  if (kind === LOCK_UN) {
    locks.flocks.delete(f);
    locks.changed.wake();
    return 0;
  }
  const busy = [...locks.flocks].some(([other, k]) => other !== f && (k === LOCK_EX || kind === LOCK_EX));
  if (busy) {
    if (op & LOCK_NB) return EAGAIN;
    return new Block(locks.changed.wait(), () => flock(f, op));
  }
  locks.flocks.set(f, kind);
  locks.changed.wake();
  return 0;
}
