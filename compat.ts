/**
 * The compatibility table: every syscall any of the three arches defines, its
 * number on each, and whether syscage serves it (else the guest gets ENOSYS
 * and syscage warns once). Printed by `syscage syscalls`.
 */
import { arches } from "./arch";
import { archOverrides, handlers } from "./kernel/syscalls";
import { numberOf, type ArchName } from "./kernel/syscall-table";

const ARCHES: ArchName[] = ["i386", "x86_64", "aarch64"];

export interface CompatRow {
  name: string;
  numbers: Record<ArchName, number | undefined>;
  implemented: boolean;
}

export function compatibility(): CompatRow[] {
  const names = new Set<string>();
  for (const a of ARCHES) for (const n of Object.values(arches[a].table.names)) names.add(n);
  return [...names].sort().map((name) => ({
    name,
    numbers: Object.fromEntries(ARCHES.map((a) => [a, numberOf(arches[a].table, name)])) as Record<ArchName, number | undefined>,
    implemented: name in handlers || ARCHES.some((a) => name in (archOverrides[a] ?? {})),
  }));
}

/** The table as aligned text, with a count of what is served per arch. */
export function formatCompatibility(rows: CompatRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const cell = (n: number | undefined) => String(n ?? "-").padStart(7);
  const lines = [`${"syscall".padEnd(w)} ${ARCHES.map((a) => a.padStart(7)).join(" ")}  served`];
  for (const r of rows) lines.push(`${r.name.padEnd(w)} ${ARCHES.map((a) => cell(r.numbers[a])).join(" ")}  ${r.implemented ? "yes" : "ENOSYS"}`);
  const served = ARCHES.map((a) => {
    const defined = rows.filter((r) => r.numbers[a] !== undefined);
    return `${a} ${defined.filter((r) => r.implemented).length}/${defined.length}`;
  });
  lines.push(`served: ${served.join(", ")}`);
  return lines.join("\n") + "\n";
}
