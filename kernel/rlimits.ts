/** Resource limits: numbers and a fresh process's defaults. */

/** RLIMIT_* numbers, include/uapi/asm-generic/resource.h. */
export const RLIMIT_STACK = 3, RLIMIT_NOFILE = 7, RLIM_NLIMITS = 16;
export const RLIM_INFINITY = 0xffffffffffffffffn;

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

