/**
 * Credentials and process attributes: set*id, groups, prctl. Linux: kernel/sys.c.
 * Root in the sandbox (uid 0) has the capabilities these check (CAP_SETUID,
 * CAP_SETGID); nothing here reaches the host.
 */
import type { Handler } from "../abi";
import { afterSetuid, CAP_LAST_CAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CAP_VALID_MASK, capable, caps } from "../capability";
import { EFAULT, EINVAL, EPERM, ESRCH, type Errno } from "../errno";
import type { SysRet } from "../file";
import { comm, TASK_COMM_LEN, type Task } from "../task";
import { bytes } from "../vfs/types";
import { prctlSetSeccomp } from "./seccomp";

/** NGROUPS_MAX, include/uapi/linux/limits.h. */
const NGROUPS_MAX = 65536;
const KEEP = 0xffffffff;

const canSetuid = (t: Task): boolean => capable(t.proc, CAP_SETUID);
const canSetgid = (t: Task): boolean => capable(t.proc, CAP_SETGID);
const suid = (t: Task): number => t.proc.suid ?? t.proc.uid;
const sgid = (t: Task): number => t.proc.sgid ?? t.proc.gid;

/** setresuid semantics, the general case (kernel/sys.c __sys_setresuid). */
function setresuidImpl(t: Task, r: number, e: number, s: number): SysRet {
  const p = t.proc;
  const allowed = (v: number) => v === KEEP || canSetuid(t) || v === p.uid || v === p.euid || v === suid(t);
  if (![r, e, s].every(allowed)) return EPERM;
  const old = { uid: p.uid, euid: p.euid, suid: suid(t) };
  // Pin the sets first: until set they follow the euid, and afterSetuid must start from the ones held before the change.
  p.caps = caps(p);
  // __sys_setresuid returns early when nothing would change; otherwise the fsuid follows the euid again.
  const noop = r === KEEP || r === p.uid, fsKept = e === KEEP || (e === p.euid && e === (p.fsuid ?? p.euid));
  if (!(noop && fsKept && (s === KEEP || s === suid(t)))) p.fsuid = undefined;
  if (r !== KEEP) p.uid = r;
  if (e !== KEEP) p.euid = e;
  if (s !== KEEP) p.suid = s;
  p.caps = afterSetuid(p, old, prctlState(t).keepcaps === 1);
  return 0;
}

function setresgidImpl(t: Task, r: number, e: number, s: number): SysRet {
  const p = t.proc;
  const allowed = (v: number) => v === KEEP || canSetgid(t) || v === p.gid || v === p.egid || v === sgid(t);
  if (![r, e, s].every(allowed)) return EPERM;
  // __sys_setresgid returns early when nothing would change; otherwise the fsgid follows the egid again.
  const noop = r === KEEP || r === p.gid, fsKept = e === KEEP || (e === p.egid && e === (p.fsgid ?? p.egid));
  if (!(noop && fsKept && (s === KEEP || s === sgid(t)))) p.fsgid = undefined;
  if (r !== KEEP) p.gid = r;
  if (e !== KEEP) p.egid = e;
  if (s !== KEEP) p.sgid = s;
  return 0;
}

/** Implements setuid(2): root sets all three ids, others only the effective one to the real or saved id. */
export const setuid: Handler = (t, a) => {
  const uid = a.uint(0);
  if (uid === KEEP) return EINVAL;
  if (canSetuid(t)) return setresuidImpl(t, uid, uid, uid);
  return uid === t.proc.uid || uid === suid(t) ? setresuidImpl(t, KEEP, uid, KEEP) : EPERM;
};
/** Implements setgid(2). */
export const setgid: Handler = (t, a) => {
  const gid = a.uint(0);
  if (gid === KEEP) return EINVAL;
  if (canSetgid(t)) return setresgidImpl(t, gid, gid, gid);
  return gid === t.proc.gid || gid === sgid(t) ? setresgidImpl(t, KEEP, gid, KEEP) : EPERM;
};
/** Implements setreuid(2): a new real id (or an effective id other than the real one) also sets the saved id. */
export const setreuid: Handler = (t, a) => {
  const r = a.uint(0), e = a.uint(1);
  const s = r !== KEEP || (e !== KEEP && e !== t.proc.uid) ? (e !== KEEP ? e : t.proc.euid) : KEEP;
  if (!canSetuid(t) && r !== KEEP && r !== t.proc.uid && r !== t.proc.euid) return EPERM;
  return setresuidImpl(t, r, e, s);
};
/** Implements setregid(2). */
export const setregid: Handler = (t, a) => {
  const r = a.uint(0), e = a.uint(1);
  const s = r !== KEEP || (e !== KEEP && e !== t.proc.gid) ? (e !== KEEP ? e : t.proc.egid) : KEEP;
  if (!canSetgid(t) && r !== KEEP && r !== t.proc.gid && r !== t.proc.egid) return EPERM;
  return setresgidImpl(t, r, e, s);
};
export const setresuid: Handler = (t, a) => setresuidImpl(t, a.uint(0), a.uint(1), a.uint(2));
export const setresgid: Handler = (t, a) => setresgidImpl(t, a.uint(0), a.uint(1), a.uint(2));

/** Implements getresuid(2) / getresgid(2): three 32-bit ids. */
export const getresuid: Handler = (t, a) => putIds(t, [a.ptr(0), a.ptr(1), a.ptr(2)], [t.proc.uid, t.proc.euid, suid(t)]);
export const getresgid: Handler = (t, a) => putIds(t, [a.ptr(0), a.ptr(1), a.ptr(2)], [t.proc.gid, t.proc.egid, sgid(t)]);

function putIds(t: Task, ptrs: number[], ids: number[]): SysRet {
  ptrs.forEach((p, i) => t.mm.setU32(p, ids[i]));
  return 0;
}

/** Implements getgroups(2): the supplementary groups (none unless setgroups gave some). */
export const getgroups: Handler = (t, a) => {
  const size = a.int(0), groups = t.proc.groups ?? [];
  if (size < 0) return EINVAL;
  if (size === 0) return groups.length;
  if (size < groups.length) return EINVAL;
  groups.forEach((g, i) => t.mm.setU32(a.ptr(1) + 4 * i, g));
  return groups.length;
};

/** Implements setgroups(2): CAP_SETGID only. */
export const setgroups: Handler = (t, a) => {
  const size = a.int(0);
  if (size < 0 || size > NGROUPS_MAX) return EINVAL;
  if (!canSetgid(t)) return EPERM;
  const groups: number[] = [];
  for (let i = 0; i < size; i++) groups.push(t.mm.u32(a.ptr(1) + 4 * i));
  t.proc.groups = groups;
  return 0;
};

// i386 has 32-bit-id calls with a "32" suffix; its plain names take and give 16-bit ids (kernel/uid16.c),
// which the arch overrides below wrap around the same handlers.
export const setuid32 = setuid, setgid32 = setgid, setreuid32 = setreuid, setregid32 = setregid;
export const setresuid32 = setresuid, setresgid32 = setresgid, getresuid32 = getresuid, getresgid32 = getresgid;
export const getgroups32 = getgroups, setgroups32 = setgroups;

/** prctl options, include/uapi/linux/prctl.h. */
const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4, PR_GET_KEEPCAPS = 7,
  PR_SET_KEEPCAPS = 8, PR_SET_NAME = 15, PR_GET_NAME = 16, PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22, PR_CAPBSET_READ = 23,
  PR_CAPBSET_DROP = 24, PR_CAP_AMBIENT = 47,
  PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39;
/** Per-process prctl state kept by syscage. */
const attrs = new WeakMap<object, { pdeathsig: number; dumpable: number; keepcaps: number; subreaper: number }>();
function prctlState(t: Task): { pdeathsig: number; dumpable: number; keepcaps: number; subreaper: number } {
  let s = attrs.get(t.group);
  if (!s) attrs.set(t.group, (s = { pdeathsig: 0, dumpable: 1, keepcaps: 0, subreaper: 0 }));
  return s;
}

/** Implements prctl(2) for the options programs commonly use; others are EINVAL as on a kernel without them. */
export const prctl: Handler = (t, a) => {
  const opt = a.int(0), arg = a.ulong(1);
  const s = prctlState(t);
  switch (opt) {
    case PR_SET_NAME: {
      const name = t.mm.cstring(a.ptr(1), TASK_COMM_LEN);
      const raw = name ?? Buffer.from(t.mm.read(a.ptr(1), TASK_COMM_LEN - 1)).toString("latin1");
      t.proc.comm = raw.slice(0, TASK_COMM_LEN - 1);
      return 0;
    }
    case PR_GET_NAME: {
      const b = new Uint8Array(TASK_COMM_LEN);
      b.set(bytes(comm(t)));
      t.mm.write(a.ptr(1), b);
      return 0;
    }
    case PR_SET_PDEATHSIG: if (arg > 64) return EINVAL; s.pdeathsig = arg; return 0;
    case PR_GET_PDEATHSIG: t.mm.setU32(a.ptr(1), s.pdeathsig); return 0;
    case PR_GET_DUMPABLE: return s.dumpable;
    case PR_SET_DUMPABLE: if (arg > 1) return EINVAL; s.dumpable = arg; return 0;
    case PR_GET_KEEPCAPS: return s.keepcaps;
    case PR_SET_KEEPCAPS: if (arg > 1) return EINVAL; s.keepcaps = arg; return 0;
    case PR_GET_SECCOMP: return t.seccomp?.mode ?? 0;
    case PR_SET_SECCOMP: return prctlSetSeccomp(t, arg, a.ptr(2));
    case PR_CAPBSET_READ: return arg <= CAP_LAST_CAP ? Number((caps(t.proc).bounding >> BigInt(arg)) & 1n) : EINVAL;
    case PR_CAPBSET_DROP: {
      // commoncap.c cap_prctl_drop: CAP_SETPCAP first, then a valid capability.
      if (!capable(t.proc, CAP_SETPCAP)) return EPERM;
      if (arg > CAP_LAST_CAP) return EINVAL;
      const c = caps(t.proc);
      t.proc.caps = { ...c, bounding: c.bounding & ~(1n << BigInt(arg)) };
      return 0;
    }
    case PR_CAP_AMBIENT: return capAmbient(t, arg, a.ulong(2), a.ulong(3) || a.ulong(4));
    case PR_SET_CHILD_SUBREAPER: s.subreaper = arg ? 1 : 0; return 0;
    case PR_GET_CHILD_SUBREAPER: t.mm.setU32(a.ptr(1), s.subreaper); return 0;
    case PR_SET_NO_NEW_PRIVS: if (arg !== 1 || a.ulong(2) || a.ulong(3) || a.ulong(4)) return EINVAL; t.noNewPrivs = true; return 0;
    case PR_GET_NO_NEW_PRIVS: return t.noNewPrivs ? 1 : 0;
    default: return EINVAL;
  }
};


const PR_CAP_AMBIENT_IS_SET = 1, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_LOWER = 3, PR_CAP_AMBIENT_CLEAR_ALL = 4;

/** prctl(PR_CAP_AMBIENT): a capability may be ambient only while permitted and inheritable (commoncap.c cap_prctl). */
function capAmbient(t: Task, op: number, cap: number, unused: number): SysRet {
  const c = caps(t.proc);
  if (op === PR_CAP_AMBIENT_CLEAR_ALL) {
    if (cap || unused) return EINVAL;
    t.proc.caps = { ...c, ambient: 0n };
    return 0;
  }
  if (unused || cap > CAP_LAST_CAP) return EINVAL;
  const b = 1n << BigInt(cap);
  switch (op) {
    case PR_CAP_AMBIENT_IS_SET: return c.ambient & b ? 1 : 0;
    case PR_CAP_AMBIENT_LOWER: t.proc.caps = { ...c, ambient: c.ambient & ~b }; return 0;
    case PR_CAP_AMBIENT_RAISE:
      if (!(c.permitted & b) || !(c.inheritable & b)) return EPERM;
      t.proc.caps = { ...c, ambient: c.ambient | b };
      return 0;
    default: return EINVAL;
  }
}

/** capget/capset header versions, include/uapi/linux/capability.h: v1 carries one 32-bit word per set, v2 and v3 two. */
const CAP_V1 = 0x19980330, CAP_V2 = 0x20071026, CAP_V3 = 0x20080522;

/**
 * The number of 32-bit words per set the header's version asks for, or EINVAL after
 * writing the preferred version back (kernel/capability.c cap_validate_magic).
 */
function capWords(t: Task, header: number): number | Errno {
  const version = t.mm.u32(header);
  if (version === CAP_V1) return 1;
  if (version === CAP_V2 || version === CAP_V3) return 2;
  t.mm.setU32(header, CAP_V3);
  return EINVAL;
}

/** Implements capget(2). A NULL data pointer only probes the version. */
export const capget: Handler = (t, a) => {
  const header = a.ptr(0), data = a.ptr(1);
  const words = capWords(t, header);
  if (data === 0) return 0;
  if (typeof words !== "number") return words;
  const pid = t.mm.i32(header + 4);
  if (pid < 0) return EINVAL;
  const target = pid === 0 ? t : t.kernel.processes.tasks.get(pid);
  if (!target) return ESRCH;
  const c = caps(target.proc);
  for (let i = 0; i < words; i++) {
    const word = (set: bigint) => Number((set >> BigInt(32 * i)) & 0xffffffffn);
    t.mm.setU32(data + 12 * i, word(c.effective));
    t.mm.setU32(data + 12 * i + 4, word(c.permitted));
    t.mm.setU32(data + 12 * i + 8, word(c.inheritable));
  }
  return 0;
};

/** Implements capset(2): only the caller's own sets, never widened (commoncap.c cap_capset). */
export const capset: Handler = (t, a) => {
  const header = a.ptr(0), data = a.ptr(1);
  const words = capWords(t, header);
  if (typeof words !== "number") return words;
  const pid = t.mm.i32(header + 4);
  if (pid !== 0 && pid !== t.pid) return EPERM;
  if (data === 0) return EFAULT;
  const set = (field: number): bigint => {
    let v = 0n;
    for (let i = 0; i < words; i++) v |= BigInt(t.mm.u32(data + 12 * i + 4 * field)) << BigInt(32 * i);
    return v & CAP_VALID_MASK;
  };
  const effective = set(0), permitted = set(1), inheritable = set(2);
  const old = caps(t.proc);
  const within = (s: bigint, of: bigint) => (s & ~of) === 0n;
  if (!capable(t.proc, CAP_SETPCAP) && !within(inheritable, old.inheritable | old.permitted)) return EPERM;
  if (!within(inheritable, old.inheritable | old.bounding)) return EPERM;
  if (!within(permitted, old.permitted) || !within(effective, permitted)) return EPERM;
  // The ambient set never holds what is no longer permitted and inheritable.
  t.proc.caps = { ...old, effective, permitted, inheritable, ambient: old.ambient & permitted & inheritable };
  return 0;
};
