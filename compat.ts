/**
 * The compatibility table: every syscall any of the three arches defines, its
 * number on each, and whether syscage serves it, refuses it on purpose (a fixed
 * errno, with the reason), or lacks it (the guest gets ENOSYS and syscage warns
 * once). Printed by `syscage syscalls`.
 */
import { arches } from "./arch";
import { archOverrides, handlers } from "./kernel/syscalls";
import { refusals, refusedHandlers, type Refusal } from "./kernel/syscalls/refused";
import { numberOf, type ArchName } from "./kernel/syscall-table";

const ARCHES: ArchName[] = ["i386", "x86_64", "aarch64"];

export interface CompatRow {
  name: string;
  numbers: Record<ArchName, number | undefined>;
  implemented: boolean;
  /** Set when the handler is a deliberate fixed answer. */
  refused?: Refusal;
}

export function compatibility(): CompatRow[] {
  const names = new Set<string>();
  for (const a of ARCHES) for (const n of Object.values(arches[a].table.names)) names.add(n);
  return [...names].sort().map((name) => ({
    name,
    numbers: Object.fromEntries(ARCHES.map((a) => [a, numberOf(arches[a].table, name)])) as Record<ArchName, number | undefined>,
    implemented: name in handlers || ARCHES.some((a) => name in (archOverrides[a] ?? {})),
    // Only while the fixed answer is what serves it: an implementation replaces it.
    refused: handlers[name] !== undefined && handlers[name] === refusedHandlers[name] ? refusals[name] : undefined,
  }));
}

/** The table as aligned text, with a count of what is served per arch. */
export function formatCompatibility(rows: CompatRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const cell = (n: number | undefined) => String(n ?? "-").padStart(7);
  const lines = [`${"syscall".padEnd(w)} ${ARCHES.map((a) => a.padStart(7)).join(" ")}  served`];
  const status = (r: CompatRow) => r.refused ? `${r.refused.errno.name}: ${r.refused.why}` : r.implemented ? "yes" : "ENOSYS (not implemented)";
  for (const r of rows) lines.push(`${r.name.padEnd(w)} ${ARCHES.map((a) => cell(r.numbers[a])).join(" ")}  ${status(r)}`);
  const count = (pick: (r: CompatRow) => boolean) => ARCHES.map((a) => {
    const defined = rows.filter((r) => r.numbers[a] !== undefined);
    return `${a} ${defined.filter(pick).length}/${defined.length}`;
  }).join(", ");
  lines.push(`served: ${count((r) => r.implemented && !r.refused)}`);
  lines.push(`refused on purpose: ${count((r) => r.refused !== undefined)}`);
  return lines.join("\n") + "\n";
}
