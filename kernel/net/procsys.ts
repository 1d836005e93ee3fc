/**
 * The network sysctls in the guest's /proc/sys: registered with the
 * filesystem's sysctl registry (kernel/vfs/sysctl.ts), each read from the
 * reading task's namespace and without a setter — read-only inside the
 * guest, as in a container; `--sysctl` sets them from outside.
 */
import { registerSysctl } from "../vfs/sysctl";
import { netOf } from "./netns";
import { readSysctl, sysctlPaths } from "./sysctl";

for (const path of sysctlPaths()) registerSysctl(path, (t) => readSysctl(netOf(t).sysctl, path));
