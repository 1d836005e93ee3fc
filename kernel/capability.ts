/**
 * POSIX capabilities of a process: the three sets capget/capset show and the
 * rules that tie them to uid changes and execve. Linux: kernel/capability.c,
 * security/commoncap.c. Root in the sandbox holds every capability, as root in
 * a privileged container would; none of them reaches the host.
 */
import type { ProcessInfo } from "./task";

/** CAP_LAST_CAP in Linux 6.1 (CAP_CHECKPOINT_RESTORE). */
export const CAP_LAST_CAP = 40;
export const CAP_VALID_MASK = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;
export const CAP_KILL = 5, CAP_SETGID = 6, CAP_SETUID = 7, CAP_SETPCAP = 8, CAP_SYS_RESOURCE = 24;

/** The five sets of a process (include/linux/cred.h): bounding limits what execve may grant, ambient what it keeps. */
export interface CapSets { effective: bigint; permitted: bigint; inheritable: bigint; bounding: bigint; ambient: bigint }

const ROOT: CapSets = { effective: CAP_VALID_MASK, permitted: CAP_VALID_MASK, inheritable: 0n, bounding: CAP_VALID_MASK, ambient: 0n };
const NONE: CapSets = { ...ROOT, effective: 0n, permitted: 0n };

/** The process's sets; until something changes them they follow from its euid, as after a root or non-root exec. */
export function caps(p: ProcessInfo): CapSets {
  return p.caps ?? (p.euid === 0 ? ROOT : NONE);
}

export function capable(p: ProcessInfo, cap: number): boolean {
  return (caps(p).effective & (1n << BigInt(cap))) !== 0n;
}

/**
 * The sets after a change of uids (commoncap.c cap_emulate_setxuid): leaving uid 0
 * everywhere drops permitted and effective unless keepcaps; the effective set
 * follows the euid between 0 and non-0.
 */
export function afterSetuid(p: ProcessInfo, old: { uid: number; euid: number; suid: number }, keepcaps: boolean): CapSets {
  let c = caps(p);
  const suid = p.suid ?? p.uid;
  if ((old.uid === 0 || old.euid === 0 || old.suid === 0) && p.uid !== 0 && p.euid !== 0 && suid !== 0 && !keepcaps) {
    c = { ...c, permitted: 0n, effective: 0n, ambient: 0n };
  }
  if (old.euid === 0 && p.euid !== 0) c = { ...c, effective: 0n };
  if (old.euid !== 0 && p.euid === 0) c = { ...c, effective: c.permitted };
  return c;
}

/**
 * The sets a new image starts with (commoncap.c cap_bprm_creds_from_file; no file
 * capabilities): root gets its bounding and inheritable sets, others keep only the ambient set.
 */
export function afterExec(p: ProcessInfo): CapSets {
  const c = caps(p);
  if (p.uid === 0 || p.euid === 0) {
    const permitted = c.bounding | c.inheritable;
    return { ...c, effective: p.euid === 0 ? permitted : 0n, permitted };
  }
  return { ...c, effective: c.ambient, permitted: c.ambient };
}

/** /proc/PID/status's 16-hex-digit form of a set. */
export const capHex = (set: bigint): string => set.toString(16).padStart(16, "0");
