/**
 * --strace: one line per syscall in strace's own notation, so a trace reads
 * (and greps) like the real tool's: `listen(3, 1) = 0`, paths and buffers
 * as quoted strings (buffers cut at 32 bytes, as `strace -s 32`), flags by
 * name, socket addresses decoded, errors as `-1 ENAME (message)`. i386's
 * socketcall is shown as the call it carries, as strace does.
 */
import { socketcallNames } from "../arch/x86/socketcall-numbers";
import { Errno, errnoByCode } from "./errno";
import { AF_INET, AF_INET6, AF_UNIX } from "./net/constants";
import { familyOf, ipv6Of, ipv6Text, portOf, scopeIdOf } from "./net/sockaddr";
import type { Kernel } from "./kernel";
import { FIONREAD, TCFLSH, TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGWINSZ, TIOCSPGRP } from "./tty";
import type { PendingSignal } from "./signal";
import type { ExitStatus, Task } from "./task";

/**
 * Argument kinds, one letter each:
 * d int · u unsigned · x hex · p pointer · f fd · D dirfd (AT_FDCWD) · s path ·
 * b buffer written (length: next argument) · B buffer read (length: the result) ·
 * o open flags · m mode · A address family · T socket type · S sockaddr (length: next) ·
 * R sockaddr filled in (length pointer: next) · L length pointer · k signal ·
 * P mmap prot · M mmap flags · w lseek whence · a argv · e envp · l socket level · n socket option ·
 * v socket option value (length: next) · V socket option value filled in (length pointer: next) · F AT_* flags · I protocol (after a family) · Y random bytes (hex) ·
 * Z wait status filled in · g MSG_* flags · Q two descriptors filled in · and the named constants of NAMED by letter
 */
const SIGNATURES: Record<string, string> = {
  read: "fBu", write: "fbu", pread64: "fBud", pwrite64: "fbud", readv: "fpd", writev: "fpd",
  preadv: "fpdd", pwritev: "fpdd", preadv2: "fpddx", pwritev2: "fpddx",
  open: "som", openat: "Dsom", openat2: "Dspu", creat: "sm", close: "f", close_range: "ffx",
  lseek: "fdw", _llseek: "fuupw", dup: "f", dup2: "ff", dup3: "ffo", fcntl: "fCx", fcntl64: "fCx", ioctl: "fqx",
  stat: "sp", lstat: "sp", fstat: "fp", stat64: "sp", lstat64: "sp", fstat64: "fp", newfstatat: "DspF", fstatat64: "DspF",
  statx: "DsFxp", statfs: "sp", statfs64: "sup", fstatfs: "fp", fstatfs64: "fup",
  access: "sd", faccessat: "Dsd", faccessat2: "DsdF", readlink: "sBu", readlinkat: "DsBu",
  mkdir: "sm", mkdirat: "Dsm", mknod: "smx", mknodat: "Dsmx", rmdir: "s", unlink: "s", unlinkat: "DsF",
  rename: "ss", renameat: "DsDs", renameat2: "DsDsx", link: "ss", linkat: "DsDsF", symlink: "ss", symlinkat: "sDs",
  chmod: "sm", fchmod: "fm", fchmodat: "Dsm", chown: "sdd", lchown: "sdd", fchown: "fdd", chown32: "sdd", lchown32: "sdd",
  fchown32: "fdd", fchownat: "DsddF", truncate: "sd", ftruncate: "fd", truncate64: "sd", ftruncate64: "fd",
  fallocate: "fddd", fsync: "f", fdatasync: "f", sync: "", syncfs: "f", sync_file_range: "fddx", fadvise64: "fddd",
  fadvise64_64: "fddd", flock: "fd", chdir: "s", fchdir: "f", chroot: "s", getcwd: "pu", umask: "m",
  getdents: "fpu", getdents64: "fpu", utime: "sp", utimes: "sp", futimesat: "Dsp", utimensat: "DspF",
  utimensat_time64: "DspF", sendfile: "ffpu", sendfile64: "ffpu", copy_file_range: "fpfpux", memfd_create: "sx",
  pipe: "Q", pipe2: "Qo", eventfd: "u", eventfd2: "ux",
  mmap: "puPMfx", mmap2: "puPMfx", munmap: "pu", mprotect: "puP", mremap: "puuxp", madvise: "pud", msync: "pux", brk: "p",
  socket: "ATI", socketpair: "ATdQ", bind: "fSu", connect: "fSu", listen: "fd", accept: "fRL", accept4: "fRLo",
  getsockname: "fRL", getpeername: "fRL", shutdown: "fH", setsockopt: "flnvu", getsockopt: "flnVL",
  sendto: "fbugSu", recvfrom: "fBugRL", send: "fbug", recv: "fBug", sendmsg: "fpg", recvmsg: "fpg",
  sendmmsg: "fpug", recvmmsg: "fpugp", recvmmsg_time64: "fpugp",
  poll: "pud", ppoll: "pupp", ppoll_time64: "pupp", select: "dpppp", _newselect: "dpppp", pselect6: "dppppp",
  pselect6_time64: "dppppp", epoll_create: "d", epoll_create1: "o", epoll_ctl: "fEfp", epoll_wait: "fpdd",
  epoll_pwait: "fpddpu", epoll_pwait2: "fpdppu",
  execve: "sae", execveat: "Dsaex", fork: "", vfork: "", clone: "xpppp", clone3: "pu", exit: "d", exit_group: "d",
  wait4: "dZWp", waitpid: "dZW", waitid: "ddpxp", kill: "dk", tkill: "dk", tgkill: "ddk",
  rt_sigaction: "kppu", rt_sigprocmask: "hppu", rt_sigpending: "pu", rt_sigsuspend: "pu", rt_sigtimedwait: "pppu",
  rt_sigtimedwait_time64: "pppu", rt_sigreturn: "", sigreturn: "", sigaltstack: "pp", pause: "", alarm: "u",
  getitimer: "dp", setitimer: "dpp", nanosleep: "pp", clock_nanosleep: "Kxpp", clock_nanosleep_time64: "Kxpp",
  clock_gettime: "Kp", clock_gettime64: "Kp", clock_getres: "Kp", clock_getres_time64: "Kp", gettimeofday: "pp",
  time: "p", times: "p", futex: "pXduppd", futex_time64: "pXduppd", set_robust_list: "pu", set_tid_address: "p",
  rseq: "pxdx", sched_yield: "", sched_getaffinity: "dup", getrandom: "YuG", uname: "p", prctl: "dxxxx",
  arch_prctl: "cx", set_thread_area: "p", get_thread_area: "p", getrlimit: "rp", ugetrlimit: "rp", setrlimit: "rp",
  prlimit64: "drpp", getrusage: "dp", getpid: "", getppid: "", gettid: "", getpgrp: "", getpgid: "d", setpgid: "dd",
  getsid: "d", setsid: "", getuid: "", geteuid: "", getgid: "", getegid: "", getuid32: "", geteuid32: "",
  getgid32: "", getegid32: "", setuid: "d", setgid: "d", setuid32: "d", setgid32: "d", setreuid: "dd",
  setregid: "dd", setreuid32: "dd", setregid32: "dd", setresuid: "ddd", setresgid: "ddd", setresuid32: "ddd",
  setresgid32: "ddd", getresuid: "ppp", getresgid: "ppp", getresuid32: "ppp", getresgid32: "ppp",
  getgroups: "dp", setgroups: "dp", getgroups32: "dp", setgroups32: "dp",
};

const AF = ["AF_UNSPEC", "AF_UNIX", "AF_INET"];
AF[10] = "AF_INET6"; AF[16] = "AF_NETLINK"; AF[17] = "AF_PACKET";
const SOCK = ["", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"];
const SIGNALS = ["", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
  "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",
  "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",
  "SIGPWR", "SIGSYS"];
/** Flag names by bit, in strace's order of printing. */
const OPEN_FLAGS: Array<[number, string]> = [[0o100, "O_CREAT"], [0o200, "O_EXCL"], [0o400, "O_NOCTTY"],
  [0o1000, "O_TRUNC"], [0o2000, "O_APPEND"], [0o4000, "O_NONBLOCK"], [0o10000, "O_DSYNC"], [0o20000, "O_ASYNC"],
  [0o40000, "O_DIRECT"], [0o200000, "O_DIRECTORY"], [0o400000, "O_NOFOLLOW"], [0o1000000, "O_NOATIME"],
  [0o2000000, "O_CLOEXEC"], [0o10000000, "O_PATH"], [0o20000000, "O_TMPFILE"]];
const PROT: Array<[number, string]> = [[1, "PROT_READ"], [2, "PROT_WRITE"], [4, "PROT_EXEC"]];
const MAP: Array<[number, string]> = [[0x10, "MAP_FIXED"], [0x20, "MAP_ANONYMOUS"], [0x100, "MAP_GROWSDOWN"],
  [0x800, "MAP_DENYWRITE"], [0x1000, "MAP_EXECUTABLE"], [0x2000, "MAP_LOCKED"], [0x4000, "MAP_NORESERVE"],
  [0x8000, "MAP_POPULATE"], [0x10000, "MAP_NONBLOCK"], [0x20000, "MAP_STACK"], [0x100000, "MAP_FIXED_NOREPLACE"]];
const WHENCE = ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"];
const AT_FDCWD = -100;
const AT_FLAGS: Array<[number, string]> = [[0x100, "AT_SYMLINK_NOFOLLOW"], [0x200, "AT_REMOVEDIR"], [0x400, "AT_SYMLINK_FOLLOW"],
  [0x800, "AT_NO_AUTOMOUNT"], [0x1000, "AT_EMPTY_PATH"]];
const MSG_FLAGS: Array<[number, string]> = [[1, "MSG_OOB"], [2, "MSG_PEEK"], [4, "MSG_DONTROUTE"], [8, "MSG_CTRUNC"],
  [0x20, "MSG_TRUNC"], [0x40, "MSG_DONTWAIT"], [0x80, "MSG_EOR"], [0x100, "MSG_WAITALL"], [0x4000, "MSG_NOSIGNAL"],
  [0x8000, "MSG_MORE"], [0x10000, "MSG_WAITFORONE"], [0x20000000, "MSG_FASTOPEN"], [0x40000000, "MSG_CMSG_CLOEXEC"]];
const WAIT_FLAGS: Array<[number, string]> = [[1, "WNOHANG"], [2, "WUNTRACED"], [8, "WCONTINUED"], [0x40000000, "__WALL"]];
/** Constants shown by name, by argument kind. */
const NAMED: Record<string, Map<number, string>> = {
  c: new Map([[0x1001, "ARCH_SET_GS"], [0x1002, "ARCH_SET_FS"], [0x1003, "ARCH_GET_FS"], [0x1004, "ARCH_GET_GS"]]),
  q: new Map([[TCGETS, "TCGETS"], [TCSETS, "TCSETS"], [TCSETSW, "TCSETSW"], [TCSETSF, "TCSETSF"], [TCFLSH, "TCFLSH"],
    [TIOCGPGRP, "TIOCGPGRP"], [TIOCSPGRP, "TIOCSPGRP"], [TIOCGWINSZ, "TIOCGWINSZ"], [FIONREAD, "FIONREAD"],
    [0x5421, "FIONBIO"], [0x5450, "FIONCLEX"], [0x5451, "FIOCLEX"]]),
  C: new Map([[0, "F_DUPFD"], [1, "F_GETFD"], [2, "F_SETFD"], [3, "F_GETFL"], [4, "F_SETFL"], [5, "F_GETLK"], [6, "F_SETLK"],
    [7, "F_SETLKW"], [36, "F_OFD_GETLK"], [37, "F_OFD_SETLK"], [38, "F_OFD_SETLKW"], [1030, "F_DUPFD_CLOEXEC"],
    [1031, "F_SETPIPE_SZ"], [1032, "F_GETPIPE_SZ"]]),
  H: new Map([[0, "SHUT_RD"], [1, "SHUT_WR"], [2, "SHUT_RDWR"]]),
  E: new Map([[1, "EPOLL_CTL_ADD"], [2, "EPOLL_CTL_DEL"], [3, "EPOLL_CTL_MOD"]]),
  h: new Map([[0, "SIG_BLOCK"], [1, "SIG_UNBLOCK"], [2, "SIG_SETMASK"]]),
  K: new Map([[0, "CLOCK_REALTIME"], [1, "CLOCK_MONOTONIC"], [2, "CLOCK_PROCESS_CPUTIME_ID"], [3, "CLOCK_THREAD_CPUTIME_ID"],
    [4, "CLOCK_MONOTONIC_RAW"], [5, "CLOCK_REALTIME_COARSE"], [6, "CLOCK_MONOTONIC_COARSE"], [7, "CLOCK_BOOTTIME"]]),
  r: new Map(["RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
    "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"].map((n, i): [number, string] => [i, n])),
  X: new Map(([[0, "FUTEX_WAIT"], [1, "FUTEX_WAKE"], [3, "FUTEX_REQUEUE"], [4, "FUTEX_CMP_REQUEUE"], [9, "FUTEX_WAIT_BITSET"],
    [10, "FUTEX_WAKE_BITSET"]] as Array<[number, string]>).flatMap(([n, name]) => [[n, name], [n | 128, `${name}_PRIVATE`]])),
};
/** strace's default string limit (-s 32). */
const STRLEN = 32;
const PROTOCOLS = new Map([[0, "IPPROTO_IP"], [6, "IPPROTO_TCP"], [17, "IPPROTO_UDP"]]);
const SO_ERROR = 4, SO_PEERCRED = 17;
const SOL_SOCKET = 1, IPPROTO_TCP = 6, IPPROTO_IPV6 = 41;
const LEVELS = new Map([[SOL_SOCKET, "SOL_SOCKET"], [0, "SOL_IP"], [IPPROTO_TCP, "SOL_TCP"], [IPPROTO_IPV6, "SOL_IPV6"]]);
const SO = ["", "SO_DEBUG", "SO_REUSEADDR", "SO_TYPE", "SO_ERROR", "SO_DONTROUTE", "SO_BROADCAST", "SO_SNDBUF",
  "SO_RCVBUF", "SO_KEEPALIVE", "SO_OOBINLINE", "SO_NO_CHECK", "SO_PRIORITY", "SO_LINGER", "SO_BSDCOMPAT",
  "SO_REUSEPORT"];
SO[16] = "SO_PASSCRED"; SO[17] = "SO_PEERCRED"; SO[20] = "SO_RCVTIMEO_OLD"; SO[21] = "SO_SNDTIMEO_OLD"; SO[30] = "SO_ACCEPTCONN"; SO[38] = "SO_PROTOCOL"; SO[39] = "SO_DOMAIN";
const TCP = new Map([[1, "TCP_NODELAY"], [23, "TCP_FASTOPEN"], [30, "TCP_FASTOPEN_CONNECT"]]);

/** How syscall arguments are read: registers, or (socketcall) words in guest memory. */
interface ArgSource {
  raw(i: number): bigint;
  readonly wordSize: 4 | 8;
}

/** Calls whose arguments are gone once they succeed (a new image): shown as they were on entry. */
const SHOWN_ON_ENTRY = new Set(["execve", "execveat"]);

/** What strace notes as a call starts: the pid prefix, an exec's arguments, value-result lengths passed in. */
export interface TraceEntry {
  prefix: string;
  call?: string;
  /** By argument index: the length a `L` argument pointed at before the call. */
  lens: Map<number, number>;
}

/** socketcall carries its call's number and a pointer to its arguments. */
function unwrap(t: Task, name: string, args: ArgSource): [string, ArgSource] {
  if (name !== "socketcall") return [name, args];
  const sub = socketcallNames[Number(args.raw(0))];
  const base = Number(args.raw(1));
  return sub ? [sub, { wordSize: 4, raw: (i) => BigInt(t.mm.u32(base + 4 * i)) }] : [name, args];
}

export function traceEntry(t: Task, name: string, args: ArgSource): TraceEntry {
  const entry: TraceEntry = { prefix: tracePrefix(t.kernel, t.tid), lens: new Map() };
  const [call, a] = unwrap(t, name, args);
  const kinds = SIGNATURES[call] ?? "";
  for (let i = 0; i < kinds.length; i++) {
    const p = a.raw(i);
    if (kinds[i] === "L" && p !== 0n) safely(() => String(entry.lens.set(i, t.mm.u32(Number(p))).size));
  }
  if (SHOWN_ON_ENTRY.has(call)) entry.call = formatCall(t, call, a, undefined, entry);
  return entry;
}

/** A finished call's whole line: `[pid N] name(args) = result`. */
export function traceLine(t: Task, name: string, args: ArgSource, r: number | bigint | Errno, entry?: TraceEntry): string {
  const [call, a] = unwrap(t, name, args);
  const prefix = entry?.prefix ?? tracePrefix(t.kernel, t.tid);
  // A call that ends its thread (exit, exit_group, a seccomp kill) never returns: strace writes `= ?`.
  return `${prefix}${entry?.call ?? formatCall(t, call, a, r, entry)} = ${t.exit ? "?" : result(call, r)}`;
}

/** The `name(args)` part; `r` is the result (buffers it filled are shown), undefined before the call. */
function formatCall(t: Task, name: string, args: ArgSource, r: number | bigint | Errno | undefined, entry?: TraceEntry): string {
  if (name === "clone") return `clone(${cloneArgs(args, t.arch.cloneBackwards)})`;
  // Syscalls syscage does not serve show all six registers.
  const kinds = SIGNATURES[name] ?? "xxxxxx";
  const parts: string[] = [];
  for (let i = 0; i < kinds.length; i++) parts.push(safely(() => arg(t, kinds, i, args, r ?? 0, entry?.lens)));
  return `${name}(${parts.join(", ")})`;
}

/**
 * The line strace starts with, for the exec that started the guest:
 * `execve("./prog", ["./prog", "x"], 0x7fffffffe5d8 /* 2 vars *\/) = 0`.
 */
export function formatFirstExec(file: string, argv: string[], envpAddr: number, envc: number): string {
  const enc = (s: string) => quote(Buffer.from(s), true);
  const args = argv.length > STRLEN ? [...argv.slice(0, STRLEN).map(enc), "..."] : argv.map(enc);
  return `execve(${quote(Buffer.from(file), false)}, [${args.join(", ")}], ${hex(BigInt(envpAddr))} /* ${envc} vars */) = 0`;
}

/** strace -f marks lines with the pid while more than one task is traced. */
export function tracePrefix(kernel: Kernel, tid: number): string {
  const live = [...kernel.processes.groups.values()].filter((g) => !g.exit);
  const many = live.length > 1 || live.some((g) => g.threads.size > 1);
  return many ? `[pid ${tid}] ` : "";
}

const SI_CODES = new Map([[0, "SI_USER"], [0x80, "SI_KERNEL"], [-1, "SI_QUEUE"], [-2, "SI_TIMER"], [-6, "SI_TKILL"]]);
const FAULT_CODES: Record<number, string[]> = {
  4: ["", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"],
  5: ["", "TRAP_BRKPT", "TRAP_TRACE"],
  7: ["", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"],
  8: ["", "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"],
  11: ["", "SEGV_MAPERR", "SEGV_ACCERR"],
  17: ["", "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"],
  31: ["", "SYS_SECCOMP"],
};
const AUDIT_ARCHES = new Map([[0x40000003, "AUDIT_ARCH_I386"], [0xc000003e, "AUDIT_ARCH_X86_64"], [0xc00000b7, "AUDIT_ARCH_AARCH64"]]);

/** strace's line for a signal a task takes: `--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=1000, si_uid=0} ---`. */
export function formatSignal(t: Task, s: PendingSignal): string {
  const name = SIGNALS[s.sig] ?? String(s.sig);
  const kernelCode = s.code > 0 && s.code !== 0x80 ? FAULT_CODES[s.sig]?.[s.code] : undefined;
  const code = kernelCode ?? SI_CODES.get(s.code) ?? String(s.code);
  const f = [`si_signo=${name}`, `si_code=${code}`];
  if (s.errno) f.push(`si_errno=${errnoByCode.get(s.errno)?.name ?? s.errno}`);
  if (s.syscall !== undefined) {
    const call = t.arch.table.names[s.syscall];
    f.push(`si_call_addr=${hex(BigInt(s.addr ?? 0))}`, `si_syscall=${call ? `__NR_${call}` : s.syscall}`,
      `si_arch=${AUDIT_ARCHES.get(s.arch ?? 0) ?? hex(BigInt(s.arch ?? 0))}`);
  } else if (kernelCode && s.sig !== 17) {
    f.push(`si_addr=${s.addr ? hex(BigInt(s.addr)) : "NULL"}`);
  } else if (s.code !== 0x80) {
    f.push(`si_pid=${s.pid ?? 0}`, `si_uid=${s.uid ?? 0}`);
    if (s.sig === 17 && s.status !== undefined) {
      const status = s.code === 1 ? String(s.status) : SIGNALS[s.status] ?? String(s.status);
      f.push(`si_status=${status}`, "si_utime=0", "si_stime=0");
    }
  }
  return `--- ${name} {${f.join(", ")}} ---`;
}

/** strace's line for a process's end. */
export function formatExit(status: ExitStatus): string {
  if (status.signal === undefined) return `+++ exited with ${status.code} +++`;
  return `+++ killed by ${SIGNALS[status.signal] ?? status.signal}${status.core ? " (core dumped)" : ""} +++`;
}

/** A guest pointer that cannot be read prints as the pointer, as strace does. */
function safely(f: () => string): string {
  try {
    return f();
  } catch {
    return "0x?";
  }
}

function result(name: string, r: number | bigint | Errno): string {
  if (r instanceof Errno) return `-1 ${r.name} (${r.message})`;
  if (name === "mmap" || name === "mmap2" || name === "mremap" || name === "brk") return hex(BigInt(r));
  if (name === "umask") return "0" + Number(r).toString(8);
  return String(r);
}

function hex(v: bigint): string { return "0x" + v.toString(16); }

function arg(t: Task, kinds: string, i: number, a: ArgSource, r: number | bigint | Errno, lens?: Map<number, number>): string {
  const v = a.raw(i);
  const n = Number(BigInt.asIntN(32, v));
  const ptr = () => (v === 0n ? "NULL" : hex(v));
  const ok = !(r instanceof Errno);
  switch (kinds[i]) {
    case "d": case "f": return String(n);
    case "u": return BigInt.asUintN(a.wordSize * 8, v).toString();
    case "D": return n === AT_FDCWD ? "AT_FDCWD" : String(n);
    case "s": return v === 0n ? "NULL" : quote(cString(t, Number(v), 4096), false);
    case "b": return v === 0n ? "NULL" : quote(t.mm.read(Number(v), Math.min(Number(a.raw(i + 1)), STRLEN + 1)), true);
    case "B": return !ok || v === 0n ? ptr() : quote(t.mm.read(Number(v), Math.min(Number(r), STRLEN + 1)), true);
    case "Y": return !ok || v === 0n ? ptr() : quote(t.mm.read(Number(v), Math.min(Number(r), STRLEN + 1)), true, true);
    case "I": {
      const family = Number(a.raw(0));
      return (family === AF_INET || family === AF_INET6) && PROTOCOLS.has(n) ? PROTOCOLS.get(n)! : String(n);
    }
    case "o": return openFlags(n);
    case "m": return "0" + (n & 0o7777).toString(8);
    case "A": return AF[n] ?? String(n);
    case "T": return socketType(n);
    case "S": return v === 0n ? "NULL" : sockaddr(t, Number(v), Number(a.raw(i + 1)));
    case "R": {
      if (!ok || v === 0n) return ptr();
      // The kernel fills in at most the buffer's length and reports the address's full length.
      const full = t.mm.u32(Number(a.raw(i + 1)));
      return sockaddr(t, Number(v), Math.min(full, lens?.get(i + 1) ?? full));
    }
    case "L": {
      if (v === 0n) return "NULL";
      const after = t.mm.u32(Number(v)), before = lens?.get(i);
      return before === undefined || before === after || !ok ? `[${before ?? after}]` : `[${before} => ${after}]`;
    }
    case "k": return SIGNALS[n] ?? String(n);
    case "P": return flags(n, PROT, "PROT_NONE");
    case "M": return [["MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"][(n & 3) - 1] ?? hex(BigInt(n & 3)),
      ...flagNames(n & ~3, MAP)].join("|");
    case "w": return WHENCE[n] ?? String(n);
    case "a": return v === 0n ? "NULL" : stringArray(t, Number(v), a.wordSize);
    case "e": return v === 0n ? "NULL" : `${hex(v)} /* ${countArray(t, Number(v), a.wordSize)} vars */`;
    case "l": return LEVELS.get(n) ?? String(n);
    case "n": {
      const level = Number(BigInt.asIntN(32, a.raw(i - 1)));
      const name = level === SOL_SOCKET ? SO[n] : level === IPPROTO_TCP ? TCP.get(n) : level === IPPROTO_IPV6 && n === 26 ? "IPV6_V6ONLY" : undefined;
      return name ?? String(n);
    }
    case "v": {
      const len = Number(a.raw(i + 1));
      return v !== 0n && len === 4 ? `[${t.mm.i32(Number(v))}]` : ptr();
    }
    case "V": {
      if (!ok || v === 0n) return ptr();
      const len = t.mm.u32(Number(a.raw(i + 1)));
      if (len === 12 && Number(a.raw(i - 2)) === SOL_SOCKET && Number(a.raw(i - 1)) === SO_PEERCRED) {
        return `{pid=${t.mm.i32(Number(v))}, uid=${t.mm.u32(Number(v) + 4)}, gid=${t.mm.u32(Number(v) + 8)}}`;
      }
      if (len !== 4) return ptr();
      const value = t.mm.i32(Number(v));
      const soError = Number(a.raw(i - 2)) === SOL_SOCKET && Number(a.raw(i - 1)) === SO_ERROR;
      return `[${soError && value ? errnoByCode.get(value)?.name ?? value : value}]`;
    }
    case "Z": {
      if (!ok || v === 0n || r === 0) return ptr();
      const st = t.mm.i32(Number(v));
      const sig = st & 0x7f;
      if (sig === 0) return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(st >> 8) & 0xff}}]`;
      if (sig === 0x7f) return `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${SIGNALS[(st >> 8) & 0xff]}}]`;
      return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${SIGNALS[sig] ?? sig}${st & 0x80 ? " && WCOREDUMP(s)" : ""}}]`;
    }
    case "Q": return !ok || v === 0n ? ptr() : `[${t.mm.i32(Number(v))}, ${t.mm.i32(Number(v) + 4)}]`;
    case "F": return flags(n, AT_FLAGS, "0");
    case "W": return flags(n, WAIT_FLAGS, "0");
    case "g": return flags(n, MSG_FLAGS, "0");
    case "G": return flags(n, [[1, "GRND_NONBLOCK"], [2, "GRND_RANDOM"], [4, "GRND_INSECURE"]], "0");
    case "p": return ptr();
    default: {
      const named = NAMED[kinds[i]]?.get(n);
      return named ?? (NAMED[kinds[i]] ? String(n) : hex(BigInt.asUintN(a.wordSize * 8, v)));
    }
  }
}

const CLONE_FLAGS: Array<[number, string]> = [[0x100, "CLONE_VM"], [0x200, "CLONE_FS"], [0x400, "CLONE_FILES"],
  [0x800, "CLONE_SIGHAND"], [0x1000, "CLONE_PIDFD"], [0x2000, "CLONE_PTRACE"], [0x4000, "CLONE_VFORK"],
  [0x8000, "CLONE_PARENT"], [0x10000, "CLONE_THREAD"], [0x20000, "CLONE_NEWNS"], [0x40000, "CLONE_SYSVSEM"],
  [0x80000, "CLONE_SETTLS"], [0x100000, "CLONE_PARENT_SETTID"], [0x200000, "CLONE_CHILD_CLEARTID"],
  [0x400000, "CLONE_DETACHED"], [0x800000, "CLONE_UNTRACED"], [0x1000000, "CLONE_CHILD_SETTID"]];

/** clone's arguments as strace names them; i386 and aarch64 pass tls before child_tid (CLONE_BACKWARDS). */
function cloneArgs(a: ArgSource, backwards: boolean): string {
  const flags = Number(a.raw(0)) >>> 0, stack = a.raw(1), ptid = a.raw(2);
  const [tls, ctid] = backwards ? [a.raw(3), a.raw(4)] : [a.raw(4), a.raw(3)];
  const names = flagNames(flags & ~0xff, CLONE_FLAGS);
  if (flags & 0xff) names.push(SIGNALS[flags & 0xff] ?? String(flags & 0xff));
  const out = [`child_stack=${stack === 0n ? "NULL" : hex(stack)}`, `flags=${names.join("|") || "0"}`];
  if (flags & 0x100000) out.push(`parent_tid=${hex(ptid)}`);
  if (flags & 0x1200000) out.push(`child_tidptr=${hex(ctid)}`);
  if (flags & 0x80000) out.push(`tls=${hex(tls)}`);
  return out.join(", ");
}

function flagNames(n: number, table: Array<[number, string]>): string[] {
  const out: string[] = [];
  for (const [bit, name] of table) {
    if (n & bit) {
      out.push(name);
      n &= ~bit;
    }
  }
  if (n) out.push(hex(BigInt(n >>> 0)));
  return out;
}

function flags(n: number, table: Array<[number, string]>, none: string): string {
  const names = flagNames(n, table);
  return names.length ? names.join("|") : none;
}

function openFlags(n: number): string {
  const acc = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][n & 3];
  // O_TMPFILE includes O_DIRECTORY; print it once, as strace does.
  const rest = (n & 0o20000000) ? (n & ~3 & ~0o200000) : n & ~3;
  return [acc, ...flagNames(rest, OPEN_FLAGS)].join("|");
}

function socketType(n: number): string {
  const names = [SOCK[n & 0xf] ?? String(n & 0xf)];
  if (n & 0o4000) names.push("SOCK_NONBLOCK");
  if (n & 0o2000000) names.push("SOCK_CLOEXEC");
  const rest = n & ~0xf & ~0o4000 & ~0o2000000;
  if (rest) names.push(hex(BigInt(rest)));
  return names.join("|");
}

function cString(t: Task, addr: number, max: number): Uint8Array {
  const out: number[] = [];
  for (let p = addr; out.length < max; p++) {
    const c = t.mm.read(p, 1)[0];
    if (c === 0) break;
    out.push(c);
  }
  return Uint8Array.from(out);
}

/**
 * A C string literal as strace prints one; `limit`: cut at 32 bytes and mark
 * it with `...`; `hex`: every byte as \xNN (strace does so for random bytes).
 */
function quote(bytes: Uint8Array, limit: boolean, hex = false): string {
  const cut = limit && bytes.length > STRLEN;
  const shown = cut ? bytes.subarray(0, STRLEN) : bytes;
  let s = "\"";
  for (let i = 0; i < shown.length; i++) {
    const c = shown[i];
    if (hex) {
      s += "\\x" + c.toString(16).padStart(2, "0");
      continue;
    }
    const esc: Record<number, string> = { 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: "\\\"", 92: "\\\\" };
    if (esc[c]) s += esc[c];
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else {
      // Octal, as short as it can be unless a digit follows.
      const next = shown[i + 1];
      s += "\\" + (next !== undefined && next >= 0x30 && next <= 0x37 ? c.toString(8).padStart(3, "0") : c.toString(8));
    }
  }
  return s + "\"" + (cut ? "..." : "");
}

function sockaddr(t: Task, addr: number, len: number): string {
  if (len < 2) return hex(BigInt(addr));
  const b = t.mm.read(addr, Math.min(len, 128));
  const family = familyOf(b);
  // Shorter than the family's struct: strace shows the raw bytes.
  if (family === AF_INET && len >= 16) {
    return `{sa_family=AF_INET, sin_port=htons(${portOf(b)}), sin_addr=inet_addr("${b.subarray(4, 8).join(".")}")}`;
  }
  if (family === AF_INET6 && len >= 24) {
    const flowinfo = new DataView(b.buffer, b.byteOffset).getUint32(4, false);
    return `{sa_family=AF_INET6, sin6_port=htons(${portOf(b)}), sin6_flowinfo=htonl(${flowinfo}), ` +
      `inet_pton(AF_INET6, "${ipv6Text(ipv6Of(b))}", &sin6_addr), sin6_scope_id=${len >= 28 ? scopeIdOf(b) : 0}}`;
  }
  if (family === AF_UNIX) {
    const path = b.subarray(2);
    if (path.length === 0) return "{sa_family=AF_UNIX}";
    if (path[0] === 0) return `{sa_family=AF_UNIX, sun_path=@${quote(path.subarray(1), false)}}`;
    const end = path.indexOf(0);
    return `{sa_family=AF_UNIX, sun_path=${quote(end < 0 ? path : path.subarray(0, end), false)}}`;
  }
  return `{sa_family=${AF[family] ?? family}, sa_data=${quote(b.subarray(2), false)}}`;
}

function stringArray(t: Task, addr: number, word: 4 | 8): string {
  const items: string[] = [];
  for (let i = 0; ; i++) {
    const p = word === 8 ? Number(t.mm.u64(addr + 8 * i)) : t.mm.u32(addr + 4 * i);
    if (p === 0) break;
    if (i === STRLEN) {
      items.push("...");
      break;
    }
    items.push(quote(cString(t, p, STRLEN + 1), true));
  }
  return `[${items.join(", ")}]`;
}

/** How many pointers precede the NULL; a guest's unterminated array is counted no further than execve would take. */
function countArray(t: Task, addr: number, word: 4 | 8): number {
  const MAX_ARG_STRINGS = 0x7fffffff / 4096;
  let n = 0;
  while (n < MAX_ARG_STRINGS && (word === 8 ? t.mm.u64(addr + 8 * n) : BigInt(t.mm.u32(addr + 4 * n))) !== 0n) n++;
  return n;
}
