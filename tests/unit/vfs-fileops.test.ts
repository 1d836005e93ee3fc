// Descriptor-level file operations on tmpfs through their syscalls: record and OFD locks, flock,
// sendfile, copy_file_range, fallocate, memfd_create and seals, close_range, preadv/pwritev,
// fcntl flags. Values as Linux 6.x gives them.
import { vfsTask } from "./vfs-helpers";

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_APPEND = 0o2000, O_NONBLOCK = 0o4000, O_PATH = 0o10000000;
const F_GETFD = 1, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_OFD_GETLK = 36, F_OFD_SETLK = 37;
const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
const F_ADD_SEALS = 1033, F_GET_SEALS = 1034, F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

/** struct flock (x86_64): short type, short whence, off_t start @8, off_t len @16, pid_t pid @24. */
function flock(type: number, start: number, len: number, whence = 0): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt16LE(type, 0);
  b.writeUInt16LE(whence, 2);
  b.writeBigInt64LE(BigInt(start), 8);
  b.writeBigInt64LE(BigInt(len), 16);
  return b;
}

function open(v: ReturnType<typeof vfsTask>, p: string, flags: number): number {
  const fd = v.sys("open", p, flags, 0o644);
  if (typeof fd !== "number") throw new Error(`open ${p}: ${fd}`);
  return fd;
}

test("record locks: own locks never conflict; OFD locks conflict with the process's POSIX locks; close drops POSIX locks", () => {
  const v = vfsTask();
  const a = open(v, "/tmp/l", O_RDWR | O_CREAT), b = open(v, "/tmp/l", O_RDWR);
  expect(v.sys("fcntl", a, F_SETLK, flock(F_WRLCK, 0, 10))).toBe(0);
  const q = v.scratch.bytes(flock(F_WRLCK, 0, 100));
  expect(v.sys("fcntl", b, F_GETLK, q)).toBe(0);
  expect(v.t.mm.u16(q)).toBe(F_UNLCK); // the same process
  expect(v.sys("fcntl", b, F_OFD_SETLK, flock(F_WRLCK, 5, 1))).toBe("EAGAIN");
  const o = v.scratch.bytes(flock(F_RDLCK, 0, 0));
  expect(v.sys("fcntl", b, F_OFD_GETLK, o)).toBe(0);
  expect([v.t.mm.u16(o), Number(v.t.mm.u64(o + 8)), Number(v.t.mm.u64(o + 16)), v.t.mm.i32(o + 24)]).toEqual([F_WRLCK, 0, 10, 1000]);
  expect(v.sys("fcntl", b, F_OFD_SETLK, flock(F_WRLCK, 20, 5))).toBe(0);
  expect(v.sys("fcntl", a, F_SETLK, flock(F_RDLCK, 22, 1))).toBe("EAGAIN");
  expect(v.sys("fcntl", a, F_SETLK, flock(F_UNLCK, 0, 0))).toBe(0);
  expect(v.sys("fcntl", b, F_OFD_SETLK, flock(F_WRLCK, 5, 1))).toBe(0);
  expect(v.sys("fcntl", a, F_SETLK, flock(9, 0, 1))).toBe("EINVAL");
  expect(v.sys("fcntl", a, F_OFD_SETLK, flock(F_WRLCK, 0, 1, 0).fill(1, 24, 28))).toBe("EINVAL"); // l_pid must be 0
  const r = open(v, "/tmp/l", O_RDONLY);
  expect(v.sys("fcntl", r, F_SETLK, flock(F_WRLCK, 100, 1))).toBe("EBADF");
  expect(v.sys("fcntl", a, F_SETLK, flock(F_WRLCK, -5, 1))).toBe("EINVAL");
  expect(v.sys("fcntl", a, F_SETLK, flock(F_WRLCK, 50, 10))).toBe(0);
  v.sys("close", r); // any close of the file drops the process's POSIX locks
  expect(v.sys("fcntl", b, F_OFD_SETLK, flock(F_WRLCK, 50, 10))).toBe(0);
});

test("flock: shared and exclusive between descriptions, LOCK_NB, unlock, EINVAL", () => {
  const v = vfsTask();
  const a = open(v, "/tmp/f", O_RDWR | O_CREAT), b = open(v, "/tmp/f", O_RDONLY);
  expect(v.sys("flock", a, LOCK_SH)).toBe(0);
  expect(v.sys("flock", b, LOCK_SH | LOCK_NB)).toBe(0);
  expect(v.sys("flock", b, LOCK_EX | LOCK_NB)).toBe("EAGAIN");
  expect(v.sys("flock", a, LOCK_UN)).toBe(0);
  expect(v.sys("flock", b, LOCK_EX | LOCK_NB)).toBe(0);
  const d = v.sys("dup", b) as number;
  expect(v.sys("flock", d, LOCK_EX | LOCK_NB)).toBe(0); // the same description
  expect(v.sys("flock", a, LOCK_SH | LOCK_NB)).toBe("EAGAIN");
  v.sys("close", b);
  v.sys("close", d); // the last descriptor: the lock goes
  expect(v.sys("flock", a, LOCK_EX | LOCK_NB)).toBe(0);
  expect(v.sys("flock", a, 3)).toBe("EINVAL");
  expect(v.sys("flock", 99, LOCK_SH)).toBe("EBADF");
});

test("sendfile and copy_file_range", () => {
  const v = vfsTask();
  v.put("/tmp/src", "0123456789");
  const s = open(v, "/tmp/src", O_RDONLY), d = open(v, "/tmp/dst", O_RDWR | O_CREAT);
  expect(v.sys("sendfile", d, s, 0, 4)).toBe(4);
  expect(v.sys("lseek", s, 0, 1)).toBe(4);
  const off = v.scratch.bytes(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]));
  expect(v.sys("sendfile", d, s, off, 100)).toBe(2);
  expect(v.t.mm.u64n(off)).toBe(10);
  expect(v.sys("lseek", s, 0, 1)).toBe(4); // an explicit offset leaves the position
  expect(v.sys("lseek", d, 0, 0)).toBe(0);
  expect(v.slurp(d)).toBe("012389");
  const ap = open(v, "/tmp/dst", O_WRONLY | O_APPEND);
  expect(v.sys("sendfile", ap, s, 0, 1)).toBe("EINVAL");
  expect(v.sys("sendfile", s, d, 0, 1)).toBe("EBADF");
  const c = open(v, "/tmp/copy", O_RDWR | O_CREAT);
  expect(v.sys("copy_file_range", s, 0, c, 0, 100, 0)).toBe(6);
  expect(v.sys("copy_file_range", s, 0, c, 0, 100, 1)).toBe("EINVAL");
  const dir = open(v, "/tmp", O_RDONLY);
  expect(v.sys("copy_file_range", dir, 0, c, 0, 1, 0)).toBe("EISDIR");
  expect(v.sys("lseek", c, 0, 0)).toBe(0);
  expect(v.slurp(c)).toBe("456789");
});

test("fallocate: extends, KEEP_SIZE, punch, errors", () => {
  const v = vfsTask();
  const f = open(v, "/tmp/f", O_RDWR | O_CREAT);
  expect(v.sys("fallocate", f, 0, 0, 8192)).toBe(0);
  expect(v.sys("lseek", f, 0, 2)).toBe(8192);
  expect(v.sys("fallocate", f, 1, 0, 100000)).toBe(0);
  expect(v.sys("lseek", f, 0, 2)).toBe(8192);
  v.sys("pwrite64", f, Buffer.from("abcdef"), 6, 0);
  expect(v.sys("fallocate", f, 3, 1, 2)).toBe(0);
  const b = v.buf(6);
  v.sys("pread64", f, b, 6, 0);
  expect([...v.mem(b, 6)]).toEqual([0x61, 0, 0, 0x64, 0x65, 0x66]);
  expect(v.sys("fallocate", f, 2, 0, 1)).toBe("EINVAL");
  expect(v.sys("fallocate", f, 0, -1, 1)).toBe("EINVAL");
  expect(v.sys("fallocate", f, 0x40, 0, 1)).toBe("EOPNOTSUPP");
  const r = open(v, "/tmp/f", O_RDONLY);
  expect(v.sys("fallocate", r, 0, 0, 1)).toBe("EBADF");
});

test("memfd_create: an unnamed file, its /proc link, seals", () => {
  const v = vfsTask();
  const m = v.sys("memfd_create", "buf", 2 /* MFD_ALLOW_SEALING */) as number;
  expect(v.link(`/proc/self/fd/${m}`)).toBe("/memfd:buf (deleted)");
  expect(v.sys("write", m, Buffer.from("abc"), 3)).toBe(3);
  expect(v.sys("fcntl", m, F_GET_SEALS)).toBe(0);
  expect(v.sys("fcntl", m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)).toBe(0);
  expect(v.sys("ftruncate", m, 1)).toBe("EPERM");
  expect(v.sys("write", m, Buffer.from("d"), 1)).toBe("EPERM");
  expect(v.sys("pwrite64", m, Buffer.from("X"), 1, 0)).toBe(1);
  expect(v.sys("fcntl", m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL)).toBe(0);
  expect(v.sys("pwrite64", m, Buffer.from("Y"), 1, 0)).toBe("EPERM");
  expect(v.sys("fcntl", m, F_ADD_SEALS, F_SEAL_GROW)).toBe("EPERM");
  const n = v.sys("memfd_create", "plain", 0) as number;
  expect(v.sys("fcntl", n, F_GET_SEALS)).toBe(F_SEAL_SEAL);
  expect(v.sys("memfd_create", "x".repeat(250), 0)).toBe("EINVAL");
  expect(v.sys("memfd_create", "x", 0x100)).toBe("EINVAL");
  const f = open(v, "/tmp/plain", O_RDWR | O_CREAT);
  expect(v.sys("fcntl", f, F_GET_SEALS)).toBe("EINVAL");
});

test("close_range, F_SETFL, O_PATH descriptors, preadv/pwritev", () => {
  const v = vfsTask();
  const fds = [0, 1, 2, 3].map(() => open(v, "/tmp/x", O_RDWR | O_CREAT));
  expect(v.sys("close_range", 1, 2, 4 /* CLOSE_RANGE_CLOEXEC */)).toBe(0);
  expect(v.sys("fcntl", fds[1], F_GETFD)).toBe(1);
  expect(v.sys("close_range", 1, 2, 0)).toBe(0);
  expect(v.sys("fcntl", fds[1], F_GETFD)).toBe("EBADF");
  expect(v.sys("fcntl", fds[3], F_GETFD)).toBe(0);
  expect(v.sys("close_range", 5, 1, 0)).toBe("EINVAL");
  expect(v.sys("fcntl", fds[0], F_GETFL)).toBe(O_RDWR | 0o100000); // O_LARGEFILE on a 64-bit kernel
  expect(v.sys("fcntl", fds[0], F_SETFL, O_APPEND | O_NONBLOCK | O_WRONLY)).toBe(0);
  expect(v.sys("fcntl", fds[0], F_GETFL)).toBe(O_RDWR | O_APPEND | O_NONBLOCK | 0o100000);
  const p = open(v, "/tmp/x", O_PATH);
  expect(v.sys("fcntl", p, F_GETFL)).toBe(O_PATH); // O_PATH keeps no O_LARGEFILE
  expect(v.sys("fcntl", p, F_SETLK, flock(F_RDLCK, 0, 1))).toBe("EBADF");
  expect(v.sys("ioctl", p, 0x541b, v.buf(4))).toBe("EBADF");
  expect(v.sys("fstat", p, v.buf(144))).toBe(0);
  expect(v.sys("fchmod", p, 0o600)).toBe("EBADF");
  const iov = (parts: Array<[number, number]>) => {
    const b = Buffer.alloc(16 * parts.length);
    parts.forEach(([base, len], i) => { b.writeBigUInt64LE(BigInt(base), 16 * i); b.writeBigUInt64LE(BigInt(len), 16 * i + 8); });
    return b;
  };
  const a = v.scratch.bytes(Buffer.from("hello ")), b = v.scratch.bytes(Buffer.from("world"));
  expect(v.sys("pwritev", fds[3], iov([[a, 6], [b, 5]]), 2, 10, 0)).toBe(11);
  expect(v.sys("lseek", fds[3], 0, 1)).toBe(0);
  const r1 = v.buf(3), r2 = v.buf(8);
  expect(v.sys("preadv", fds[3], iov([[r1, 3], [r2, 8]]), 2, 10, 0)).toBe(11);
  expect(v.mem(r1, 3).toString() + v.mem(r2, 8).toString()).toBe("hello world");
  expect(v.sys("preadv", fds[3], iov([[r1, 3]]), 1, -2, 0)).toBe("EINVAL");
  expect(v.sys("preadv2", fds[3], iov([[r1, 3]]), 1, -1, 0, 0)).toBe(3); // -1: at the file position
  expect(v.sys("preadv2", fds[3], iov([[r1, 3]]), 1, 0, 0, 0x100)).toBe("EOPNOTSUPP");
});
