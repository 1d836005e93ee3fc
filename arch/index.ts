/** The architectures syscage runs, by name. */
import type { ArchName } from "../kernel/syscall-table";
import type { ArchImpl } from "./arch";
import { arm64 } from "./arm64/abi";
import { x64 } from "./x64/abi";
import { x86 } from "./x86/abi";

export const arches: Readonly<Record<ArchName, ArchImpl>> = { i386: x86, x86_64: x64, aarch64: arm64 };
export type { ArchImpl } from "./arch";
