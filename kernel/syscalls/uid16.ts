/**
 * i386's 16-bit id calls (kernel/uid16.c): setuid, setfsuid, getresuid, getgroups... under
 * their plain names take (u16)-1 as -1 and give ids past 65535 as the overflow id
 * 65534; the 32-bit forms are the "32" names. Registered as i386 overrides.
 */
import type { Handler, SyscallArgs } from "../abi";
import { capable, CAP_SETGID } from "../capability";
import { EINVAL, EPERM } from "../errno";
import type { Task } from "../task";
import * as cred from "./cred";
import * as sysmisc from "./sysmisc";

const OVERFLOW_ID = 65534;
/** NGROUPS_MAX, include/uapi/linux/limits.h. */
const NGROUPS_MAX = 65536;
/** low2highuid: a 16-bit id as the 32-bit one it stands for. */
const widen = (id: number): number => ((id & 0xffff) === 0xffff ? 0xffffffff : id & 0xffff);
/** high2lowuid: a 32-bit id in 16 bits, the overflow id when it does not fit. */
const narrow = (id: number): number => (id > 0xffff ? OVERFLOW_ID : id);

/** The 32-bit handler, seeing the first `n` arguments widened from 16 bits (the id setters read them with uint). */
function widened(h: Handler, n: number): Handler {
  return (t, a) => h(t, { uint: (i: number) => (i < n ? widen(a.uint(i)) : a.uint(i)) } as unknown as SyscallArgs);
}

function put16(t: Task, ptrs: number[], ids: number[]): number {
  ptrs.forEach((p, i) => t.mm.setU16(p, narrow(ids[i])));
  return 0;
}

export const uid16Overrides: Readonly<Record<string, Handler>> = {
  setuid: widened(cred.setuid, 1),
  setgid: widened(cred.setgid, 1),
  setreuid: widened(cred.setreuid, 2),
  setregid: widened(cred.setregid, 2),
  setresuid: widened(cred.setresuid, 3),
  setresgid: widened(cred.setresgid, 3),
  // The old id comes back whole (setfsuid16 returns the 32-bit id).
  setfsuid: widened(sysmisc.setfsuid32, 1),
  setfsgid: widened(sysmisc.setfsgid32, 1),
  getuid: (t) => narrow(t.proc.uid),
  geteuid: (t) => narrow(t.proc.euid),
  getgid: (t) => narrow(t.proc.gid),
  getegid: (t) => narrow(t.proc.egid),
  getresuid: (t, a) => put16(t, [a.ptr(0), a.ptr(1), a.ptr(2)], [t.proc.uid, t.proc.euid, t.proc.suid ?? t.proc.uid]),
  getresgid: (t, a) => put16(t, [a.ptr(0), a.ptr(1), a.ptr(2)], [t.proc.gid, t.proc.egid, t.proc.sgid ?? t.proc.gid]),
  getgroups: (t, a) => {
    const size = a.int(0), groups = t.proc.groups ?? [];
    if (size < 0) return EINVAL;
    if (size === 0) return groups.length;
    if (size < groups.length) return EINVAL;
    groups.forEach((g, i) => t.mm.setU16(a.ptr(1) + 2 * i, narrow(g)));
    return groups.length;
  },
  setgroups: (t, a) => {
    const size = a.int(0);
    if (size < 0 || size > NGROUPS_MAX) return EINVAL;
    if (!capable(t.proc, CAP_SETGID)) return EPERM;
    const groups: number[] = [];
    for (let i = 0; i < size; i++) groups.push(widen(t.mm.u16(a.ptr(1) + 2 * i)));
    // (u16)-1 widens to the invalid id -1 (groups_from_user16: EINVAL).
    if (groups.includes(0xffffffff)) return EINVAL;
    t.proc.groups = groups;
    return 0;
  },
};
