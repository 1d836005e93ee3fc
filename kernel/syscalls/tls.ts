/** Thread-local storage setup: the arch-specific calls, served by the arch's own register model. */
import type { Handler } from "../abi";
import { ENOSYS } from "../errno";

/** Implements arch_prctl(2) (x86_64). */
export const arch_prctl: Handler = (t, a) => t.arch.archPrctl?.(a.int(0), a.ptr(1)) ?? ENOSYS;

/** Implements set_thread_area(2) (i386). */
export const set_thread_area: Handler = (t, a) => t.arch.setThreadArea?.(a.ptr(0)) ?? ENOSYS;

/** Implements get_thread_area(2) (i386). */
export const get_thread_area: Handler = (t, a) => t.arch.getThreadArea?.(a.ptr(0)) ?? ENOSYS;
