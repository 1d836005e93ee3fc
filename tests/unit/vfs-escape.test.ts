// The escape suite: a host directory mounted into the guest, with a secret next to it on the host
// and symlinks, "..", magic links, descriptors, renames, links and host-side races all trying to
// reach the secret. Each must fail as it would in a chroot whose only view of the host is the mount.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Errno } from "../../kernel/errno";
import { HostFs } from "../../kernel/vfs/hostfs";
import { hostScratch, rmHost, vfsTask, type VfsTask } from "./vfs-helpers";

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_DIRECTORY = 0o200000, O_PATH = 0o10000000, O_NOFOLLOW = 0o400000;
const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000;

let S: string;

beforeEach(() => {
  S = hostScratch();
  fs.mkdirSync(path.join(S, "outside"));
  fs.writeFileSync(path.join(S, "outside", "secret.txt"), "SECRET");
  fs.mkdirSync(path.join(S, "mnt", "sub"), { recursive: true });
  fs.writeFileSync(path.join(S, "mnt", "inside.txt"), "inside");
  fs.writeFileSync(path.join(S, "mnt", "sub", "deep.txt"), "deep");
  fs.symlinkSync(path.join(S, "outside", "secret.txt"), path.join(S, "mnt", "abs"));
  fs.symlinkSync("../outside/secret.txt", path.join(S, "mnt", "rel"));
  fs.symlinkSync("..", path.join(S, "mnt", "dotdot"));
  fs.symlinkSync("/etc", path.join(S, "mnt", "etc"));
  fs.symlinkSync("../../../../../../../../..", path.join(S, "mnt", "up"));
});

afterEach(() => rmHost(S));

function mounted(mode: "ro" | "rw" | "strict" = "rw"): VfsTask {
  return vfsTask({ mounts: [{ host: path.join(S, "mnt"), guest: "/data", mode }] });
}

/** Whatever the guest reads at `p`, or the errno name. */
function read(v: VfsTask, p: string, flags = O_RDONLY): string {
  const fd = v.sys("open", p, flags);
  if (typeof fd !== "number") return fd;
  const s = v.slurp(fd);
  v.sys("close", fd);
  return s;
}

const secretIntact = () => expect(fs.readFileSync(path.join(S, "outside", "secret.txt"), "utf8")).toBe("SECRET");

describe("nothing outside the mount is reachable", () => {
  test("the mount shows the host directory", () => {
    const v = mounted();
    expect(read(v, "/data/inside.txt")).toBe("inside");
    expect(read(v, "/data/sub/deep.txt")).toBe("deep");
    expect(v.list("/data")).toEqual(["abs", "dotdot", "etc", "inside.txt", "rel", "sub", "up"]);
  });

  test("'..' past the mount root stays in the guest's tree", () => {
    const v = mounted();
    expect(read(v, "/data/../outside/secret.txt")).toBe("ENOENT");
    expect(read(v, "/data/sub/../../outside/secret.txt")).toBe("ENOENT");
    expect(v.list("/data/../../../..")).toEqual(v.list("/"));
    expect(v.sys("chdir", "/data/sub")).toBe(0);
    expect(v.sys("chdir", "../../../../..")).toBe(0);
    expect(v.cwd()).toBe("/");
    expect(read(v, `${S}/outside/secret.txt`)).toBe("ENOENT");
  });

  test("absolute and relative symlinks resolve inside the guest's root", () => {
    const v = mounted();
    expect(read(v, "/data/abs")).toBe("ENOENT");
    expect(read(v, "/data/rel")).toBe("ENOENT");
    expect(v.list("/data/dotdot")).toEqual(v.list("/"));
    expect(v.list("/data/up")).toEqual(v.list("/"));
    // /etc here is the guest's own minimal /etc, not the host's.
    expect(read(v, "/data/etc/passwd")).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\n/);
    expect(read(v, "/data/etc/shadow")).toBe("ENOENT");
    expect(v.link("/data/abs")).toBe(path.join(S, "outside", "secret.txt"));
  });

  test("symlinks the guest makes are resolved by the guest too", () => {
    const v = mounted();
    expect(v.sys("symlink", `${S}/outside/secret.txt`, "/data/mine")).toBe(0);
    expect(v.sys("symlink", "../../../../outside/secret.txt", "/data/mine2")).toBe(0);
    expect(read(v, "/data/mine")).toBe("ENOENT");
    expect(read(v, "/data/mine2")).toBe("ENOENT");
    expect(v.sys("open", "/data/mine", O_WRONLY | O_CREAT, 0o644)).toBe("ENOENT"); // would create under the guest's /tmp...
    expect(fs.lstatSync(path.join(S, "mnt", "mine")).isSymbolicLink()).toBe(true);
    secretIntact();
  });

  test("magic links: /proc/self/root, /proc/self/cwd, /proc/self/fd/N", () => {
    const v = mounted();
    expect(v.list("/proc/self/root/..")).toEqual(v.list("/"));
    expect(read(v, "/proc/self/root/../outside/secret.txt")).toBe("ENOENT");
    v.sys("chdir", "/data/sub");
    expect(v.list("/proc/self/cwd")).toEqual(["deep.txt"]);
    expect(read(v, "/proc/self/cwd/../../outside/secret.txt")).toBe("ENOENT");
    const d = v.sys("open", "/data", O_RDONLY | O_DIRECTORY) as number;
    expect(read(v, `/proc/self/fd/${d}/../outside/secret.txt`)).toBe("ENOENT");
    expect(v.list(`/proc/self/fd/${d}/..`)).toEqual(v.list("/"));
  });

  test("openat with directory and O_PATH descriptors", () => {
    const v = mounted();
    const d = v.sys("open", "/data/sub", O_RDONLY | O_DIRECTORY) as number;
    expect(v.sys("openat", d, "../../outside/secret.txt", O_RDONLY)).toBe("ENOENT");
    expect(v.sys("openat", d, "../../../../../../..", O_RDONLY | O_DIRECTORY)).toBeGreaterThanOrEqual(0);
    const p = v.sys("open", "/data", O_PATH) as number;
    expect(v.sys("openat", p, "../outside/secret.txt", O_RDONLY)).toBe("ENOENT");
    expect(v.sys("read", p, v.buf(4), 4)).toBe("EBADF");
    const l = v.sys("open", "/data/abs", O_PATH | O_NOFOLLOW) as number;
    expect(v.sys("openat", l, "", O_RDONLY)).toBe("ENOENT");
    expect(v.sys("linkat", l, "", AT_FDCWD, "/data/copy", AT_EMPTY_PATH)).toBe(0); // a hard link to the symlink itself
    expect(read(v, "/data/copy")).toBe("ENOENT");
    const f = v.sys("open", "/data/inside.txt", O_PATH) as number;
    expect(v.sys("linkat", f, "", AT_FDCWD, "/tmp/out", AT_EMPTY_PATH)).toBe("EXDEV");
  });

  test("rename and link across mounts are EXDEV", () => {
    const v = mounted();
    expect(v.sys("rename", "/data/inside.txt", "/tmp/x")).toBe("EXDEV");
    expect(v.sys("link", "/data/inside.txt", "/tmp/x")).toBe("EXDEV");
    v.put("/tmp/t", "t");
    expect(v.sys("rename", "/tmp/t", "/data/t")).toBe("EXDEV");
    expect(v.sys("rename", "/data", "/tmp/data")).toBe("EXDEV");
    expect(v.sys("rename", "/data", "/data2")).toBe("EBUSY");
    expect(v.sys("rmdir", "/data")).toBe("EBUSY");
  });

  test("host fifos and devices in a mount are never opened", () => {
    execFileSync("mkfifo", [path.join(S, "mnt", "fifo")]);
    let dev = false;
    try {
      execFileSync("mknod", [path.join(S, "mnt", "null"), "c", "1", "3"]);
      dev = true;
    } catch { /* not root: no device node to test */ }
    const v = mounted();
    expect(v.sys("open", "/data/fifo", O_RDONLY)).toBe("ENXIO");
    if (dev) expect(v.sys("open", "/data/null", O_RDWR)).toBe("EACCES");
  });

  test("a directory swapped for a symlink on the host is not followed", () => {
    const v = mounted();
    expect(v.list("/data/sub")).toEqual(["deep.txt"]);
    fs.rmSync(path.join(S, "mnt", "sub"), { recursive: true });
    fs.symlinkSync(path.join(S, "outside"), path.join(S, "mnt", "sub"));
    expect(read(v, "/data/sub/secret.txt")).toBe("ENOENT");
    expect(v.list("/data")).toContain("sub");
  });

  test("hostfs itself: a component swapped after lookup fails instead of following (no race)", () => {
    const hfs = new HostFs(path.join(S, "mnt"));
    const t = vfsTask().t;
    const sub = hfs.root.lookup(t, "sub");
    expect(sub).not.toBeInstanceOf(Errno);
    fs.renameSync(path.join(S, "mnt", "sub"), path.join(S, "mnt", "sub.old"));
    fs.symlinkSync(path.join(S, "outside"), path.join(S, "mnt", "sub"));
    const r = (sub as HostFs["root"]).lookup(t, "secret.txt");
    expect(r).toBeInstanceOf(Errno);
    expect(() => (sub as HostFs["root"]).lookup(t, "..")).toThrow(/refusing name/);
    hfs.close();
  });

  test("attributes change through no symlink: fchmod after the file was swapped changes the open file", () => {
    const v = mounted();
    const fd = v.sys("open", "/data/inside.txt", O_RDWR) as number;
    fs.renameSync(path.join(S, "mnt", "inside.txt"), path.join(S, "mnt", "inside.old"));
    fs.symlinkSync(path.join(S, "outside", "secret.txt"), path.join(S, "mnt", "inside.txt"));
    const before = fs.statSync(path.join(S, "outside", "secret.txt")).mode;
    expect(v.sys("fchmod", fd, 0o600)).toBe(0);
    expect(fs.statSync(path.join(S, "mnt", "inside.old")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(S, "outside", "secret.txt")).mode).toBe(before);
    v.sys("close", fd);
    // By name, the swapped-in symlink is followed inside the guest: nothing there.
    expect(v.sys("chmod", "/data/inside.txt", 0o600)).toBe("ENOENT");
    secretIntact();
  });
});

describe("mount modes", () => {
  test("ro (default): writes land in memory, the host is untouched", () => {
    const v = mounted("ro");
    v.put("/data/inside.txt", "changed");
    expect(read(v, "/data/inside.txt")).toBe("changed");
    expect(fs.readFileSync(path.join(S, "mnt", "inside.txt"), "utf8")).toBe("inside");
    v.put("/data/new.txt", "new");
    expect(fs.existsSync(path.join(S, "mnt", "new.txt"))).toBe(false);
    expect(v.sys("unlink", "/data/sub/deep.txt")).toBe(0);
    expect(v.list("/data/sub")).toEqual([]);
    expect(fs.existsSync(path.join(S, "mnt", "sub", "deep.txt"))).toBe(true);
    expect(v.sys("rmdir", "/data/sub")).toBe(0);
    expect(v.sys("mkdir", "/data/sub", 0o755)).toBe(0);
    expect(v.list("/data/sub")).toEqual([]); // opaque: the host's sub stays hidden
    expect(v.sys("mkdir", "/data/d2", 0o700)).toBe(0);
    expect(fs.existsSync(path.join(S, "mnt", "d2"))).toBe(false);
    expect(v.list("/data")).toEqual(["abs", "d2", "dotdot", "etc", "inside.txt", "new.txt", "rel", "sub", "up"]);
    expect(v.sys("rename", "/data/inside.txt", "/data/moved.txt")).toBe(0);
    expect(read(v, "/data/moved.txt")).toBe("changed");
    expect(read(v, "/data/inside.txt")).toBe("ENOENT");
    expect(fs.existsSync(path.join(S, "mnt", "inside.txt"))).toBe(true);
    expect(v.sys("chmod", "/data/rel", 0o600)).toBe("ENOENT"); // follows the link: outside is not there
    secretIntact();
  });

  test("ro: renaming a host directory is EXDEV (overlayfs without redirect_dir)", () => {
    fs.mkdirSync(path.join(S, "mnt", "tree"));
    const v = mounted("ro");
    expect(v.sys("rename", "/data/tree", "/data/tree2")).toBe("EXDEV");
    v.sys("mkdir", "/data/fresh", 0o755);
    expect(v.sys("rename", "/data/fresh", "/data/fresh2")).toBe(0);
  });

  test("strict: every write is EROFS", () => {
    const v = mounted("strict");
    expect(read(v, "/data/inside.txt")).toBe("inside");
    expect(v.sys("open", "/data/inside.txt", O_WRONLY)).toBe("EROFS");
    expect(v.sys("open", "/data/new", O_WRONLY | O_CREAT, 0o644)).toBe("EROFS");
    expect(v.sys("mkdir", "/data/d", 0o755)).toBe("EROFS");
    expect(v.sys("unlink", "/data/inside.txt")).toBe("EROFS");
    expect(v.sys("chmod", "/data/inside.txt", 0o600)).toBe("EROFS");
    expect(v.sys("access", "/data/inside.txt", 2)).toBe("EROFS");
    const sfs = v.buf(120);
    expect(v.sys("statfs", "/data", sfs)).toBe(0);
    expect(v.t.mm.u32(sfs + 80) & 1).toBe(1); // ST_RDONLY
  });

  test("rw: writes reach the host, and stay inside the directory", () => {
    const v = mounted("rw");
    v.put("/data/new.txt", "written");
    expect(fs.readFileSync(path.join(S, "mnt", "new.txt"), "utf8")).toBe("written");
    expect(v.sys("mkdir", "/data/made", 0o750)).toBe(0);
    expect(fs.statSync(path.join(S, "mnt", "made")).mode & 0o777).toBe(0o750);
    expect(v.sys("rename", "/data/new.txt", "/data/made/n.txt")).toBe(0);
    expect(fs.readFileSync(path.join(S, "mnt", "made", "n.txt"), "utf8")).toBe("written");
    expect(v.sys("link", "/data/made/n.txt", "/data/hard")).toBe(0);
    expect(fs.statSync(path.join(S, "mnt", "hard")).nlink).toBe(2);
    expect(v.sys("unlink", "/data/hard")).toBe(0);
    expect(v.sys("rmdir", "/data/made")).toBe("ENOTEMPTY");
    expect(v.sys("truncate", "/data/made/n.txt", 3)).toBe(0);
    expect(fs.readFileSync(path.join(S, "mnt", "made", "n.txt"), "utf8")).toBe("wri");
    secretIntact();
  });

  test("--root: a host directory as /, with /proc, /dev and /tmp on top", () => {
    const v = vfsTask({ root: path.join(S, "mnt"), mounts: [] });
    expect(read(v, "/inside.txt")).toBe("inside");
    expect(read(v, "/../outside/secret.txt")).toBe("ENOENT");
    expect(read(v, "/rel")).toBe("ENOENT");
    expect(read(v, "/abs")).toBe("ENOENT");
    expect(v.list("/dotdot")).toEqual(v.list("/"));
    expect(v.link("/proc/self")).toBe("1000");
    v.put("/inside.txt", "overlaid");
    expect(fs.readFileSync(path.join(S, "mnt", "inside.txt"), "utf8")).toBe("inside");
    expect(fs.existsSync(path.join(S, "mnt", "proc"))).toBe(false); // mountpoints were made in memory
    secretIntact();
  });
});

describe("openat2 RESOLVE_* (values from Linux 6.18)", () => {
  const RESOLVE_NO_XDEV = 1, RESOLVE_NO_MAGICLINKS = 2, RESOLVE_NO_SYMLINKS = 4, RESOLVE_BENEATH = 8, RESOLVE_IN_ROOT = 16,
    RESOLVE_CACHED = 32;
  const how = (flags: number, resolve: number): Buffer => {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(BigInt(flags), 0);
    b.writeBigUInt64LE(BigInt(resolve), 16);
    return b;
  };
  const ok = (r: string | number) => (typeof r === "number" ? "ok" : r);

  test("beneath, in-root, no symlinks, no magic links, no crossing, cached", () => {
    fs.symlinkSync("/inside.txt", path.join(S, "mnt", "sub", "absin"));
    fs.symlinkSync("../sub/deep.txt", path.join(S, "mnt", "sub", "upin"));
    fs.symlinkSync("deep.txt", path.join(S, "mnt", "sub", "relin"));
    const v = mounted();
    const d = v.sys("open", "/data/sub", O_RDONLY | O_DIRECTORY) as number;
    const o2 = (dfd: number, p: string, flags: number, resolve: number) => ok(v.sys("openat2", dfd, p, how(flags, resolve), 24));
    expect(o2(d, "../sub/deep.txt", 0, RESOLVE_BENEATH)).toBe("EXDEV");
    expect(o2(d, "deep.txt", 0, RESOLVE_BENEATH)).toBe("ok");
    expect(o2(d, "/data/sub/deep.txt", 0, RESOLVE_BENEATH)).toBe("EXDEV");
    expect(o2(d, "upin", 0, RESOLVE_BENEATH)).toBe("EXDEV");
    expect(o2(d, "absin", 0, RESOLVE_BENEATH)).toBe("EXDEV");
    expect(o2(d, "/deep.txt", 0, RESOLVE_IN_ROOT)).toBe("ok");
    expect(o2(d, "../../../deep.txt", 0, RESOLVE_IN_ROOT)).toBe("ok");
    expect(o2(d, "absin", 0, RESOLVE_IN_ROOT)).toBe("ENOENT"); // "/inside.txt" inside sub
    expect(o2(d, "relin", 0, RESOLVE_NO_SYMLINKS)).toBe("ELOOP");
    expect(o2(d, "relin", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS)).toBe("ok");
    expect(o2(AT_FDCWD, "/proc/self/cwd", 0, RESOLVE_NO_MAGICLINKS)).toBe("ELOOP");
    expect(o2(AT_FDCWD, "/proc/self/cwd", 0, RESOLVE_NO_SYMLINKS)).toBe("ELOOP");
    expect(o2(AT_FDCWD, "/data/inside.txt", 0, RESOLVE_NO_XDEV)).toBe("EXDEV");
    expect(o2(d, "deep.txt", O_WRONLY | O_CREAT, RESOLVE_CACHED)).toBe("EAGAIN");
    expect(o2(d, "deep.txt", 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT)).toBe("EINVAL");
    expect(o2(99, "/data", 0, 0)).toBe("ok");
    expect(o2(99, "/data", 0, RESOLVE_IN_ROOT)).toBe("EBADF");
    expect(o2(d, "deep.txt", 0, 64)).toBe("EINVAL");
  });
});
