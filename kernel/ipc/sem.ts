/** System V semaphores: semget, semop, semtimedop, semctl, and SEM_UNDO at exit. Linux: ipc/sem.c. */
import type { Handler } from "../abi";
import { E2BIG, EACCES, EAGAIN, EFBIG, EIDRM, EINVAL, ENOSPC, ERANGE, Errno } from "../errno";
import { Block, type SysRet } from "../file";
import type { ThreadGroup } from "../process";
import type { Task } from "../task";
import {
  ctlAllowed, IPC_64, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, ipcget, ipcOf, ipcperms, IpcPerm, now,
  S_IRUGO, S_IWUGO, updatePerm, type IpcNamespace,
} from "./namespace";
import { readSemSet, semidBytes, seminfoBytes, type Version } from "./layout";

/** include/uapi/linux/sem.h. */
const GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17;
const SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;
const SEM_UNDO = 0x1000;
const SEMVMX = 32767, SEMAEM = SEMVMX, SEMUME = 500, SEMUSZ = 20;
const SEMMNU = 1024000000, SEMMAP = 1024000000;
/** struct sembuf: unsigned short sem_num; short sem_op; short sem_flg. */
const SEMBUF_SIZE = 6;

interface Sop { num: number; op: number; flg: number }

/** A sleeping semop (struct sem_queue): the waker performs it and sets `status`. */
interface Pending { sops: Sop[]; group: ThreadGroup; pid: number; blocking: Sop; status?: 0 | Errno; wake(): void }

interface Sem { val: number; pid: number }

export class SemArray {
  readonly sems: Sem[];
  readonly pending: Pending[] = [];
  /** Each process's adjustments to undo at its exit (struct sem_undo, by process). */
  readonly undos = new Map<ThreadGroup, number[]>();
  otime = 0;
  ctime = now();
  constructor(readonly perm: IpcPerm, nsems: number) {
    this.sems = Array.from({ length: nsems }, () => ({ val: 0, pid: 0 }));
  }

  undoOf(g: ThreadGroup): number[] {
    let u = this.undos.get(g);
    if (!u) this.undos.set(g, (u = new Array<number>(this.sems.length).fill(0)));
    return u;
  }

  /**
   * perform_atomic_semop_slow: all of `sops` in order, or none. 0 done, 1 must
   * wait (`blocking` says on what), or ERANGE/EAGAIN.
   */
  perform(sops: Sop[], g: ThreadGroup, pid: number): { r: 0 | 1 | Errno; blocking?: Sop } {
    const vals = this.sems.map((s) => s.val);
    const hasUndo = sops.some((s) => s.flg & SEM_UNDO);
    const adj = hasUndo ? [...this.undoOf(g)] : [];
    for (const sop of sops) {
      const result = vals[sop.num] + sop.op;
      if ((sop.op === 0 && vals[sop.num] !== 0) || result < 0) return { r: sop.flg & IPC_NOWAIT ? EAGAIN : 1, blocking: sop };
      if (result > SEMVMX) return { r: ERANGE };
      if (sop.flg & SEM_UNDO) {
        const undo = adj[sop.num] - sop.op;
        if (undo < -SEMAEM - 1 || undo > SEMAEM) return { r: ERANGE };
        adj[sop.num] = undo;
      }
      vals[sop.num] = result;
    }
    vals.forEach((v, i) => { this.sems[i].val = v; });
    for (const sop of sops) this.sems[sop.num].pid = pid;
    if (hasUndo) this.undos.set(g, adj);
    this.otime = now();
    return { r: 0 };
  }

  /** update_queue: sleepers whose operations can now complete do, in arrival order, until nothing changes. */
  update(): void {
    for (let again = true; again; ) {
      again = false;
      for (const q of [...this.pending]) {
        const { r, blocking } = this.perform(q.sops, q.group, q.pid);
        if (r === 1) {
          q.blocking = blocking!;
          continue;
        }
        this.pending.splice(this.pending.indexOf(q), 1);
        q.status = r;
        q.wake();
        if (r === 0 && q.sops.some((s) => s.op !== 0)) {
          again = true;
          break;
        }
      }
    }
  }

  /** count_semcnt: sleepers blocked on semaphore `num`, waiting for zero or for an increase. */
  count(num: number, zero: boolean): number {
    return this.pending.filter((q) => q.blocking.num === num && (zero ? q.blocking.op === 0 : q.blocking.op < 0)).length;
  }
}

/** Implements semget(2). Linux: ksys_semget, newary, sem_more_checks. */
export const semget: Handler = (t, a) => doSemget(t, a.int(0), a.int(1), a.int(2));

export function doSemget(t: Task, key: number, nsems: number, flg: number): SysRet {
  const ns = ipcOf(t);
  if (nsems < 0 || nsems > ns.semMsl) return EINVAL;
  return ipcget(t, ns.sem, key, flg, () => {
    if (!nsems) return EINVAL;
    if (ns.usedSems + nsems > ns.semMns) return ENOSPC;
    const id = ns.sem.add(new SemArray(new IpcPerm(key, flg & 0o777, t), nsems), ns.semMni);
    if (!(id instanceof Errno)) ns.usedSems += nsems;
    return id;
  }, (s) => (nsems > s.sems.length ? EINVAL : undefined));
}

/** A relative timeout in milliseconds from a guest timespec (`wide`: 64-bit fields), EINVAL when malformed. */
function readTimeout(t: Task, tp: number, wide: boolean): number | Errno {
  const sec = wide ? Number(BigInt.asIntN(64, t.mm.u64(tp))) : t.mm.i32(tp);
  const nsec = wide ? Number(BigInt.asIntN(64, t.mm.u64(tp + 8))) : t.mm.i32(tp + 4);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return EINVAL;
  return sec * 1e3 + nsec / 1e6;
}

/** do_semtimedop: checks in Linux's order, then the operations at once or a sleep until they can be. */
export function doSemtimedop(t: Task, semid: number, sopsAddr: number, nsops: number, tp: number, wide: boolean): SysRet {
  const ns = ipcOf(t);
  if (nsops < 1 || semid < 0) return EINVAL;
  if (nsops > ns.semOpm) return E2BIG;
  const raw = t.mm.read(sopsAddr, nsops * SEMBUF_SIZE);
  const dv = new DataView(raw.buffer);
  const sops: Sop[] = [];
  for (let i = 0; i < nsops; i++) {
    sops.push({ num: dv.getUint16(i * 6, true), op: dv.getInt16(i * 6 + 2, true), flg: dv.getInt16(i * 6 + 4, true) });
  }
  let ms: number | undefined;
  if (tp) {
    const r = readTimeout(t, tp, wide);
    if (r instanceof Errno) return r;
    ms = r;
  }
  const max = Math.max(...sops.map((s) => s.num));
  const alter = sops.some((s) => s.op !== 0);
  const sma = ns.sem.get(semid);
  if (sma instanceof Errno) return sma;
  if (max >= sma.sems.length) return EFBIG;
  if (!ipcperms(t, sma.perm, alter ? S_IWUGO : S_IRUGO)) return EACCES;
  const pid = t.pid;
  const { r, blocking } = sma.perform(sops, t.group, pid);
  if (r === 0) {
    if (alter) sma.update();
    return 0;
  }
  if (r instanceof Errno) return r;
  let q!: Pending;
  let timer: NodeJS.Timeout | undefined;
  const woken = new Promise<void>((resolve) => {
    q = { sops, group: t.group, pid, blocking: blocking!, wake: () => { if (timer) clearTimeout(timer); resolve(); } };
  });
  sma.pending.push(q);
  const unlink = () => {
    const i = sma.pending.indexOf(q);
    if (i >= 0) sma.pending.splice(i, 1);
  };
  if (ms !== undefined) {
    timer = setTimeout(() => {
      unlink();
      q.status = EAGAIN;
      q.wake();
    }, ms);
  }
  return new Block(woken, () => q.status ?? EAGAIN, () => {
    if (timer) clearTimeout(timer);
    unlink();
  });
}

/** Implements semop(2): semtimedop without a timeout. */
export const semop: Handler = (t, a) => doSemtimedop(t, a.int(0), a.ptr(1), a.uint(2), 0, true);

/** Implements semtimedop(2) (the arch's timespec) and semtimedop_time64 (i386). */
export const semtimedop: Handler = (t, a) => doSemtimedop(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3), t.arch.wordSize === 8);
export const semtimedop_time64: Handler = (t, a) => doSemtimedop(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3), true);

/** freeary: sleepers wake with EIDRM, the undo records die with the set. */
function freeary(ns: IpcNamespace, sma: SemArray): void {
  ns.sem.remove(sma);
  ns.usedSems -= sma.sems.length;
  sma.undos.clear();
  for (const q of sma.pending.splice(0)) {
    q.status = EIDRM;
    q.wake();
  }
}

/**
 * ksys_semctl: `arg` is the union semun's value (an int for SETVAL, a pointer
 * otherwise); `v` picks the struct layout for IPC_STAT and IPC_SET.
 */
export function doSemctl(t: Task, semid: number, semnum: number, cmd: number, arg: number, v: Version): SysRet {
  const ns = ipcOf(t);
  if (semid < 0) return EINVAL;
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
      const full = cmd === SEM_INFO;
      t.mm.write(arg, seminfoBytes([SEMMAP, ns.semMni, ns.semMns, SEMMNU, ns.semMsl, ns.semOpm, SEMUME,
        full ? ns.sem.inUse : SEMUSZ, SEMVMX, full ? ns.usedSems : SEMAEM]));
      return Math.max(ns.sem.maxIdx(), 0);
    }
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY: {
      const sma = cmd === IPC_STAT ? ns.sem.get(semid) : ns.sem.byIndex(semid);
      if (sma instanceof Errno) return sma;
      if (cmd !== SEM_STAT_ANY && !ipcperms(t, sma.perm, S_IRUGO)) return EACCES;
      t.mm.write(arg, semidBytes(t, { perm: sma.perm, otime: sma.otime, ctime: sma.ctime, nsems: sma.sems.length }, v));
      return cmd === IPC_STAT ? 0 : sma.perm.id;
    }
    case GETALL: case GETVAL: case GETPID: case GETNCNT: case GETZCNT: case SETALL:
      return semctlMain(t, ns, semid, semnum, cmd, arg);
    case SETVAL: {
      const val = arg | 0;
      if (val > SEMVMX || val < 0) return ERANGE;
      const sma = ns.sem.get(semid);
      if (sma instanceof Errno) return sma;
      if (semnum < 0 || semnum >= sma.sems.length) return EINVAL;
      if (!ipcperms(t, sma.perm, S_IWUGO)) return EACCES;
      for (const u of sma.undos.values()) u[semnum] = 0;
      sma.sems[semnum] = { val, pid: t.pid };
      sma.ctime = now();
      sma.update();
      return 0;
    }
    case IPC_SET:
    case IPC_RMID: {
      const req = cmd === IPC_SET ? readSemSet(t, arg, v) : undefined;
      const sma = ns.sem.get(semid);
      if (sma instanceof Errno) return sma;
      const denied = ctlAllowed(t, sma.perm);
      if (denied) return denied;
      if (!req) {
        freeary(ns, sma);
        return 0;
      }
      const bad = updatePerm(sma.perm, req.uid, req.gid, req.mode);
      if (bad) return bad;
      sma.ctime = now();
      return 0;
    }
    default:
      return EINVAL;
  }
}

/** semctl_main: the per-semaphore commands and the whole-array GETALL/SETALL. */
function semctlMain(t: Task, ns: IpcNamespace, semid: number, semnum: number, cmd: number, arg: number): SysRet {
  const sma = ns.sem.get(semid);
  if (sma instanceof Errno) return sma;
  const nsems = sma.sems.length;
  if (!ipcperms(t, sma.perm, cmd === SETALL ? S_IWUGO : S_IRUGO)) return EACCES;
  if (cmd === GETALL) {
    const out = new Uint8Array(2 * nsems);
    const dv = new DataView(out.buffer);
    sma.sems.forEach((s, i) => dv.setUint16(2 * i, s.val, true));
    t.mm.write(arg, out);
    return 0;
  }
  if (cmd === SETALL) {
    const raw = t.mm.read(arg, 2 * nsems);
    const dv = new DataView(raw.buffer);
    const vals = Array.from({ length: nsems }, (_, i) => dv.getUint16(2 * i, true));
    if (vals.some((x) => x > SEMVMX)) return ERANGE;
    for (const u of sma.undos.values()) u.fill(0);
    vals.forEach((val, i) => { sma.sems[i] = { val, pid: t.pid }; });
    sma.ctime = now();
    sma.update();
    return 0;
  }
  if (semnum < 0 || semnum >= nsems) return EINVAL;
  const s = sma.sems[semnum];
  switch (cmd) {
    case GETVAL: return s.val;
    case GETPID: return s.pid;
    case GETNCNT: return sma.count(semnum, false);
    default: return sma.count(semnum, true);
  }
}

/** Implements semctl(2). The fourth argument is the union semun passed by value; i386's compat entry ignores IPC_64. */
export const semctl: Handler = (t, a) => {
  const cmd = a.int(2);
  return doSemctl(t, a.int(0), a.int(1), t.arch.wordSize === 4 && cmd >= 0 ? cmd & ~IPC_64 : cmd, a.ptr(3), "64");
};

/** exit_sem: a process's SEM_UNDO adjustments go back, clamped to [0, SEMVMX], and sleepers get another look. */
export function exitSem(t: Task): void {
  for (const sma of ipcOf(t).sem.all()) {
    const adj = sma.undos.get(t.group);
    if (!adj) continue;
    sma.undos.delete(t.group);
    adj.forEach((d, i) => {
      if (!d) return;
      const s = sma.sems[i];
      s.val = Math.min(Math.max(s.val + d, 0), SEMVMX);
      s.pid = t.pid;
    });
    sma.update();
  }
}
