/**
 * /proc/config.gz: the build configuration of syscage's kernel, so programs
 * that read it (LTP's tst_kconfig, systemd, docker's check-config) learn what
 * this kernel offers. Only options whose answer syscage decides are listed:
 * "=y" for what it serves, "is not set" for what it deliberately lacks
 * (namespaces, AIO, swap, loop devices, quotas, process accounting...).
 * Some features are built but off at boot, as on distribution kernels:
 * landlock (not in the LSM list) and secretmem (secretmem.enable=0).
 */
import { gzipSync } from "zlib";
import type { ArchName } from "../syscall-table";

const ARCH_OPTIONS: Record<ArchName, string[]> = {
  i386: ["X86=y", "X86_32=y"],
  // Protection keys are built in; the CPU syscage offers has none (no OSPKE).
  x86_64: ["X86=y", "X86_64=y", "64BIT=y", "X86_INTEL_MEMORY_PROTECTION_KEYS=y"],
  aarch64: ["ARM64=y", "64BIT=y"],
};

const SERVED = [
  "MMU", "MULTIUSER", "SYSVIPC", "POSIX_MQUEUE", "POSIX_TIMERS", "HIGH_RES_TIMERS", "FUTEX", "EPOLL", "SIGNALFD",
  "TIMERFD", "EVENTFD", "SHMEM", "TMPFS", "TMPFS_XATTR", "MEMFD_CREATE", "INOTIFY_USER", "FILE_LOCKING",
  "ADVISE_SYSCALLS", "PROC_FS", "SYSCTL", "SECCOMP", "SECCOMP_FILTER", "NET", "UNIX", "INET", "IPV6", "TCP_CONG_CUBIC",
  "MEMBARRIER", "FHANDLE", "SYSFS_SYSCALL", "FANOTIFY", "FANOTIFY_ACCESS_PERMISSIONS", "SECRETMEM", "SECURITY",
  "SECURITY_LANDLOCK",
  // Built in, though what they enable is partly refused: kcmp by the seccomp profile (CHECKPOINT_RESTORE also
  // gives the msg_next_id sysctls, which are served), hugetlbfs mounts by the container (no huge pages exist).
  "CHECKPOINT_RESTORE", "HUGETLBFS",
];

const ABSENT = [
  "NAMESPACES", "UTS_NS", "IPC_NS", "USER_NS", "PID_NS", "NET_NS", "TIME_NS", "CGROUPS", "AIO", "IO_URING", "SWAP",
  "BLK_DEV_LOOP", "BLK_DEV_RAM", "QUOTA", "QFMT_V2", "BSD_PROCESS_ACCT", "BSD_PROCESS_ACCT_V3", "MODULES",
  "USERFAULTFD", "DNOTIFY", "KEYS", "BPF_SYSCALL", "PERF_EVENTS",
  "MEMORY_FAILURE", "MANDATORY_FILE_LOCKING", "NUMA", "CROSS_MEMORY_ATTACH", "KEXEC", "FS_VERITY", "MODIFY_LDT_SYSCALL",
  "RSEQ",
];

/**
 * The filesystem types the kernel has registered, in registration order:
 * /proc/filesystems lists them and sysfs(2) indexes them.
 */
export const FILESYSTEMS: readonly string[] = ["sysfs", "tmpfs", "devtmpfs", "proc", "devpts", "overlay"];

const cache = new Map<ArchName, Uint8Array>();

/** The gzip bytes of syscage's .config for `arch`. */
export function kconfigGz(arch: ArchName): Uint8Array {
  let gz = cache.get(arch);
  if (!gz) {
    const lines = [
      "#", "# Linux/syscage 6.1.0-syscage Kernel Configuration", "#",
      ...ARCH_OPTIONS[arch].map((o) => `CONFIG_${o}`),
      ...SERVED.map((o) => `CONFIG_${o}=y`),
      ...ABSENT.map((o) => `# CONFIG_${o} is not set`),
    ];
    gz = gzipSync(lines.join("\n") + "\n");
    cache.set(arch, gz);
  }
  return gz;
}
