/** The guest architectures syscage can run. */
export type ArchName = "i386" | "x86_64" | "aarch64";

/** Syscall number → name for one architecture (generated into arch/<dir>/syscalls.ts). */
export interface SyscallTable {
  readonly arch: ArchName;
  readonly names: Readonly<Record<number, string>>;
}

// Reverse maps are only needed by a few callers, so build each one on first use.
const reverseMaps = new WeakMap<SyscallTable, ReadonlyMap<string, number>>();

/** The syscall number of `name` on `table`'s architecture, or undefined if it has none. */
export function numberOf(table: SyscallTable, name: string): number | undefined {
  let byName = reverseMaps.get(table);
  if (byName === undefined) {
    byName = new Map(Object.entries(table.names).map(([nr, n]) => [n, Number(nr)]));
    reverseMaps.set(table, byName);
  }
  return byName.get(name);
}
