/**
 * The network sysctls in the guest's /proc/sys: registered with the
 * filesystem's sysctl registry (kernel/vfs/sysctl.ts), each read from the
 * reading task's namespace and without a setter — read-only inside the
 * guest, as behind a container's read-only /proc/sys bind (a write open is
 * EROFS; the mode is Linux's 0644); `--sysctl` sets them from outside.
 */
import { registerSysctl } from "../vfs/sysctl";
import { netOf } from "./netns";
import { readSysctl, sysctlPaths } from "./sysctl";

/** The mode Linux gives every net.* tunable syscage shows. */
const NET_SYSCTL_MODE = 0o644;

for (const path of sysctlPaths()) registerSysctl(path, (t) => readSysctl(netOf(t).sysctl, path), undefined, NET_SYSCTL_MODE);
