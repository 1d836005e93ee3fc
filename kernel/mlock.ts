/** Locked memory (mlock and friends, kernel/syscalls/sysmisc.ts), as /proc/PID/status's VmLck counts it. */
import { type AddressSpace, PAGE_SIZE } from "./memory";

/**
 * Locked pages per address space (the VM_LOCKED ranges): a forked child's
 * copy starts with none, as Linux does not inherit locks. Pages unmapped since
 * they were locked no longer count.
 */
const locks = new WeakMap<AddressSpace, Set<number>>();

export function lockedPages(mm: AddressSpace): Set<number> {
  let set = locks.get(mm);
  if (!set) locks.set(mm, (set = new Set()));
  for (const page of set) if (!mm.find(page)) set.delete(page);
  return set;
}

/** /proc/PID/status's VmLck: the locked memory of an address space, in KiB. */
export function lockedKb(mm: AddressSpace): number {
  return (lockedPages(mm).size * PAGE_SIZE) / 1024;
}
