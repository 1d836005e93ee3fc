/** System information: uname, getrandom, sysinfo-free basics. */
import type { Handler } from "../abi";
import { EFAULT, EINVAL } from "../errno";
import type { SysRet } from "../file";
import type { Task } from "../task";

/** The kernel syscage reports: the uapi headers its tables come from are 6.1. */
const UNAME_RELEASE = "6.1.0-syscage";
const UTS_FIELD = 65;

/** struct new_utsname's fields in order: sysname, nodename, release, version, machine, domainname. */
function utsFields(t: Task): string[] {
  return ["Linux", t.proc.hostname, UNAME_RELEASE, "#1 SMP PREEMPT_DYNAMIC syscage", t.arch.machine, "(none)"];
}

/** Implements uname(2) (newuname on Linux): six 65-byte fields. */
export const uname: Handler = (t, a) => {
  const fields = utsFields(t);
  const buf = new Uint8Array(UTS_FIELD * fields.length);
  fields.forEach((f, i) => buf.set(Buffer.from(f).subarray(0, UTS_FIELD - 1), i * UTS_FIELD));
  t.mm.write(a.ptr(0), buf);
  return 0;
};

/** Implements olduname(2) (i386 sys_uname): struct old_utsname, five 65-byte fields without the domain name. */
export const olduname: Handler = (t, a) => utsWrite(t, a.ptr(0), 65);
/** Implements oldolduname(2) (i386 sys_olduname): struct oldold_utsname, five 9-byte fields of 8 characters and a NUL. */
export const oldolduname: Handler = (t, a) => utsWrite(t, a.ptr(0), 9);

function utsWrite(t: Task, p: number, field: number): SysRet {
  if (!p) return EFAULT;
  const buf = new Uint8Array(5 * field);
  utsFields(t).slice(0, 5).forEach((f, i) => buf.set(Buffer.from(f).subarray(0, field - 1), i * field));
  t.mm.write(p, buf);
  return 0;
}

const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
/** Linux returns at most this much per call (drivers/char/random.c: MAX_RW_COUNT and chunking). */
const GETRANDOM_MAX = 0x1ffffff;

/** Implements getrandom(2). */
export const getrandom: Handler = (t, a) => {
  const flags = a.uint(2);
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return EINVAL;
  if ((flags & (GRND_RANDOM | GRND_INSECURE)) === (GRND_RANDOM | GRND_INSECURE)) return EINVAL;
  const len = Math.min(a.ulong(1), GETRANDOM_MAX);
  const bytes = new Uint8Array(len);
  t.proc.random(bytes);
  t.mm.write(a.ptr(0), bytes);
  return len;
};
