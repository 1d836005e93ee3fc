/** seccomp(2) and its prctl forms. Linux: kernel/seccomp.c. */
import type { Handler, SyscallArgs } from "../abi";
import { EACCES, EFAULT, EINVAL, ENOMEM, ENOSYS, EOPNOTSUPP, errnoByCode, type Errno } from "../errno";
import type { SysRet } from "../file";
import {
  BPF_MAXINSNS, bpfFilter, checkProgram, evaluate, KNOWN_ACTIONS, MAX_INSNS_PER_PATH, seccompData, SECCOMP_MODE_FILTER,
  SECCOMP_MODE_STRICT, SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF, type BpfInsn, type SeccompFilter,
} from "../seccomp";
import { SIGKILL, SIGSYS } from "../signal";
import type { Task } from "../task";

/** seccomp(2) operations and filter flags, include/uapi/linux/seccomp.h. */
const SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2,
  SECCOMP_GET_NOTIF_SIZES = 3;
const SECCOMP_FILTER_FLAG_TSYNC = 1, SECCOMP_FILTER_FLAG_LOG = 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4,
  SECCOMP_FILTER_FLAG_NEW_LISTENER = 8, SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16;
/** The flags syscage honours: a user-notification listener (NEW_LISTENER) is not offered. */
const FLAGS_KNOWN = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
/** Strict mode's whole repertoire (mode1_syscalls); anything else is SIGKILL. */
const STRICT_ALLOWED = new Set(["read", "write", "exit", "rt_sigreturn", "sigreturn"]);

function setStrict(t: Task): number | Errno {
  if (t.seccomp?.mode === SECCOMP_MODE_FILTER) return EINVAL;
  t.seccomp = { mode: SECCOMP_MODE_STRICT, filters: [] };
  return 0;
}

/** In seccomp_set_mode_filter's order: flags, the program's length, privilege, its instructions, the mode. */
function setFilter(t: Task, flags: number, uprog: number): number | Errno {
  if (flags & ~FLAGS_KNOWN) return EINVAL;
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  if (uprog === 0) return EFAULT;
  const len = t.mm.u16(uprog);
  const insns = t.arch.wordSize === 8 ? t.mm.u64n(uprog + 8) : t.mm.u32(uprog + 4);
  if (len === 0 || len > BPF_MAXINSNS) return EINVAL;
  // Without no_new_privs only a privileged task may filter (a setuid exec could otherwise be subverted).
  if (!t.noNewPrivs && t.proc.euid !== 0) return EACCES;
  const raw = t.mm.read(insns, len * 8);
  const d = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const prog: BpfInsn[] = Array.from({ length: len }, (_, i) => ({
    code: d.getUint16(8 * i, true), jt: d.getUint8(8 * i + 2), jf: d.getUint8(8 * i + 3), k: d.getUint32(8 * i + 4, true),
  }));
  const bad = checkProgram(prog);
  if (bad) return bad;
  if (t.seccomp?.mode === SECCOMP_MODE_STRICT) return EINVAL;
  return attach(t, bpfFilter(prog), flags & SECCOMP_FILTER_FLAG_TSYNC ? [...t.group.threads] : [t]);
}

/** Add `filter` on top of each task's own; every task gets a state of its own (they are shared until now). */
function attach(t: Task, filter: SeccompFilter, tasks: Task[]): number | Errno {
  const total = (t.seccomp?.filters ?? []).reduce((n, f) => n + f.size + 4, 0) + filter.size;
  if (total > MAX_INSNS_PER_PATH) return ENOMEM;
  for (const task of tasks) {
    task.seccomp = { mode: SECCOMP_MODE_FILTER, filters: [...(t.seccomp?.filters ?? []), filter] };
  }
  return 0;
}

/** Implements seccomp(2). */
export const seccomp: Handler = (t, a) => {
  const op = a.uint(0), flags = a.uint(1), uargs = a.ptr(2);
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      return flags || uargs ? EINVAL : setStrict(t);
    case SECCOMP_SET_MODE_FILTER:
      return setFilter(t, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL:
      if (flags) return EINVAL;
      return KNOWN_ACTIONS.has(t.mm.u32(uargs)) ? 0 : EOPNOTSUPP;
    case SECCOMP_GET_NOTIF_SIZES: {
      if (flags) return EINVAL;
      // struct seccomp_notif_sizes: sizeof(struct seccomp_notif), seccomp_notif_resp, seccomp_data.
      const b = new Uint8Array(6);
      const d = new DataView(b.buffer);
      d.setUint16(0, 80, true);
      d.setUint16(2, 24, true);
      d.setUint16(4, 64, true);
      t.mm.write(uargs, b);
      return 0;
    }
    default:
      return EINVAL;
  }
};

/** prctl(PR_SET_SECCOMP, mode, prog): the older door to the same two modes. */
export function prctlSetSeccomp(t: Task, mode: number, prog: number): number | Errno {
  if (mode === SECCOMP_MODE_STRICT) return setStrict(t);
  if (mode === SECCOMP_MODE_FILTER) return setFilter(t, 0, prog);
  return EINVAL;
}

/** SIGSYS's si_code for a seccomp trap. */
const SYS_SECCOMP = 1;
/** The largest errno SECCOMP_RET_ERRNO can carry (MAX_ERRNO). */
const MAX_ERRNO = 4095;

/**
 * Run `t`'s filters on syscall `nr` (__seccomp_filter). Undefined: the call
 * goes ahead; otherwise the result it returns without running.
 */
export function filterSyscall(t: Task, nr: number, name: string, args: SyscallArgs): SysRet | undefined {
  const state = t.seccomp!;
  if (state.mode === SECCOMP_MODE_STRICT) {
    if (STRICT_ALLOWED.has(name)) return undefined;
    t.exit = { signal: SIGKILL, core: false };
    return 0;
  }
  const ip = BigInt(t.arch.pc());
  const verdict = evaluate(state, seccompData(nr, t.arch.auditArch, ip, (i) => args.raw(i)));
  const data = verdict & SECCOMP_RET_DATA;
  switch ((verdict & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_ALLOW:
    case SECCOMP_RET_LOG:
      return undefined;
    case SECCOMP_RET_ERRNO: {
      const code = Math.min(data, MAX_ERRNO);
      return errnoByCode.get(code) ?? -code;
    }
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_USER_NOTIF:
      // No tracer and no listener here: the call fails as it does when nobody is attached.
      return ENOSYS;
    case SECCOMP_RET_TRAP:
      t.kernel.forceSignal(t, { sig: SIGSYS, code: SYS_SECCOMP, addr: Number(ip), errno: data, syscall: nr, arch: t.arch.auditArch });
      // syscall_rollback: the registers are as they were, so the "result" is the register's old value.
      return t.arch.name === "aarch64" ? args.raw(0) : nr;
    default:
      // KILL_THREAD ends this thread only, unless it is the last; KILL_PROCESS and verdicts Linux does not know end them all.
      t.exit = { signal: SIGSYS, core: false };
      if ((verdict & SECCOMP_RET_ACTION_FULL) !== SECCOMP_RET_KILL_THREAD || t.group.threads.size === 1) {
        t.kernel.sched.killGroup(t.group, t.exit);
      }
      return 0;
  }
}
