/**
 * /proc (Linux: fs/proc/). Everything is computed from kernel state when it
 * is read: the calling task decides what /proc/self is, and /proc/PID finds
 * its task in the sandbox's process table. The magic links (exe, cwd, root,
 * fd/N) jump to paths the kernel holds, inside the guest's tree, so they show
 * the guest only what it can already reach.
 */
import { capHex, caps } from "../capability";
import { EACCES, EINVAL, ENOENT, Errno } from "../errno";
import { CAP_SYS_RESOURCE, capable } from "../capability";
import { FILESYSTEMS, kconfigGz } from "./kconfig";
import { lockedKb } from "../mlock";
import { FileDescription, S_IFIFO, S_IFSOCK } from "../file";
import { comm, type Task } from "../task";
import { fdPath } from "./ops";
import { VfsFile, RegularFile, DirFile } from "./file";
import { Dentry, Filesystem, Inode, PROC_SUPER_MAGIC, type OpenResult, type StatFs, type VfsPath } from "./inode";
import { fsOf, pathOf, resolve } from "./namei";
import { ExeImage, ReadOnlySynthFile, SynthDir, SynthFile, SynthLink, type Maker, type Render, type Store } from "./synth";
import { sysctls, type Sysctl } from "./sysctl";
import { SYSVIPC_FILES } from "../ipc/proc";
import { openFlagsToGuest, text, major, minor } from "./types";

const UNAME_RELEASE = "6.1.0-syscage";
/** Kernel pointer width for /proc/PID/maps: the column layout follows the kernel's, which is 64-bit. */
const MAPS_NAME_COLUMN = 25 + 8 * 6 - 1;
const USER_HZ = 100;

export class ProcFs extends Filesystem {
  readonly type = "proc";
  readonly root: SynthDir;
  private readonly inos = new Map<string, number>();

  constructor() {
    super();
    this.root = new SynthDir(this, 1, 0o555, (t) => this.topLevel(t));
    this.inos.set("", 1);
  }

  /** A stable inode number per /proc path. */
  ino(key: string): number {
    let n = this.inos.get(key);
    if (n === undefined) this.inos.set(key, (n = 0x1000 + this.inos.size));
    return n;
  }

  statfs(): StatFs {
    return { type: PROC_SUPER_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255 };
  }

  override options(): string { return ""; }

  private file(key: string, mode: number, render: Render, store?: Store, uid = 0, gid = 0): Maker {
    return () => new SynthFile(this, this.ino(key), mode, render, store, uid, gid);
  }

  private link(key: string, target: (t: Task) => string | Errno, jump?: (t: Task, link: VfsPath) => VfsPath | Errno, uid = 0, gid = 0): Maker {
    return () => new SynthLink(this, this.ino(key), target, jump, uid, gid);
  }

  private dir(key: string, mode: number, children: (t: Task) => Map<string, Maker>, uid = 0, gid = 0): Maker {
    return () => new SynthDir(this, this.ino(key), mode, children, uid, gid);
  }

  private topLevel(t: Task): Map<string, Maker> {
    const m = new Map<string, Maker>();
    for (const pid of pidsOf(t)) m.set(String(pid), this.pidDir(String(pid), pid, t));
    m.set("self", this.link("self", (tt) => String(tt.pid)));
    m.set("thread-self", this.link("thread-self", (tt) => `${tt.pid}/task/${tt.tid}`));
    m.set("mounts", this.link("mounts", () => "self/mounts"));
    m.set("cpuinfo", this.file("cpuinfo", 0o444, cpuinfo));
    m.set("meminfo", this.file("meminfo", 0o444, meminfo));
    m.set("uptime", this.file("uptime", 0o444, uptime));
    m.set("loadavg", this.file("loadavg", 0o444, (tt) => `0.00 0.00 0.00 1/${pidsOf(tt).length} ${Math.max(...pidsOf(tt))}\n`));
    m.set("version", this.file("version", 0o444, () =>
      `Linux version ${UNAME_RELEASE} (syscage@syscage) (gcc, GNU ld) #1 SMP PREEMPT_DYNAMIC syscage\n`));
    m.set("filesystems", this.file("filesystems", 0o444, () =>
      FILESYSTEMS.map((f) => `nodev\t${f}\n`).join("")));
    m.set("stat", this.file("stat", 0o444, systemStat));
    m.set("config.gz", this.file("config.gz", 0o444, (tt) => kconfigGz(tt.arch.name)));
    m.set("sys", this.sysDir(""));
    m.set("sysvipc", this.dir("sysvipc", 0o555, () => new Map(SYSVIPC_FILES.map(([name, render]) =>
      [name, this.file(`sysvipc/${name}`, 0o444, render)]))));
    return m;
  }

  /** /proc/PID/exe: the file the process runs, or its image when that came from outside the guest's tree. */
  private exeJump(reader: Task, task: Task, key: string, link: VfsPath): VfsPath | Errno {
    const exe = task.proc.exe;
    if (exe instanceof Uint8Array) {
      return { mnt: link.mnt, d: new Dentry(link.d.name, link.d.parent, new ExeImage(this, this.ino(key + ":image"), task.proc.exePath, exe)) };
    }
    if (exe) return exe;
    const p = resolve(reader, fsOf(reader).root, text(task.proc.exePath), true);
    return p instanceof Errno ? ENOENT : p;
  }

  // --- /proc/sys ---------------------------------------------------------------

  private sysDir(prefix: string): Maker {
    return this.dir(`sys/${prefix}`, 0o555, () => {
      const m = new Map<string, Maker>();
      const here = prefix ? prefix + "/" : "";
      for (const [path, ctl] of sysctls()) {
        if (!path.startsWith(here)) continue;
        const rest = path.slice(here.length);
        const slash = rest.indexOf("/");
        if (slash >= 0) {
          const name = rest.slice(0, slash);
          if (!m.has(name)) m.set(name, this.sysDir(here + name));
        } else {
          m.set(rest, this.sysctlFile(path, ctl));
        }
      }
      return m;
    });
  }

  /**
   * One /proc/sys file: writable when the guest may set it, else read-only as
   * behind a container's read-only /proc/sys bind (EROFS on a write open).
   */
  private sysctlFile(path: string, ctl: Sysctl): Maker {
    const key = `sys/${path}`, render = (tt: Task) => ctl.get(tt) + "\n";
    if (!ctl.set) return () => new ReadOnlySynthFile(this, this.ino(key), ctl.mode, render);
    const set = ctl.set;
    return this.file(key, ctl.mode, render, (tt, v) => set(tt, v.trim()));
  }

  // --- /proc/PID ----------------------------------------------------------------

  private pidDir(key: string, pid: number, _t: Task): Maker {
    return () => {
      const target = (tt: Task): Task | undefined => taskOf(tt, pid);
      const owner = target(_t);
      const uid = owner?.proc.euid ?? 0, gid = owner?.proc.egid ?? 0;
      return new SynthDir(this, this.ino(key), 0o555, (tt) => this.pidEntries(key, pid, target(tt), uid, gid), uid, gid);
    };
  }

  private pidEntries(key: string, pid: number, task: Task | undefined, uid: number, gid: number): Map<string, Maker> {
    const m = new Map<string, Maker>();
    if (!task) return m;
    const k = (name: string) => `${key}/${name}`;
    const file = (name: string, mode: number, render: (p: Task, reader: Task) => string | Uint8Array | Errno) =>
      m.set(name, this.file(k(name), mode, (reader) => render(task, reader), undefined, uid, gid));
    m.set("exe", this.link(k("exe"), () => text(task.proc.exePath), (reader, link) => this.exeJump(reader, task, k("exe"), link), uid, gid));
    m.set("cwd", this.link(k("cwd"), (reader) => shownPath(reader, fsOf(task).cwd), () => fsOf(task).cwd, uid, gid));
    m.set("root", this.link(k("root"), (reader) => shownPath(reader, fsOf(task).root), () => fsOf(task).root, uid, gid));
    m.set("fd", this.dir(k("fd"), 0o500, () => this.fdEntries(k("fd"), task, uid, gid), uid, gid));
    m.set("fdinfo", this.dir(k("fdinfo"), 0o500, () => this.fdinfoEntries(k("fdinfo"), task, uid, gid), uid, gid));
    file("maps", 0o444, (p) => maps(p));
    file("status", 0o444, (p) => status(p));
    file("stat", 0o444, (p) => procStat(p));
    file("statm", 0o444, (p) => statm(p));
    file("cmdline", 0o444, (p) => argBytes(p, "arg"));
    file("environ", 0o400, (p) => argBytes(p, "env"));
    file("comm", 0o644, (p) => comm(p) + "\n");
    file("mounts", 0o444, (p, reader) => mounts(p, reader));
    file("mountinfo", 0o444, (p, reader) => mountinfo(p, reader));
    file("limits", 0o444, (p) => limits(p));
    // The OOM killer's bias (fs/proc/base.c oom_score_adj_write): -1000..1000, lowering it takes CAP_SYS_RESOURCE.
    m.set("oom_score_adj", this.file(k("oom_score_adj"), 0o644, () => `${task.proc.oomScoreAdj ?? 0}\n`, (writer, v) => {
      const n = /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n)) return EINVAL;
      if (n < -1000 || n > 1000) return EINVAL;
      // Without CAP_SYS_RESOURCE it goes no lower than a privileged writer last set (oom_score_adj_min).
      if (capable(writer.proc, CAP_SYS_RESOURCE)) task.proc.oomScoreAdjMin = n;
      else if (n < (task.proc.oomScoreAdjMin ?? 0)) return EACCES;
      task.proc.oomScoreAdj = n;
      return 0;
    }, uid, gid));
    // proc_oom_score: 1000 + badness scaled to memory size; a guest's few pages round to nothing but its bias.
    file("oom_score", 0o444, (p) => `${(p.proc.oomScoreAdj ?? 0) === -1000 ? 0 : 1000 + (p.proc.oomScoreAdj ?? 0)}\n`);
    m.set("task", this.dir(k("task"), 0o555, () => new Map([[String(task.tid), this.pidDir(k(`task/${task.tid}`), pid, task)]]), uid, gid));
    return m;
  }

  private fdEntries(key: string, task: Task, uid: number, gid: number): Map<string, Maker> {
    const m = new Map<string, Maker>();
    for (const fd of task.fds.fds()) {
      const f = task.fds.get(fd)!;
      m.set(String(fd), this.link(`${key}/${fd}`, (reader) => fdLinkText(reader, f), (_r, link) => fdJump(this, f, link), uid, gid));
    }
    return m;
  }

  private fdinfoEntries(key: string, task: Task, uid: number, gid: number): Map<string, Maker> {
    const m = new Map<string, Maker>();
    for (const fd of task.fds.fds()) {
      m.set(String(fd), this.file(`${key}/${fd}`, 0o444, () => {
        const f = task.fds.get(fd);
        if (!f) return ENOENT;
        const pos = f instanceof RegularFile || f instanceof DirFile ? f.pos : 0;
        const flags = openFlagsToGuest(task.arch.name, f.flags) | (task.fds.cloexec(fd) ? 0o2000000 : 0);
        const mnt = f instanceof VfsFile ? f.path.mnt.id : 0;
        return `pos:\t${pos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${mnt}\nino:\t${f.stat().ino}\n`;
      }, undefined, uid, gid));
    }
    return m;
  }
}

// --- helpers -----------------------------------------------------------------------

/** Thread-group ids of the sandbox's processes (the caller's alone without a process table). */
function pidsOf(t: Task): number[] {
  const groups = t.kernel?.processes?.groups;
  if (!groups) return [t.pid];
  const pids = [...groups].filter(([, g]) => !g.reaped).map(([pid]) => pid);
  return pids.length ? pids.sort((a, b) => a - b) : [t.pid];
}

function taskOf(t: Task, pid: number): Task | undefined {
  if (pid === t.pid) return t;
  return t.kernel?.processes?.tasks?.get(pid);
}

function shownPath(reader: Task, p: VfsPath): string {
  return pathOf(reader, p) ?? "/";
}


function fdLinkText(reader: Task, f: FileDescription): string {
  if (f instanceof VfsFile) return fdPath(reader, f);
  const st = f.stat();
  const type = st.mode & 0o170000;
  if (type === S_IFIFO) return `pipe:[${st.ino}]`;
  if (type === S_IFSOCK) return `socket:[${st.ino}]`;
  return `anon_inode:[${f.constructor.name}]`;
}

/**
 * Following /proc/PID/fd/N: a VFS file's own path, or for a pipe, socket or
 * host stream an inode whose open hands out that same description.
 */
function fdJump(fs: ProcFs, f: FileDescription, link: VfsPath): VfsPath {
  if (f instanceof VfsFile) return f.path;
  const inode = new DescriptionInode(fs, f);
  return { mnt: link.mnt, d: new Dentry(link.d.name, link.d.parent, inode) };
}

/** The inode behind /proc/self/fd/N for a description that has no path (Linux reopens the same pipe or socket). */
class DescriptionInode extends Inode {
  readonly ino: number;
  constructor(readonly fs: ProcFs, private readonly file: FileDescription) {
    super();
    this.ino = file.stat().ino;
  }
  get mode(): number { return this.file.stat().mode; }
  get uid(): number { return this.file.stat().uid; }
  get gid(): number { return this.file.stat().gid; }
  get nlink(): number { return 1; }
  stat() { return this.file.stat(); }
  override open(_t: Task, flags: number): OpenResult {
    const want = flags & 3;
    if ((want === 0 || want === 2) && !this.file.readable) return EACCES;
    if ((want === 1 || want === 2) && !this.file.writable) return EACCES;
    return this.file;
  }
}


const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

function maps(t: Task): string {
  return t.mm.mappings().map((v) => {
    const perms = (v.prot & 1 ? "r" : "-") + (v.prot & 2 ? "w" : "-") + (v.prot & 4 ? "x" : "-") + (v.shared ? "s" : "p");
    const head = `${hex8(v.start)}-${hex8(v.end)} ${perms} ${hex8(v.backing?.offset ?? 0)} 00:00 0 `;
    return (v.name ? head.padEnd(MAPS_NAME_COLUMN) + " " + v.name : head) + "\n";
  }).join("");
}

function vmKb(t: Task): number {
  return t.mm.mappings().reduce((s, v) => s + (v.end - v.start), 0) / 1024;
}

const sigHex = (v: bigint): string => v.toString(16).padStart(16, "0");

/** SigIgn / SigCgt from the dispositions (SIG_IGN = 1). */
function sigSets(t: Task): { ign: bigint; cgt: bigint } {
  let ign = 0n, cgt = 0n;
  for (const [sig, { handler }] of t.sighand.actions) {
    const bit = 1n << BigInt(sig - 1);
    if (handler === 1) ign |= bit;
    else if (handler !== 0) cgt |= bit;
  }
  return { ign, cgt };
}

function status(t: Task): string {
  const p = t.proc;
  const c = caps(p);
  const { ign, cgt } = sigSets(t);
  const group = t.group;
  const vm = vmKb(t);
  const rows: Array<[string, string | number]> = [
    ["Name", comm(t)], ["Umask", fsOf(t).umask.toString(8).padStart(4, "0")], ["State", STATE_NAMES[stateOf(t)]],
    ["Tgid", t.pid], ["Ngid", 0], ["Pid", t.tid], ["PPid", t.ppid], ["TracerPid", 0],
    ["Uid", `${p.uid}\t${p.euid}\t${p.euid}\t${p.euid}`], ["Gid", `${p.gid}\t${p.egid}\t${p.egid}\t${p.egid}`],
    ["FDSize", Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, ...t.fds.fds().map((f) => f + 1)))))], ["Groups", ""],
    ["NStgid", t.pid], ["NSpid", t.tid], ["NSpgid", group?.pgid ?? t.pid], ["NSsid", group?.sid ?? t.pid],
    ["VmPeak", `${vm} kB`], ["VmSize", `${vm} kB`], ["VmLck", `${lockedKb(t.mm)} kB`], ["VmPin", "0 kB"],
    ["VmHWM", `${vm} kB`], ["VmRSS", `${vm} kB`], ["VmSwap", "0 kB"],
    ["Threads", group?.threads?.size ?? 1], ["SigQ", "0/63474"], ["SigPnd", sigHex(0n)], ["ShdPnd", sigHex(0n)],
    ["SigBlk", sigHex(t.sigmask)], ["SigIgn", sigHex(ign)], ["SigCgt", sigHex(cgt)],
    ["CapInh", capHex(c.inheritable)], ["CapPrm", capHex(c.permitted)], ["CapEff", capHex(c.effective)],
    ["CapBnd", capHex(c.bounding)],
    ["CapAmb", capHex(c.ambient)], ["NoNewPrivs", t.noNewPrivs ? 1 : 0], ["Seccomp", t.seccomp?.mode ?? 0],
    ["Seccomp_filters", t.seccomp?.filters.length ?? 0],
    ["Cpus_allowed", "1"], ["Cpus_allowed_list", "0"], ["Mems_allowed", "1"], ["Mems_allowed_list", "0"],
    ["voluntary_ctxt_switches", 0], ["nonvoluntary_ctxt_switches", 0],
  ];
  return rows.map(([k, v]) => `${k}:\t${v}\n`).join("");
}

/** Clock ticks since the sandbox's start. */
function ticksSince(start: bigint): number {
  return Math.floor(Number(process.hrtime.bigint() - start) / (1e9 / USER_HZ));
}

/** The scheduler's view of `t`, or running when it has none (a task outside a sandbox). */
function stateOf(t: Task): "R" | "S" | "T" | "Z" {
  return t.kernel?.sched?.stateOf(t) ?? "R";
}

const STATE_NAMES = { R: "R (running)", S: "S (sleeping)", T: "T (stopped)", Z: "Z (zombie)" } as const;

function procStat(t: Task): string {
  const { ign, cgt } = sigSets(t);
  const maps = t.mm.mappings();
  const a = fsOf(t).args;
  const stack = maps.find((v) => v.name === "[stack]");
  const cpu = ticksSince(t.startTime);
  const fields: Array<number | string | bigint> = [
    t.pid, `(${comm(t)})`, stateOf(t), t.ppid, t.group?.pgid ?? t.pid, t.group?.sid ?? t.pid, 0, -1, 4194560,
    0, 0, 0, 0, cpu, 0, 0, 0, 20, 0, t.group?.threads?.size ?? 1, 0, 0,
    vmKb(t) * 1024, Math.ceil(vmKb(t) / 4), "18446744073709551615",
    maps[0]?.start ?? 0, maps[0]?.end ?? 0, stack ? stack.end - 8 : 0, 0, 0,
    0, t.sigmask, ign, cgt, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0,
    0, 0, t.mm.brkStart, a.argStart, a.argEnd, a.envStart, a.envEnd, 0,
  ];
  return fields.join(" ") + "\n";
}

function statm(t: Task): string {
  const pages = Math.ceil(vmKb(t) / 4);
  return `${pages} ${pages} 0 0 0 ${pages} 0\n`;
}

/** argv or envp strings, read live from the guest's stack as Linux reads mm->arg_start..arg_end. */
function argBytes(t: Task, which: "arg" | "env"): Uint8Array {
  const a = fsOf(t).args;
  const [start, end] = which === "arg" ? [a.argStart, a.argEnd] : [a.envStart, a.envEnd];
  if (end <= start) return new Uint8Array(0);
  try {
    return t.mm.read(start, end - start);
  } catch {
    return new Uint8Array(0);
  }
}

/** Escape a path for /proc/mounts (mangle: space, tab, newline, backslash). */
const mangle = (s: string): string => s.replace(/[ \t\n\\]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"));

function mounts(t: Task, reader: Task): string {
  return fsOf(t).ns.mounts().flatMap((m) => {
    const where = pathOf(reader, m.root);
    return where === undefined ? [] : [`${mangle(m.source)} ${mangle(where)} ${m.fs.type} ${m.optionString()} 0 0\n`];
  }).join("");
}

function mountinfo(t: Task, reader: Task): string {
  return fsOf(t).ns.mounts().flatMap((m) => {
    const where = pathOf(reader, m.root);
    if (where === undefined) return [];
    const parent = m.parent?.id ?? m.id;
    const opts = m.optionString().split(",");
    const mountOpts = opts.filter((o) => ["ro", "rw", "nosuid", "nodev", "noexec", "relatime"].includes(o)).join(",");
    const superOpts = [m.readOnly ? "ro" : "rw", ...opts.filter((o) => o.includes("="))].join(",");
    return [`${m.id} ${parent} ${major(m.fs.dev)}:${minor(m.fs.dev)} / ${mangle(where)} ${mountOpts} - ${m.fs.type} ${mangle(m.source)} ${superOpts}\n`];
  }).join("");
}

const LIMIT_NAMES: Array<[string, string]> = [
  ["Max cpu time", "seconds"], ["Max file size", "bytes"], ["Max data size", "bytes"], ["Max stack size", "bytes"],
  ["Max core file size", "bytes"], ["Max resident set", "bytes"], ["Max processes", "processes"],
  ["Max open files", "files"], ["Max locked memory", "bytes"], ["Max address space", "bytes"],
  ["Max file locks", "locks"], ["Max pending signals", "signals"], ["Max msgqueue size", "bytes"],
  ["Max nice priority", ""], ["Max realtime priority", ""], ["Max realtime timeout", "us"],
];

function limits(t: Task): string {
  const show = (v: bigint) => (v >= 2n ** 64n - 1n ? "unlimited" : v.toString());
  const lines = ["Limit                     Soft Limit           Hard Limit           Units     \n"];
  LIMIT_NAMES.forEach(([name, unit], i) => {
    const [soft, hard] = t.proc.rlimits.get(i) ?? [0n, 0n];
    lines.push(`${name.padEnd(26)}${show(soft).padEnd(21)}${show(hard).padEnd(21)}${unit.padEnd(10)}\n`);
  });
  return lines.join("");
}

function cpuinfo(t: Task): string {
  if (t.arch.name === "aarch64") {
    return "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics cpuid\n" +
      "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n";
  }
  return "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 15\nmodel\t\t: 107\n" +
    "model name\t: QEMU Virtual CPU version 2.5+\nstepping\t: 1\ncpu MHz\t\t: 2000.000\ncache size\t: 512 KB\n" +
    "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\n" +
    "wp\t\t: yes\nflags\t\t: fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 " +
    "syscall nx lm nopl pni cx16 hypervisor lahf_lm svm\nbogomips\t: 4000.00\nclflush size\t: 64\ncache_alignment\t: 64\n" +
    "address sizes\t: 40 bits physical, 48 bits virtual\npower management:\n\n";
}

/** A fixed machine: 4 GiB, so the guest learns nothing of the host's memory. */
function meminfo(): string {
  const total = 4 * 1024 * 1024;
  const rows: Array<[string, number]> = [
    ["MemTotal", total], ["MemFree", total / 2], ["MemAvailable", (total * 3) / 4], ["Buffers", 0], ["Cached", total / 8],
    ["SwapCached", 0], ["Active", total / 8], ["Inactive", total / 8], ["SwapTotal", 0], ["SwapFree", 0],
    ["Dirty", 0], ["Writeback", 0], ["AnonPages", total / 16], ["Mapped", total / 32], ["Shmem", 0],
    ["Slab", 0], ["CommitLimit", total / 2], ["Committed_AS", total / 8], ["VmallocTotal", 34359738367],
    ["HugePages_Total", 0], ["HugePages_Free", 0], ["Hugepagesize", 2048],
  ];
  return rows.map(([k, v]) => {
    const unit = k.startsWith("HugePages_") ? "" : " kB";
    return `${(k + ":").padEnd(16)}${String(v).padStart(8)}${unit}\n`;
  }).join("");
}

const sandboxStart = Date.now();

function uptime(): string {
  const s = (Date.now() - sandboxStart) / 1000 + 1;
  return `${s.toFixed(2)} ${s.toFixed(2)}\n`;
}

function systemStat(t: Task): string {
  const ticks = ticksSince(t.startTime);
  return `cpu  ${ticks} 0 0 0 0 0 0 0 0 0\ncpu0 ${ticks} 0 0 0 0 0 0 0 0 0\nintr 0\nctxt 0\n` +
    `btime ${Math.floor(sandboxStart / 1000)}\nprocesses ${pidsOf(t).length}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0\n`;
}


