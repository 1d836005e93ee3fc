/**
 * Syscalls syscage answers with a fixed errno on purpose, and why. Two kinds:
 * those Linux itself has no code for (sys_ni_syscall: ENOSYS on every kernel),
 * and those a container runtime refuses — Docker's default seccomp profile
 * allows them only with a capability its default container lacks, so the guest
 * gets the profile's EPERM, as in `docker run` without --privileged. Nothing
 * here warns: each answer is deliberate. A name implemented elsewhere wins
 * (kernel/syscalls/index.ts spreads these first).
 */
import type { Handler } from "../abi";
import { ENOSYS, EOPNOTSUPP, EPERM, type Errno } from "../errno";

export interface Refusal { errno: Errno; why: string }

const NI = "Linux has no implementation (sys_ni_syscall)";
const docker = (cap: string): string => `refused as Docker's default seccomp profile refuses it without ${cap}`;

const table: Array<[string[], Errno, string]> = [
  [["_sysctl", "afs_syscall", "bdflush", "break", "create_module", "epoll_ctl_old", "epoll_wait_old", "ftime",
    "get_kernel_syms", "getpmsg", "gtty", "idle", "lock", "mpx", "nfsservctl", "prof", "profil", "putpmsg",
    "query_module", "security", "stty", "tuxcall", "ulimit", "uselib", "vserver", "vm86", "vm86old"], ENOSYS, NI],
  [["mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "mount_setattr", "unshare", "setns", "quotactl", "quotactl_fd", "fanotify_init", "lookup_dcookie"], EPERM, docker("CAP_SYS_ADMIN")],
  [["init_module", "finit_module", "delete_module"], EPERM, docker("CAP_SYS_MODULE")],
  [["reboot", "kexec_load", "kexec_file_load"], EPERM, docker("CAP_SYS_BOOT")],
  [["swapon", "swapoff"], EPERM, docker("CAP_SYS_ADMIN (it is not in the profile at all)")],
  [["settimeofday", "stime", "clock_settime", "clock_settime64"], EPERM, docker("CAP_SYS_TIME")],
  [["acct"], EPERM, docker("CAP_SYS_PACCT")],
  [["sethostname", "setdomainname"], EPERM, docker("CAP_SYS_ADMIN")],
  // Docker lets adjtimex read the clock's state; syscage offers clock_gettime for that and keeps no NTP state to show.
  [["adjtimex", "clock_adjtime", "clock_adjtime64"], EPERM, docker("CAP_SYS_TIME") + "; reading the NTP state is not offered either"],
  [["ioperm", "iopl"], EPERM, docker("CAP_SYS_RAWIO")],
  [["syslog"], EPERM, docker("CAP_SYSLOG")],
  [["vhangup"], EPERM, docker("CAP_SYS_TTY_CONFIG")],
  [["bpf"], EPERM, docker("CAP_BPF")],
  [["perf_event_open"], EPERM, docker("CAP_PERFMON")],
  [["get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node", "migrate_pages", "move_pages"], EPERM, docker("CAP_SYS_NICE")],
  [["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev"], EPERM, docker("CAP_SYS_PTRACE")],
  [["ptrace"], EPERM, "refused as under Yama's ptrace_scope 3: syscage offers no tracer"],
  [["add_key", "request_key", "keyctl", "userfaultfd"], EPERM, "refused as Docker's default seccomp profile refuses it (not in its allow list)"],
  [["open_by_handle_at"], EPERM, docker("CAP_DAC_READ_SEARCH")],
  [["io_setup", "io_submit", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_cancel", "io_destroy"], ENOSYS,
    "CONFIG_AIO is not set (sys_ni_syscall)"],
  [["io_uring_setup", "io_uring_enter", "io_uring_register"], ENOSYS, "CONFIG_IO_URING is not set (sys_ni_syscall)"],
  [["modify_ldt"], ENOSYS, "CONFIG_MODIFY_LDT_SYSCALL is not set (sys_ni_syscall)"],
  [["memfd_secret"], ENOSYS, "CONFIG_SECRETMEM=y, but 6.1 leaves secretmem off unless booted with secretmem.enable=1 (mm/secretmem.c)"],
  [["landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"], EOPNOTSUPP,
    "CONFIG_SECURITY_LANDLOCK=y, but landlock is not in the boot-time LSM list, so it is not initialized (security/landlock/syscalls.c)"],
];

export const refusals: Readonly<Record<string, Refusal>> = Object.fromEntries(
  table.flatMap(([names, errno, why]) => names.map((n) => [n, { errno, why }])),
);

export const refusedHandlers: Readonly<Record<string, Handler>> = Object.fromEntries(
  Object.entries(refusals).map(([name, r]) => [name, () => r.errno]),
);
