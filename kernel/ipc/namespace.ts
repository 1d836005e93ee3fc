/**
 * The System V IPC namespace of one sandbox: identifiers, keys, permissions
 * and limits shared by message queues, semaphore sets and shared memory.
 * Linux: ipc/util.c, ipc/namespace.c.
 */
import { capable } from "../capability";
import { EACCES, EEXIST, EINVAL, ENOENT, ENOSPC, EPERM, Errno } from "../errno";
import type { Task } from "../task";
import { intSetter, registerSysctl } from "../vfs/sysctl";
import type { MsgQueue } from "./msg";
import type { SemArray } from "./sem";
import type { ShmSegment } from "./shm";

/** include/uapi/linux/ipc.h. */
export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000, IPC_EXCL = 0o2000, IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_INFO = 3;
/** In an old-style ctl command: the caller wants the 64-bit struct layouts (ipc_parse_version). */
export const IPC_64 = 0x100;
export const S_IRUGO = 0o444, S_IWUGO = 0o222, S_IXUGO = 0o111;
const S_IRWXUGO = 0o777;
const CAP_IPC_OWNER = 15;
export const CAP_IPC_LOCK = 14, CAP_SYS_ADMIN = 21, CAP_SYS_RESOURCE = 24;

/** An id is seq << IPCMNI_SHIFT | index (ipc/util.h, without ipcmni_extend). */
const IPCMNI_SHIFT = 15;
export const IPCMNI = 1 << IPCMNI_SHIFT;
const SEQ_MAX = 0x7fffffff >> IPCMNI_SHIFT;

/** struct kern_ipc_perm: who owns an object and who may use it. */
export class IpcPerm {
  id = 0;
  seq = 0;
  uid: number; gid: number; cuid: number; cgid: number;
  /** Set once IPC_RMID took the object out of the namespace: sleepers see EIDRM (ipc_valid_object). */
  removed = false;

  constructor(public key: number, public mode: number, t: Task) {
    this.uid = this.cuid = t.proc.euid;
    this.gid = this.cgid = t.proc.egid;
  }
}

export interface IpcObject { readonly perm: IpcPerm }

/** One kind's identifiers (struct ipc_ids): an index table with cyclic allocation and sequence numbers. */
export class IpcIds<T extends IpcObject> {
  private readonly byIdx = new Map<number, T>();
  private seq = 0;
  private lastIdx = -1;
  /** Where the cyclic search for a free index resumes (idr_alloc_cyclic's cursor). */
  private cursor = 0;
  /** /proc/sys/kernel/*_next_id: the id the next object gets, once (checkpoint/restore). */
  nextId = -1;

  get inUse(): number { return this.byIdx.size; }

  /** ipc_addid: ENOSPC past `limit` objects. */
  add(obj: T, limit: number): number | Errno {
    if (this.byIdx.size >= Math.min(limit, IPCMNI)) return ENOSPC;
    const p = obj.perm;
    let idx: number | undefined;
    if (this.nextId >= 0) {
      p.seq = this.nextId >>> IPCMNI_SHIFT;
      idx = this.freeFrom(this.nextId & (IPCMNI - 1), IPCMNI);
      this.nextId = -1;
    } else {
      idx = this.freeFrom(this.cursor, IPCMNI) ?? this.freeFrom(0, this.cursor);
      if (idx !== undefined) {
        if (idx <= this.lastIdx && ++this.seq >= SEQ_MAX) this.seq = 0;
        this.lastIdx = idx;
        this.cursor = idx + 1;
        p.seq = this.seq;
      }
    }
    if (idx === undefined) return ENOSPC;
    p.id = (p.seq << IPCMNI_SHIFT) + idx;
    this.byIdx.set(idx, obj);
    return p.id;
  }

  private freeFrom(from: number, to: number): number | undefined {
    for (let i = from; i < to; i++) if (!this.byIdx.has(i)) return i;
    return undefined;
  }

  /** ipc_obtain_object_idr: by index only (the *_STAT commands take an index). */
  byIndex(id: number): T | Errno {
    return this.byIdx.get(id & (IPCMNI - 1)) ?? EINVAL;
  }

  /** ipc_obtain_object_check: the index and the sequence number must both match. */
  get(id: number): T | Errno {
    if (id < 0) return EINVAL;
    const obj = this.byIdx.get(id & (IPCMNI - 1));
    return obj && obj.perm.seq === id >>> IPCMNI_SHIFT ? obj : EINVAL;
  }

  findKey(key: number): T | undefined {
    for (const o of this.byIdx.values()) if (o.perm.key === key && key !== IPC_PRIVATE) return o;
    return undefined;
  }

  remove(obj: T): void {
    this.byIdx.delete(obj.perm.id & (IPCMNI - 1));
    obj.perm.removed = true;
  }

  /** ipc_get_maxidx: the highest index in use, -1 when none. */
  maxIdx(): number {
    return this.byIdx.size ? Math.max(...this.byIdx.keys()) : -1;
  }

  /** Every object by increasing index (/proc/sysvipc order). */
  all(): T[] {
    return [...this.byIdx.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }
}

/**
 * ipcget: IPC_PRIVATE always creates; a key finds its object or, with
 * IPC_CREAT, makes one; IPC_CREAT|IPC_EXCL refuses an existing key; then
 * `check` (more_checks) and the permission check (ipc_check_perms).
 */
export function ipcget<T extends IpcObject>(t: Task, ids: IpcIds<T>, key: number, flg: number,
  create: () => number | Errno, check?: (obj: T) => Errno | undefined): number | Errno {
  if (key === IPC_PRIVATE) return create();
  const obj = ids.findKey(key);
  if (!obj) return flg & IPC_CREAT ? create() : ENOENT;
  if (flg & IPC_CREAT && flg & IPC_EXCL) return EEXIST;
  const err = check?.(obj);
  if (err) return err;
  return ipcperms(t, obj.perm, flg) ? obj.perm.id : EACCES;
}

/** ipcperms: whether `t` holds every rwx bit `flag` asks for (owner, then group, then other; CAP_IPC_OWNER overrides). */
export function ipcperms(t: Task, p: IpcPerm, flag: number): boolean {
  const requested = (flag >> 6) | (flag >> 3) | flag;
  let granted = p.mode;
  const euid = t.proc.euid;
  if (euid === p.cuid || euid === p.uid) granted >>= 6;
  else if (inGroup(t, p.cgid) || inGroup(t, p.gid)) granted >>= 3;
  return (requested & ~granted & 0o7) === 0 || capable(t.proc, CAP_IPC_OWNER);
}

function inGroup(t: Task, gid: number): boolean {
  return t.proc.egid === gid || (t.proc.groups ?? []).includes(gid);
}

/** ipcctl_obtain_check's owner test for IPC_SET and IPC_RMID: creator, owner, or CAP_SYS_ADMIN. */
export function ctlAllowed(t: Task, p: IpcPerm): Errno | undefined {
  const euid = t.proc.euid;
  return euid === p.cuid || euid === p.uid || capable(t.proc, CAP_SYS_ADMIN) ? undefined : EPERM;
}

/** ipc_update_perm: IPC_SET's new owner and permission bits; EINVAL for the invalid id -1. */
export function updatePerm(p: IpcPerm, uid: number, gid: number, mode: number): Errno | undefined {
  if (uid === 0xffffffff || gid === 0xffffffff) return EINVAL;
  p.uid = uid;
  p.gid = gid;
  p.mode = (p.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO);
  return undefined;
}

export const now = (): number => Math.floor(Date.now() / 1000);

/** Linux's defaults (include/uapi/linux/msg.h, sem.h, shm.h). */
export const MSGMAX = 8192, MSGMNB = 16384, MSGMNI = 32000;
export const SEMMSL = 32000, SEMMNS = 1024000000, SEMOPM = 500, SEMMNI = 32000;
/** SHMMAX and SHMALL: ULONG_MAX - 2^24, as the 64-bit host kernel has them. */
export const SHMMAX_DEFAULT = 2n ** 64n - 1n - 2n ** 24n;
export const SHMMNI = 4096;

/** The limits (/proc/sys/kernel) and the three kinds' objects. */
export class IpcNamespace {
  msgMax = MSGMAX; msgMnb = MSGMNB; msgMni = MSGMNI;
  semMsl = SEMMSL; semMns = SEMMNS; semOpm = SEMOPM; semMni = SEMMNI;
  shmMax = SHMMAX_DEFAULT; shmAll = SHMMAX_DEFAULT; shmMni = SHMMNI;
  readonly msg = new IpcIds<MsgQueue>();
  readonly sem = new IpcIds<SemArray>();
  readonly shm = new IpcIds<ShmSegment>();
  /** Messages and their bytes in every queue (MSG_INFO), semaphores in every set, pages in every segment. */
  msgHdrs = 0; msgBytes = 0; usedSems = 0; shmTot = 0;
}

const namespaces = new WeakMap<object, IpcNamespace>();

/** The namespace of `t`'s sandbox (its Kernel), created on first use. */
export function ipcOf(t: Task): IpcNamespace {
  const key = (t as { kernel?: object }).kernel ?? t.proc;
  let ns = namespaces.get(key);
  if (!ns) namespaces.set(key, (ns = new IpcNamespace()));
  return ns;
}

/** proc_ipc_dointvec_minmax and friends: root-only 0644 files below /proc/sys/kernel. */
function intCtl(name: string, get: (ns: IpcNamespace) => number, set: (ns: IpcNamespace, v: number) => void, min = 0, max = 2 ** 31 - 1): void {
  registerSysctl(`kernel/${name}`, (t) => String(get(ipcOf(t))), intSetter((t, v) => set(ipcOf(t), v), min, max));
}
intCtl("msgmax", (ns) => ns.msgMax, (ns, v) => { ns.msgMax = v; });
intCtl("msgmnb", (ns) => ns.msgMnb, (ns, v) => { ns.msgMnb = v; });
intCtl("msgmni", (ns) => ns.msgMni, (ns, v) => { ns.msgMni = v; }, 0, IPCMNI);
intCtl("shmmni", (ns) => ns.shmMni, (ns, v) => { ns.shmMni = v; }, 0, IPCMNI);
intCtl("msg_next_id", (ns) => ns.msg.nextId, (ns, v) => { ns.msg.nextId = v; }, -1);
intCtl("sem_next_id", (ns) => ns.sem.nextId, (ns, v) => { ns.sem.nextId = v; }, -1);
intCtl("shm_next_id", (ns) => ns.shm.nextId, (ns, v) => { ns.shm.nextId = v; }, -1);
for (const name of ["shmmax", "shmall"] as const) {
  const field = name === "shmmax" ? "shmMax" : "shmAll";
  registerSysctl(`kernel/${name}`, (t) => String(ipcOf(t)[field]), (t, v) => {
    if (!/^\d+$/.test(v) || BigInt(v) >= 2n ** 64n) return EINVAL;
    ipcOf(t)[field] = BigInt(v);
    return 0;
  });
}
/** kernel.sem: SEMMSL SEMMNS SEMOPM SEMMNI, tab-separated (proc_ipc_sem_dointvec). */
registerSysctl("kernel/sem", (t) => {
  const ns = ipcOf(t);
  return [ns.semMsl, ns.semMns, ns.semOpm, ns.semMni].join("\t");
}, (t, v) => {
  const parts = v.split(/\s+/);
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) return EINVAL;
  const [msl, mns, opm, mni] = parts.map(Number);
  if ([msl, mns, opm, mni].some((n) => n > 2 ** 31 - 1) || mni > IPCMNI) return EINVAL;
  Object.assign(ipcOf(t), { semMsl: msl, semMns: mns, semOpm: opm, semMni: mni });
  return 0;
});
