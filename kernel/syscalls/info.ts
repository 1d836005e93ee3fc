/** System information: uname, getrandom, sysinfo-free basics. */
import type { Handler } from "../abi";
import { EINVAL } from "../errno";

/** The kernel syscage reports: the uapi headers its tables come from are 6.1. */
const UNAME_RELEASE = "6.1.0-syscage";
const UTS_FIELD = 65;

/** Implements uname(2) (newuname on Linux): six 65-byte fields. */
export const uname: Handler = (t, a) => {
  const fields = ["Linux", t.proc.hostname, UNAME_RELEASE, "#1 SMP PREEMPT_DYNAMIC syscage", t.arch.machine, "(none)"];
  const buf = new Uint8Array(UTS_FIELD * fields.length);
  fields.forEach((f, i) => buf.set(Buffer.from(f).subarray(0, UTS_FIELD - 1), i * UTS_FIELD));
  t.mm.write(a.ptr(0), buf);
  return 0;
};

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
