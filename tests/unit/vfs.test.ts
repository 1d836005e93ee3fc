// The VFS through its syscalls on a fake task: tmpfs file operations and the errno of each misuse
// (values as Linux 6.x gives them), directories, links, permissions, /proc and /dev.
import { vfsTask } from "./vfs-helpers";

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000,
  O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_PATH = 0o10000000, O_TMPFILE = 0o20200000;
const AT_FDCWD = -100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000, AT_SYMLINK_NOFOLLOW = 0x100;
const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

/** st_mode, st_size, st_nlink of a path through newfstatat (x86_64 struct stat). */
function statOf(v: ReturnType<typeof vfsTask>, p: string, flags = 0): { mode: number; size: number; nlink: number; ino: number; uid: number } | string {
  const b = v.buf(144);
  const r = v.sys("newfstatat", AT_FDCWD, p, b, flags);
  if (r !== 0) return String(r);
  const m = v.mem(b, 144);
  return { ino: Number(m.readBigUInt64LE(8)), nlink: Number(m.readBigUInt64LE(16)), mode: m.readUInt32LE(24), uid: m.readUInt32LE(28), size: Number(m.readBigInt64LE(48)) };
}

describe("tmpfs files", () => {
  test("create, write, seek, read, append, truncate", () => {
    const v = vfsTask();
    const fd = v.sys("open", "/tmp/f", O_RDWR | O_CREAT | O_EXCL, 0o644) as number;
    expect(fd).toBe(0); // the fake task has no standard streams
    expect(v.sys("write", fd, Buffer.from("hello world"), 11)).toBe(11);
    expect(v.sys("lseek", fd, 0, SEEK_CUR)).toBe(11);
    expect(v.sys("lseek", fd, 6, SEEK_SET)).toBe(6);
    expect(v.slurp(fd)).toBe("world");
    expect(v.sys("lseek", fd, -1, SEEK_SET)).toBe("EINVAL");
    expect(v.sys("lseek", fd, 100, SEEK_SET)).toBe(100);
    expect(v.sys("write", fd, Buffer.from("!"), 1)).toBe(1);
    expect(statOf(v, "/tmp/f")).toMatchObject({ size: 101, mode: 0o100644, nlink: 1 });
    expect(v.sys("lseek", fd, 20, SEEK_DATA)).toBe(20);
    expect(v.sys("lseek", fd, 20, SEEK_HOLE)).toBe(101);
    expect(v.sys("lseek", fd, 101, SEEK_DATA)).toBe("ENXIO");
    expect(v.sys("ftruncate", fd, 5)).toBe(0);
    expect(v.sys("lseek", fd, 0, SEEK_END)).toBe(5);
    expect(v.sys("close", fd)).toBe(0);
    const a = v.sys("open", "/tmp/f", O_WRONLY | O_APPEND) as number;
    v.sys("write", a, Buffer.from("++"), 2);
    v.sys("close", a);
    const r = v.sys("open", "/tmp/f", O_RDONLY) as number;
    expect(v.slurp(r)).toBe("hello++");
    expect(v.sys("write", r, Buffer.from("x"), 1)).toBe("EBADF");
    expect(v.sys("ftruncate", r, 0)).toBe("EINVAL");
    const tr = v.sys("open", "/tmp/f", O_WRONLY | O_TRUNC) as number;
    expect(statOf(v, "/tmp/f")).toMatchObject({ size: 0 });
    v.sys("close", tr);
  });

  test("the errno of each misuse of open", () => {
    const v = vfsTask();
    v.put("/tmp/file", "x");
    v.sys("mkdir", "/tmp/dir", 0o755);
    expect(v.sys("open", "/tmp/missing", O_RDONLY)).toBe("ENOENT");
    expect(v.sys("open", "/tmp/missing/x", O_RDONLY | O_CREAT, 0o644)).toBe("ENOENT");
    expect(v.sys("open", "/tmp/file", O_RDONLY | O_CREAT | O_EXCL, 0o644)).toBe("EEXIST");
    expect(v.sys("open", "/tmp/dir", O_WRONLY)).toBe("EISDIR");
    expect(v.sys("open", "/tmp/dir", O_RDONLY | O_CREAT, 0o644)).toBe("EISDIR");
    expect(v.sys("open", "/tmp/file", O_RDONLY | O_DIRECTORY)).toBe("ENOTDIR");
    expect(v.sys("open", "/tmp/file/", O_RDONLY)).toBe("ENOTDIR");
    expect(v.sys("open", "/tmp/file/x", O_RDONLY)).toBe("ENOTDIR");
    expect(v.sys("open", "/tmp/new/", O_RDONLY | O_CREAT, 0o644)).toBe("EISDIR");
    expect(v.sys("open", "/tmp/x", O_RDONLY | O_CREAT | O_DIRECTORY, 0o644)).toBe("EINVAL");
    expect(v.sys("open", "", O_RDONLY)).toBe("ENOENT");
    expect(v.sys("open", "/tmp/" + "a".repeat(256), O_RDONLY)).toBe("ENAMETOOLONG");
    expect(v.sys("open", "/" + "a/".repeat(2100), O_RDONLY)).toBe("ENAMETOOLONG");
    expect(v.sys("open", 0x8000, O_RDONLY)).toBe("EFAULT");
    expect(v.sys("openat", 99, "x", O_RDONLY)).toBe("EBADF");
    expect(v.sys("openat", 99, "/tmp/file", O_RDONLY)).toBe(0); // an absolute path ignores dirfd
  });

  test("directories: mkdir, rmdir, unlink and their errors", () => {
    const v = vfsTask();
    expect(v.sys("mkdir", "/tmp/d", 0o777)).toBe(0);
    expect(statOf(v, "/tmp/d")).toMatchObject({ mode: 0o40755, nlink: 2 }); // umask 022
    expect(v.sys("mkdir", "/tmp/d", 0o777)).toBe("EEXIST");
    expect(v.sys("mkdir", "/tmp/d/", 0o777)).toBe("EEXIST");
    expect(v.sys("mkdir", "/tmp/nope/d", 0o777)).toBe("ENOENT");
    expect(v.sys("mkdir", "/tmp/d/e/", 0o777)).toBe(0);
    expect(statOf(v, "/tmp/d")).toMatchObject({ nlink: 3 });
    v.put("/tmp/d/f", "");
    expect(v.sys("rmdir", "/tmp/d")).toBe("ENOTEMPTY");
    expect(v.sys("rmdir", "/tmp/d/f")).toBe("ENOTDIR");
    expect(v.sys("unlink", "/tmp/d/e")).toBe("EISDIR");
    expect(v.sys("unlink", "/tmp/d/f/")).toBe("ENOTDIR");
    expect(v.sys("rmdir", "/tmp/d/.")).toBe("EINVAL");
    expect(v.sys("rmdir", "/tmp/d/..")).toBe("ENOTEMPTY");
    expect(v.sys("unlink", "/tmp/d/.")).toBe("EISDIR");
    expect(v.sys("mkdir", "/tmp/d/.", 0o777)).toBe("EEXIST");
    expect(v.sys("rmdir", "/tmp")).toBe("EBUSY"); // a mountpoint
    expect(v.sys("unlinkat", AT_FDCWD, "/tmp/d/e", AT_REMOVEDIR)).toBe(0);
    expect(v.sys("unlink", "/tmp/d/f")).toBe(0);
    expect(v.sys("rmdir", "/tmp/d")).toBe(0);
    expect(v.sys("unlinkat", AT_FDCWD, "/tmp/x", 0x1)).toBe("EINVAL");
    expect(v.list("/tmp")).toEqual([]);
  });

  test("getdents64 lists names with types; d_off resumes the listing", () => {
    const v = vfsTask();
    v.sys("mkdir", "/tmp/l", 0o755);
    v.put("/tmp/l/file", "");
    v.sys("mkdir", "/tmp/l/sub", 0o755);
    v.sys("symlink", "file", "/tmp/l/link");
    v.sys("mknod", "/tmp/l/fifo", 0o10644, 0);
    const fd = v.sys("open", "/tmp/l", O_RDONLY | O_DIRECTORY) as number;
    const b = v.buf(4096);
    const n = v.sys("getdents64", fd, b, 4096) as number;
    const data = v.mem(b, n);
    const got: string[] = [];
    for (let off = 0; off < n;) {
      const reclen = data.readUInt16LE(off + 16);
      got.push(`${data.subarray(off + 19, off + reclen).toString().replace(/\0.*$/s, "")}:${data[off + 18]}`);
      off += reclen;
    }
    expect(got.sort()).toEqual([".:4", "..:4", "fifo:1", "file:8", "link:10", "sub:4"].sort());
    expect(v.sys("getdents64", fd, b, 4096)).toBe(0);
    expect(v.sys("lseek", fd, 0, SEEK_SET)).toBe(0);
    expect(v.sys("getdents64", fd, b, 10)).toBe("EINVAL");
    const file = v.sys("open", "/tmp/l/file", O_RDONLY) as number;
    expect(v.sys("getdents64", file, b, 4096)).toBe("ENOTDIR");
    expect(v.sys("read", fd, b, 10)).toBe("EISDIR");
  });

  test("rename: replace, directories, traps and flags", () => {
    const v = vfsTask();
    v.put("/tmp/a", "A");
    v.put("/tmp/b", "B");
    v.sys("mkdir", "/tmp/d", 0o755);
    v.sys("mkdir", "/tmp/d/sub", 0o755);
    v.sys("mkdir", "/tmp/e", 0o755);
    expect(v.sys("rename", "/tmp/a", "/tmp/b")).toBe(0);
    expect(v.slurp(v.sys("open", "/tmp/b", O_RDONLY) as number)).toBe("A");
    expect(v.sys("rename", "/tmp/b", "/tmp/d")).toBe("EISDIR");
    expect(v.sys("rename", "/tmp/d", "/tmp/b")).toBe("ENOTDIR");
    expect(v.sys("rename", "/tmp/d", "/tmp/d/sub/x")).toBe("EINVAL");
    expect(v.sys("rename", "/tmp/e", "/tmp/d")).toBe("ENOTEMPTY");
    expect(v.sys("rename", "/tmp/missing", "/tmp/x")).toBe("ENOENT");
    expect(v.sys("rename", "/tmp/b", "/tmp/nodir/x")).toBe("ENOENT");
    expect(v.sys("rename", "/tmp/b/", "/tmp/c")).toBe("ENOTDIR");
    expect(v.sys("rename", "/tmp/.", "/tmp/x")).toBe("EBUSY");
    expect(v.sys("renameat2", AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/n", 1)).toBe(0); // NOREPLACE onto nothing is fine
    v.put("/tmp/b", "B2");
    expect(v.sys("renameat2", AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/n", 1)).toBe("EEXIST");
    expect(v.sys("renameat2", AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/n", 2)).toBe(0); // EXCHANGE
    expect(v.slurp(v.sys("open", "/tmp/n", O_RDONLY) as number)).toBe("B2");
    expect(v.slurp(v.sys("open", "/tmp/b", O_RDONLY) as number)).toBe("A");
    expect(v.sys("renameat2", AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/zz", 2)).toBe("ENOENT");
    expect(v.sys("renameat2", AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/zz", 3)).toBe("EINVAL");
    expect(v.sys("rename", "/tmp/d", "/tmp/e2")).toBe(0);
    expect(v.list("/tmp/e2")).toEqual(["sub"]);
    expect(v.sys("rename", "/tmp/e2", "/dev/e2")).toBe("EXDEV");
  });

  test("hard links and symlinks", () => {
    const v = vfsTask();
    v.put("/tmp/f", "data");
    expect(v.sys("link", "/tmp/f", "/tmp/g")).toBe(0);
    expect(statOf(v, "/tmp/f")).toMatchObject({ nlink: 2 });
    expect(v.sys("link", "/tmp/f", "/tmp/g")).toBe("EEXIST");
    expect(v.sys("link", "/tmp", "/tmp/h")).toBe("EPERM");
    v.sys("mkdir", "/tmp/d", 0o755);
    expect(v.sys("link", "/tmp/d", "/tmp/h")).toBe("EPERM");
    expect(v.sys("link", "/tmp/f", "/dev/f")).toBe("EXDEV");
    expect(v.sys("unlink", "/tmp/f")).toBe(0);
    expect(statOf(v, "/tmp/g")).toMatchObject({ nlink: 1, size: 4 });
    expect(v.sys("symlink", "g", "/tmp/s")).toBe(0);
    expect(v.link("/tmp/s")).toBe("g");
    expect(statOf(v, "/tmp/s", AT_SYMLINK_NOFOLLOW)).toMatchObject({ mode: 0o120777, size: 1 });
    expect(statOf(v, "/tmp/s")).toMatchObject({ mode: 0o100644, size: 4 });
    expect(v.link("/tmp/g")).toBe("EINVAL");
    expect(v.sys("symlink", "", "/tmp/e")).toBe("ENOENT");
    expect(v.sys("symlink", "x", "/tmp/s")).toBe("EEXIST");
    expect(v.sys("open", "/tmp/s", O_RDONLY | O_NOFOLLOW)).toBe("ELOOP");
    const p = v.sys("open", "/tmp/s", O_PATH | O_NOFOLLOW) as number;
    expect(typeof p).toBe("number");
    expect(v.sys("readlinkat", p, "", v.buf(16), 16)).toBe(1);
    expect(v.sys("read", p, v.buf(4), 4)).toBe("EBADF");
    v.sys("symlink", "loop2", "/tmp/loop1");
    v.sys("symlink", "loop1", "/tmp/loop2");
    expect(v.sys("open", "/tmp/loop1", O_RDONLY)).toBe("ELOOP");
    // O_CREAT through a dangling symlink creates its target.
    v.sys("symlink", "target", "/tmp/dangling");
    const c = v.sys("open", "/tmp/dangling", O_WRONLY | O_CREAT, 0o600) as number;
    expect(typeof c).toBe("number");
    expect(statOf(v, "/tmp/target")).toMatchObject({ mode: 0o100600 });
    expect(v.sys("open", "/tmp/dangling", O_WRONLY | O_CREAT | O_EXCL, 0o600)).toBe("EEXIST");
  });

  test("O_TMPFILE files are unnamed until linkat(AT_EMPTY_PATH) names them", () => {
    const v = vfsTask();
    const fd = v.sys("open", "/tmp", O_RDWR | O_TMPFILE, 0o600) as number;
    expect(typeof fd).toBe("number");
    v.sys("write", fd, Buffer.from("tmp"), 3);
    expect(v.list("/tmp")).toEqual([]);
    expect(v.sys("linkat", fd, "", AT_FDCWD, "/tmp/named", AT_EMPTY_PATH)).toBe(0);
    expect(v.list("/tmp")).toEqual(["named"]);
    expect(v.slurp(v.sys("open", "/tmp/named", O_RDONLY) as number)).toBe("tmp");
    expect(v.sys("open", "/tmp", O_RDONLY | O_TMPFILE, 0o600)).toBe("EINVAL");
  });

  test("cwd: chdir, getcwd, relative paths, a removed cwd", () => {
    const v = vfsTask();
    expect(v.cwd()).toBe("/");
    v.sys("mkdir", "/tmp/w", 0o755);
    expect(v.sys("chdir", "/tmp/w")).toBe(0);
    expect(v.cwd()).toBe("/tmp/w");
    v.put("rel", "r");
    expect(v.list(".")).toEqual(["rel"]);
    expect(v.sys("chdir", "../..")).toBe(0);
    expect(v.cwd()).toBe("/");
    expect(v.sys("chdir", "/tmp/w/rel")).toBe("ENOTDIR");
    expect(v.sys("chdir", "/nope")).toBe("ENOENT");
    const d = v.sys("open", "/tmp/w", O_RDONLY | O_DIRECTORY) as number;
    expect(v.sys("fchdir", d)).toBe(0);
    expect(v.cwd()).toBe("/tmp/w");
    v.sys("unlink", "rel");
    expect(v.sys("rmdir", "/tmp/w")).toBe(0);
    expect(v.cwd()).toBe("ENOENT");
    expect(v.sys("open", "x", O_WRONLY | O_CREAT, 0o644)).toBe("ENOENT");
    expect(v.sys("getcwd", v.buf(1), 1)).toBe("ENOENT");
    v.sys("chdir", "/tmp");
    expect(v.sys("getcwd", v.buf(4), 4)).toBe("ERANGE");
    expect(v.sys("getcwd", v.buf(5), 5)).toBe(5);
  });

  test("openat and the *at calls with a directory descriptor", () => {
    const v = vfsTask();
    v.sys("mkdir", "/tmp/base", 0o755);
    const d = v.sys("open", "/tmp/base", O_RDONLY | O_DIRECTORY) as number;
    const f = v.sys("openat", d, "inner", O_WRONLY | O_CREAT, 0o644) as number;
    expect(typeof f).toBe("number");
    expect(v.list("/tmp/base")).toEqual(["inner"]);
    expect(v.sys("mkdirat", d, "sub", 0o755)).toBe(0);
    expect(v.sys("openat", f, "x", O_RDONLY)).toBe("ENOTDIR");
    expect(v.sys("newfstatat", d, "", v.buf(144), AT_EMPTY_PATH)).toBe(0);
    expect(v.sys("newfstatat", d, "", v.buf(144), 0)).toBe("ENOENT");
    expect(v.sys("newfstatat", d, "x", v.buf(144), 0x8000)).toBe("EINVAL");
    expect(v.sys("unlinkat", d, "inner", 0)).toBe(0);
    expect(v.sys("fchdir", f)).toBe("ENOTDIR");
  });

  test("umask, chmod, chown, utimensat, truncate, access", () => {
    const v = vfsTask();
    expect(v.sys("umask", 0o077)).toBe(0o022);
    v.put("/tmp/f", "12345");
    expect(statOf(v, "/tmp/f")).toMatchObject({ mode: 0o100600 });
    expect(v.sys("chmod", "/tmp/f", 0o4755)).toBe(0);
    expect(statOf(v, "/tmp/f")).toMatchObject({ mode: 0o104755 });
    expect(v.sys("chown", "/tmp/f", 1000, 1000)).toBe(0);
    expect(statOf(v, "/tmp/f")).toMatchObject({ mode: 0o100755, uid: 1000 }); // chown drops set-uid
    expect(v.sys("truncate", "/tmp/f", 2)).toBe(0);
    expect(statOf(v, "/tmp/f")).toMatchObject({ size: 2 });
    expect(v.sys("truncate", "/tmp", 2)).toBe("EISDIR");
    expect(v.sys("truncate", "/tmp/f", -1)).toBe("EINVAL");
    const ts = Buffer.alloc(32);
    ts.writeBigInt64LE(1000000000n, 0);
    ts.writeBigInt64LE(0n, 8);
    ts.writeBigInt64LE(1234567890n, 16);
    ts.writeBigInt64LE(500000000n, 24);
    expect(v.sys("utimensat", AT_FDCWD, "/tmp/f", ts, 0)).toBe(0);
    const b = v.buf(144);
    v.sys("newfstatat", AT_FDCWD, "/tmp/f", b, 0);
    expect(v.mem(b, 144).readBigInt64LE(88)).toBe(1234567890n); // st_mtime
    ts.writeBigInt64LE(2000000000n, 8);
    expect(v.sys("utimensat", AT_FDCWD, "/tmp/f", ts, 0)).toBe("EINVAL");
    expect(v.sys("access", "/tmp/f", 7)).toBe(0);
    expect(v.sys("access", "/tmp/f", 8)).toBe("EINVAL");
    expect(v.sys("access", "/tmp/nope", 0)).toBe("ENOENT");
    expect(v.sys("faccessat2", AT_FDCWD, "/tmp/f", 0, 0x10)).toBe("EINVAL");
  });

  test("permissions for an unprivileged guest: EACCES, sticky /tmp, EPERM on chown", () => {
    const root = vfsTask();
    const v = vfsTask({}, 1000);
    // The same tree seen by uid 1000: share the namespace of a root task.
    v.t.proc.vfs = root.t.proc.vfs;
    root.sys("mkdir", "/tmp/private", 0o700);
    root.put("/tmp/private/secret", "s");
    root.put("/tmp/rootfile", "r");
    expect(v.sys("open", "/tmp/private/secret", O_RDONLY)).toBe("EACCES");
    expect(v.sys("open", "/tmp/rootfile", O_WRONLY)).toBe("EACCES");
    expect(v.slurp(v.sys("open", "/tmp/rootfile", O_RDONLY) as number)).toBe("r");
    expect(v.sys("unlink", "/tmp/rootfile")).toBe("EPERM"); // sticky /tmp
    expect(v.sys("chmod", "/tmp/rootfile", 0o777)).toBe("EPERM");
    expect(v.sys("chown", "/tmp/rootfile", 1000, 1000)).toBe("EPERM");
    expect(v.sys("mkdir", "/etc/x", 0o755)).toBe("EACCES");
    expect(v.sys("access", "/tmp/rootfile", 2)).toBe("EACCES");
    expect(v.sys("access", "/tmp/rootfile", 4)).toBe(0);
    v.put("/tmp/mine", "m");
    expect(v.sys("chmod", "/tmp/mine", 0o600)).toBe(0);
    expect(v.sys("link", "/tmp/rootfile", "/tmp/hard")).toBe("EPERM"); // protected_hardlinks
    expect(v.sys("mknod", "/tmp/dev", 0o20644, 0x103)).toBe("EPERM");
    expect(v.sys("chroot", "/tmp")).toBe("EPERM");
  });

  test("fifos: O_RDWR opens without waiting, data flows, O_NONBLOCK writer without reader is ENXIO", () => {
    const v = vfsTask();
    expect(v.sys("mknod", "/tmp/p", 0o10644, 0)).toBe(0);
    expect(v.sys("open", "/tmp/p", O_WRONLY | 0o4000)).toBe("ENXIO");
    const fd = v.sys("open", "/tmp/p", O_RDWR) as number;
    expect(v.sys("write", fd, Buffer.from("via fifo"), 8)).toBe(8);
    const b = v.buf(16);
    expect(v.sys("read", fd, b, 16)).toBe(8);
    expect(v.mem(b, 8).toString()).toBe("via fifo");
    expect(v.sys("lseek", fd, 0, SEEK_SET)).toBe("ESPIPE");
  });

  test("pipe2: the two ends, EPIPE without a reader", () => {
    const v = vfsTask();
    const fds = v.buf(8);
    expect(v.sys("pipe2", fds, 0o4000)).toBe(0);
    const [r, w] = [v.t.mm.u32(fds), v.t.mm.u32(fds + 4)];
    expect(v.sys("write", w, Buffer.from("abc"), 3)).toBe(3);
    expect(v.sys("read", r, v.buf(8), 8)).toBe(3);
    expect(v.sys("read", r, v.buf(8), 8)).toBe("EAGAIN");
    expect(v.link(`/proc/self/fd/${r}`)).toMatch(/^pipe:\[\d+\]$/);
    v.sys("close", r);
    expect(v.sys("write", w, Buffer.from("abc"), 3)).toBe("EPIPE");
    expect(v.sys("pipe2", fds, 0o1)).toBe("EINVAL");
  });
});

describe("/proc and /dev", () => {
  test("/proc/self links and files", () => {
    const v = vfsTask();
    v.sys("mkdir", "/tmp/here", 0o755);
    v.sys("chdir", "/tmp/here");
    expect(v.link("/proc/self")).toBe("1000");
    expect(v.link("/proc/self/cwd")).toBe("/tmp/here");
    expect(v.link("/proc/self/root")).toBe("/");
    expect(v.link("/proc/self/exe")).toBe("/fake");
    const fd = v.sys("open", "/tmp/here/file", O_WRONLY | O_CREAT, 0o644) as number;
    expect(v.link(`/proc/self/fd/${fd}`)).toBe("/tmp/here/file");
    v.sys("write", fd, Buffer.from("kept"), 4);
    v.sys("unlink", "/tmp/here/file");
    expect(v.link(`/proc/self/fd/${fd}`)).toBe("/tmp/here/file (deleted)");
    // The data of an unlinked file stays with its descriptors; reopening through /proc/self/fd finds it.
    expect(v.slurp(v.sys("open", `/proc/self/fd/${fd}`, O_RDONLY) as number)).toBe("kept");
    expect(v.list("/proc/self/fd")).toContain(String(fd));
    const info = v.slurp(v.sys("open", `/proc/self/fdinfo/${fd}`, O_RDONLY) as number);
    expect(info).toMatch(/^pos:\t4\nflags:\t0100001\nmnt_id:\t\d+\nino:\t\d+\n$/);
    const status = v.slurp(v.sys("open", "/proc/self/status", O_RDONLY) as number);
    expect(status).toContain("Pid:\t1000\n");
    expect(status).toContain("Umask:\t0022\n");
    const mounts = v.slurp(v.sys("open", "/proc/mounts", O_RDONLY) as number);
    expect(mounts.split("\n")[0]).toBe("rootfs / tmpfs rw,relatime,mode=755 0 0");
    expect(mounts).toContain("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0");
    const ro = v.sys("open", "/proc/cpuinfo", O_WRONLY) as number; // root may open it; the write fails
    expect(v.sys("write", ro, Buffer.from("x"), 1)).toBe("EIO");
    expect(v.sys("mkdir", "/proc/x", 0o755)).toBe("ENOENT");
    expect(v.sys("unlink", "/proc/self/status")).toBe("EPERM");
    // /proc/self/cwd is a magic link: it jumps to the directory, whatever its name says.
    expect(v.list("/proc/self/cwd")).toEqual([]);
    expect(v.sys("chdir", "/proc/self/root")).toBe(0);
    expect(v.cwd()).toBe("/");
  });

  test("/proc/sys is the sysctl registry, writable where a setter exists, EROFS elsewhere", async () => {
    const { registerSysctl } = await import("../../kernel/vfs/sysctl");
    let value = 7;
    registerSysctl("test/syscage/knob", () => String(value), (_t, v) => { value = Number(v); return 0; });
    const v = vfsTask();
    expect(v.slurp(v.sys("open", "/proc/sys/test/syscage/knob", O_RDONLY) as number)).toBe("7\n");
    const w = v.sys("open", "/proc/sys/test/syscage/knob", O_WRONLY) as number;
    expect(v.sys("write", w, Buffer.from("42\n"), 3)).toBe(3);
    expect(value).toBe(42);
    expect(v.slurp(v.sys("open", "/proc/sys/kernel/ostype", O_RDONLY) as number)).toBe("Linux\n");
    // Without a setter the file is read-only as behind a container's read-only bind: EROFS, even for root.
    expect(v.sys("open", "/proc/sys/kernel/ostype", O_WRONLY)).toBe("EROFS");
    expect(v.list("/proc/sys/test")).toEqual(["syscage"]);
  });

  test("/dev/null, zero, full, urandom, stdio links", () => {
    const v = vfsTask();
    const b = v.buf(8);
    const nul = v.sys("open", "/dev/null", O_RDWR) as number;
    expect(v.sys("read", nul, b, 8)).toBe(0);
    expect(v.sys("write", nul, b, 8)).toBe(8);
    const zero = v.sys("open", "/dev/zero", O_RDONLY) as number;
    v.t.mm.write(b, Buffer.from("xxxxxxxx"));
    expect(v.sys("read", zero, b, 8)).toBe(8);
    expect([...v.mem(b, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const full = v.sys("open", "/dev/full", O_WRONLY) as number;
    expect(v.sys("write", full, b, 1)).toBe("ENOSPC");
    const ur = v.sys("open", "/dev/urandom", O_RDONLY) as number;
    expect(v.sys("read", ur, b, 8)).toBe(8);
    expect(statOf(v, "/dev/null")).toMatchObject({ mode: 0o20666 });
    expect(v.link("/dev/stdout")).toBe("/proc/self/fd/1");
    expect(v.sys("open", "/dev/tty", O_RDWR)).toBe("ENXIO");
    expect(v.sys("mkdir", "/dev/shm/x", 0o755)).toBe(0);
  });
});
