/**
 * Builds the filesystem a sandbox sees (its mount namespace, root and cwd).
 *
 * Default view: a synthetic root (an in-memory tmpfs) holding /proc, /dev,
 * /tmp (tmpfs) and a minimal /etc, plus the given host directories. With
 * `root`, a host directory is `/` instead: read-only, with an in-memory
 * overlay that takes the writes and is discarded at exit.
 */
import { Errno } from "../errno";
import { FsContext } from "./context";
import { HostFs } from "./hostfs";
import { OverlayFs } from "./overlay";
import { Dentry, type Filesystem, type VfsPath } from "./inode";
import { MountNamespace, type MountFlags } from "./mount";
import { makeDevFs } from "./devfs";
import { ProcFs } from "./procfs";
import { TmpFs, type TmpDir } from "./tmpfs";
import "./unixsock"; // AF_UNIX pathname sockets: bind makes socket inodes here
import { S_IFDIR, text } from "./types";

export type MountMode = "ro" | "rw" | "strict";

/** A host directory bound into the guest's tree. */
export interface MountSpec {
  host: string;
  guest: string;
  /** ro (default): read-only, writes go to an in-memory overlay; rw: writes reach the host; strict: EROFS. */
  mode?: MountMode;
}

export interface FsOptions {
  /** A host directory to use as `/` (read-only with an in-memory overlay); default: a synthetic root. */
  root?: string;
  mounts?: MountSpec[];
  /** The guest's initial working directory (default `/`). */
  workdir?: string;
  hostname?: string;
  uid?: number;
  gid?: number;
}

/** Walk (creating directories in tmpfs roots as needed) to `guestPath`, crossing mounts. */
function ensureDir(ns: MountNamespace, guestPath: string): VfsPath {
  let cur: VfsPath = ns.root.root;
  for (const name of text(guestPath).split("/").filter((c) => c !== "" && c !== ".")) {
    if (name === "..") throw new Error(`syscage: mount path ${guestPath} must not contain '..'`);
    let child = cur.d.inode.lookup(undefined as never, name);
    if (child instanceof Errno) {
      child = cur.d.inode.mkdir(name, 0o755, { uid: 0, gid: 0 });
      if (child instanceof Errno) throw new Error(`syscage: cannot create ${guestPath} in the guest's tree: ${child.name}`);
    }
    if ((child.mode & 0o170000) !== S_IFDIR) throw new Error(`syscage: ${guestPath} is not a directory in the guest's tree`);
    cur = { mnt: cur.mnt, d: new Dentry(name, cur.d, child) };
    let m = ns.mountedOn(cur.mnt, cur.d.inode);
    while (m) {
      cur = m.root;
      m = ns.mountedOn(cur.mnt, cur.d.inode);
    }
  }
  return cur;
}

const depth = (p: string): number => p.split("/").filter((c) => c !== "").length;

function mountAt(ns: MountNamespace, guestPath: string, fs: Filesystem, flags: MountFlags, source: string): VfsPath {
  const at = ensureDir(ns, guestPath);
  return ns.mount(at, fs, flags, source).root;
}

function writeFile(dir: TmpDir, name: string, content: string, mode = 0o644): void {
  const f = dir.create(name, mode, { uid: 0, gid: 0 });
  if (f instanceof Errno) return;
  (f as unknown as { write(pos: number, data: Uint8Array): unknown }).write(0, Buffer.from(content));
}

/** The minimal /etc of the synthetic root: who the guest is and what it is called. */
function populateEtc(root: TmpDir, o: FsOptions): void {
  const etc = root.mkdir("etc", 0o755, { uid: 0, gid: 0 }) as TmpDir;
  const uid = o.uid ?? 0, gid = o.gid ?? 0, host = o.hostname ?? "syscage";
  // Debian's base-passwd system accounts, as a container image has them (test suites look up daemon, bin, nobody).
  const system = [[1, "daemon", "/usr/sbin"], [2, "bin", "/bin"], [3, "sys", "/dev"]] as const;
  const users = ["root:x:0:0:root:/root:/bin/sh", ...system.map(([id, n, home]) => `${n}:x:${id}:${id}:${n}:${home}:/usr/sbin/nologin`)];
  if (![0, 1, 2, 3, 65534].includes(uid)) users.push(`user:x:${uid}:${gid}:user:/tmp:/bin/sh`);
  users.push("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin");
  const groups = ["root:x:0:", ...system.map(([id, n]) => `${n}:x:${id}:`), "adm:x:4:", "tty:x:5:", "disk:x:6:", "users:x:100:"];
  if (![0, 1, 2, 3, 4, 5, 6, 100, 65534].includes(gid)) groups.push(`user:x:${gid}:`);
  groups.push("nogroup:x:65534:");
  writeFile(etc, "hostname", `${host}\n`);
  writeFile(etc, "passwd", users.join("\n") + "\n");
  writeFile(etc, "group", groups.join("\n") + "\n");
  writeFile(etc, "hosts", `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${host}\n`);
}

/** The filesystem a host directory is mounted as, by mode. */
function hostMount(host: string, mode: MountMode): { fs: Filesystem; flags: MountFlags } {
  switch (mode) {
    case "rw": return { fs: new HostFs(host), flags: {} };
    case "strict": return { fs: new HostFs(host, { readOnly: true }), flags: { readOnly: true } };
    default: return { fs: new OverlayFs(new HostFs(host, { readOnly: true })), flags: {} };
  }
}

/**
 * What a sandbox mounts when it is given nothing: the host's current
 * directory, read-only with an overlay, at the same path, as the working directory.
 */
export function defaultMounts(): { mounts: MountSpec[]; workdir: string } {
  const cwd = process.cwd();
  return { mounts: [{ host: cwd, guest: cwd, mode: "ro" }], workdir: cwd };
}

/** Build the namespace and the context of the sandbox's first process. */
export function buildFs(o: FsOptions = {}): FsContext {
  let ns: MountNamespace;
  if (o.root !== undefined) {
    ns = new MountNamespace(new OverlayFs(new HostFs(o.root, { readOnly: true })), {}, o.root);
  } else {
    const rootFs = new TmpFs({ mode: 0o755 });
    populateEtc(rootFs.root, o);
    ns = new MountNamespace(rootFs, {}, "rootfs");
  }
  mountAt(ns, "/proc", new ProcFs(), { nosuid: true, nodev: true, noexec: true }, "proc");
  mountAt(ns, "/dev", makeDevFs(), { nosuid: true }, "udev");
  mountAt(ns, "/dev/shm", new TmpFs({ mode: 0o1777 }), { nosuid: true, nodev: true }, "tmpfs");
  mountAt(ns, "/tmp", new TmpFs({ mode: 0o1777 }), { nosuid: true, nodev: true }, "tmpfs");
  // Parents before children, so a mount inside another mount's path lands on top of it.
  const mounts = [...(o.mounts ?? [])].sort((a, b) => depth(a.guest) - depth(b.guest));
  for (const m of mounts) {
    if (!m.guest.startsWith("/")) throw new Error(`syscage: mount point ${m.guest} must be an absolute path`);
    const { fs, flags } = hostMount(m.host, m.mode ?? "ro");
    mountAt(ns, m.guest, fs, flags, m.host);
  }
  let root = ns.root.root;
  for (let m = ns.mountedOn(root.mnt, root.d.inode); m; m = ns.mountedOn(root.mnt, root.d.inode)) root = m.root;
  const cwd = o.workdir ? ensureDir(ns, o.workdir) : root;
  return new FsContext(ns, root, cwd);
}

/** The view of a task built without one: the synthetic root, no host files. */
export function defaultContext(): FsContext {
  return buildFs();
}

/**
 * The filesystem of a sandbox from its options: with neither a root nor
 * mounts given, the host's current directory (read-only, overlaid) at the
 * same path, which is also the working directory.
 */
export function sandboxFs(o: FsOptions): FsContext {
  if (o.root === undefined && o.mounts === undefined) {
    const d = defaultMounts();
    return buildFs({ ...o, mounts: d.mounts, workdir: o.workdir ?? d.workdir });
  }
  return buildFs(o);
}
