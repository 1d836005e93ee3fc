/**
 * Signal state: dispositions and the blocked mask. Delivery (frames, default
 * actions for sent signals) comes with the process layer; these keep the
 * bookkeeping libcs do at startup exact.
 */
import type { Handler } from "../abi";
import { EINVAL } from "../errno";

const NSIG = 64, SIGKILL = 9, SIGSTOP = 19;
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));

/** Implements rt_sigaction(2). */
export const rt_sigaction: Handler = (t, a) => {
  const sig = a.int(0), act = a.ptr(1), oact = a.ptr(2);
  if (a.ulong(3) !== 8) return EINVAL;
  if (sig < 1 || sig > NSIG) return EINVAL;
  if (act && (sig === SIGKILL || sig === SIGSTOP)) return EINVAL;
  const size = t.arch.sigactionSize;
  const table = t.sigactions;
  const incoming = act ? t.mm.read(act, size) : undefined;
  if (oact) t.mm.write(oact, table.get(sig) ?? new Uint8Array(size));
  if (incoming) table.set(sig, incoming);
  return 0;
};

/** Implements rt_sigprocmask(2). */
export const rt_sigprocmask: Handler = (t, a) => {
  const how = a.int(0), set = a.ptr(1), oset = a.ptr(2);
  if (a.ulong(3) !== 8) return EINVAL;
  const incoming = set ? t.mm.u64(set) : undefined;
  if (incoming !== undefined && how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) return EINVAL;
  if (oset) t.mm.setU64(oset, t.sigmask);
  if (incoming !== undefined) {
    const next = how === SIG_BLOCK ? t.sigmask | incoming : how === SIG_UNBLOCK ? t.sigmask & ~incoming : incoming;
    t.sigmask = next & ~UNBLOCKABLE;
  }
  return 0;
};
