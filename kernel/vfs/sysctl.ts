/**
 * The registry behind /proc/sys: each sysctl is a path ("net/core/somaxconn")
 * with a getter and, when writable, a setter. Any module adds its own with
 * registerSysctl; values are per task (its namespaces), so both take the task.
 *
 *   registerSysctl("net/core/somaxconn", (t) => String(netOf(t).sysctl.somaxconn),
 *     (t, v) => { netOf(t).sysctl.somaxconn = Number(v); return 0; });
 */
import { EINVAL, EPERM, type Errno } from "../errno";
import type { Task } from "../task";
import { text } from "./types";

export interface Sysctl {
  /** The value without the trailing newline (the file shows it followed by "\n"). */
  get(t: Task): string;
  /**
   * Parse and apply a written value (already trimmed); EINVAL for garbage.
   * Without one the file is read-only as in a container: a write open is EROFS.
   */
  set?(t: Task, value: string): 0 | Errno;
  /** The file's permissions, Linux's ctl_table mode (0644 for most, 0444 for constants). */
  mode: number;
}

const registry = new Map<string, Sysctl>();

/**
 * Add (or replace) the sysctl at `path` below /proc/sys, e.g. "kernel/hostname".
 * `mode`: Linux's for the entry; by default 0644 with a setter, 0444 without.
 */
export function registerSysctl(path: string, get: (t: Task) => string, set?: (t: Task, value: string) => 0 | Errno,
  mode = set ? 0o644 : 0o444): void {
  const clean = path.split("/").filter((c) => c !== "").join("/");
  registry.set(clean, { get, set, mode });
}

/** Linux's mode for a tunable that syscage shows but the guest cannot set (its read-only bind refuses writes). */
const TUNABLE = 0o644;

/** Every registered sysctl by path. */
export function sysctls(): ReadonlyMap<string, Sysctl> {
  return registry;
}

/** A setter for a whole number in [min, max]. */
export function intSetter(apply: (t: Task, v: number) => void, min = -(2 ** 31), max = 2 ** 31 - 1): (t: Task, value: string) => 0 | Errno {
  return (t, value) => {
    if (!/^-?\d+$/.test(value)) return EINVAL;
    const v = Number(value);
    if (v < min || v > max) return EINVAL;
    apply(t, v);
    return 0;
  };
}

const UNAME_RELEASE = "6.1.0-syscage";
registerSysctl("kernel/ostype", () => "Linux");
registerSysctl("kernel/osrelease", () => UNAME_RELEASE);
registerSysctl("kernel/version", () => "#1 SMP PREEMPT_DYNAMIC syscage");
registerSysctl("kernel/hostname", (t) => text(t.proc.hostname), (t, v) => {
  if (t.proc.euid !== 0) return EPERM;
  if (v.length > 64) return EINVAL;
  t.proc.hostname = Buffer.from(v, "latin1").toString("utf8");
  return 0;
});
registerSysctl("kernel/domainname", () => "(none)", undefined, TUNABLE);
registerSysctl("kernel/pid_max", () => "4194304", undefined, TUNABLE);
registerSysctl("kernel/threads-max", () => "126397", undefined, TUNABLE);
registerSysctl("kernel/ngroups_max", () => "65536");
registerSysctl("kernel/cap_last_cap", () => "40");
// Where cores go and how much pipe memory a user may take before pipes shrink (Linux's defaults).
registerSysctl("kernel/core_pattern", () => "core", undefined, TUNABLE);
registerSysctl("fs/pipe-user-pages-soft", () => "16384", undefined, TUNABLE);
registerSysctl("fs/pipe-user-pages-hard", () => "0", undefined, TUNABLE);
// No module or kernel event ever taints syscage's kernel.
registerSysctl("kernel/tainted", () => "0", undefined, TUNABLE);
registerSysctl("kernel/random/boot_id", () => "5ca9e6e0-5ca9-4e00-8000-000000000001");
registerSysctl("kernel/random/uuid", (t) => {
  const b = new Uint8Array(16);
  t.proc.random(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Buffer.from(b).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
});
registerSysctl("kernel/random/entropy_avail", () => "256");
registerSysctl("kernel/yama/ptrace_scope", () => "1", undefined, TUNABLE);
registerSysctl("fs/file-max", () => "9223372036854775807", undefined, TUNABLE);
registerSysctl("fs/nr_open", () => "1048576", undefined, TUNABLE);
registerSysctl("fs/pipe-max-size", () => "1048576", undefined, TUNABLE);
registerSysctl("fs/protected_hardlinks", () => "1", undefined, 0o600);
registerSysctl("fs/protected_symlinks", () => "1", undefined, 0o600);
registerSysctl("vm/overcommit_memory", () => "0", undefined, TUNABLE);
registerSysctl("vm/max_map_count", () => "65530", undefined, TUNABLE);
