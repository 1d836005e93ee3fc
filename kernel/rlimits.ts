/** Resource limits: numbers, a fresh process's defaults, and the file size limit. */
import { EFBIG, type Errno } from "./errno";
import type { Task } from "./task";

/** RLIMIT_* numbers, include/uapi/asm-generic/resource.h. */
export const RLIMIT_FSIZE = 1, RLIMIT_STACK = 3, RLIMIT_NOFILE = 7, RLIM_NLIMITS = 16;
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** SIGXFSZ, raised for a write or truncate past RLIMIT_FSIZE. */
const SIGXFSZ = 25;

/**
 * RLIMIT_FSIZE for a write of `len` bytes at `pos` (mm/filemap.c generic_write_check_limits):
 * how many bytes may be written, or EFBIG with SIGXFSZ when `pos` is already at the limit.
 */
export function fsizeAllows(t: Task, pos: number, len: number): number | Errno {
  const limit = t.proc.rlimits.get(RLIMIT_FSIZE)?.[0] ?? RLIM_INFINITY;
  if (limit === RLIM_INFINITY || len === 0) return len;
  if (BigInt(pos) >= limit) {
    t.kernel.sendSignal(t, SIGXFSZ);
    return EFBIG;
  }
  return Math.min(len, Number(limit - BigInt(pos)));
}

/** RLIMIT_FSIZE for making a file `size` bytes long (fs/attr.c inode_newsize_ok). */
export function fsizeAllowsSize(t: Task, size: number): 0 | Errno {
  const limit = t.proc.rlimits.get(RLIMIT_FSIZE)?.[0] ?? RLIM_INFINITY;
  if (limit === RLIM_INFINITY || BigInt(size) <= limit) return 0;
  t.kernel.sendSignal(t, SIGXFSZ);
  return EFBIG;
}

/** Linux's defaults for a fresh process (include/asm-generic/resource.h INIT_RLIMITS). */
export function defaultRlimits(): Map<number, [bigint, bigint]> {
  const inf: [bigint, bigint] = [RLIM_INFINITY, RLIM_INFINITY];
  const m = new Map<number, [bigint, bigint]>();
  for (let r = 0; r < RLIM_NLIMITS; r++) m.set(r, [...inf]);
  m.set(RLIMIT_STACK, [8n << 20n, RLIM_INFINITY]);
  m.set(4 /* CORE */, [0n, RLIM_INFINITY]);
  m.set(RLIMIT_NOFILE, [1024n, 1048576n]);
  m.set(8 /* MEMLOCK */, [8n << 20n, 8n << 20n]);
  m.set(11 /* SIGPENDING */, [63432n, 63432n]);
  m.set(6 /* NPROC */, [63432n, 63432n]);
  m.set(12 /* MSGQUEUE */, [819200n, 819200n]);
  m.set(13 /* NICE */, [0n, 0n]);
  m.set(14 /* RTPRIO */, [0n, 0n]);
  return m;
}

