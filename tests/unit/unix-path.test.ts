// Named FIFOs on the pipe ring, AF_UNIX pathname sockets through the VFS, and the read-only
// /proc/sys of a container, on a fake task with a filesystem. Expected values follow Linux 6.x
// (fs/pipe.c fifo_open, net/unix/af_unix.c unix_bind_bsd / unix_find_bsd) and the recorded
// fixture fixtures/unix_path.c.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Block, POLLHUP, POLLIN, POLLOUT, type SysRet } from "../../kernel/file";
import { handlers } from "../../kernel/syscalls";
import { vfsTask, type VfsTask } from "./vfs-helpers";

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0o4000;
const S_IFMT = 0o170000, S_IFSOCK = 0o140000, S_IFIFO = 0o10000;
const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2;
const EPOLL_CTL_ADD = 1, EPOLLIN = 1;

/** A pathname sockaddr_un and its length (offsetof(sun_path) + strlen + 1). */
function sun(p: string): [Uint8Array, number] {
  const b = new Uint8Array(110);
  b[0] = AF_UNIX;
  b.set(Buffer.from(p, "latin1"), 2);
  return [b, 2 + p.length + 1];
}

function socket(v: VfsTask, type = SOCK_STREAM): number {
  const fd = v.sys("socket", AF_UNIX, type, 0);
  if (typeof fd !== "number") throw new Error(`socket: ${fd}`);
  return fd;
}

function bind(v: VfsTask, fd: number, p: string): string | number {
  const [a, len] = sun(p);
  return v.sys("bind", fd, a, len);
}

function connect(v: VfsTask, fd: number, p: string): string | number {
  const [a, len] = sun(p);
  return v.sys("connect", fd, a, len);
}

/** getsockname/getpeername as the sun_path text, or the errno name. */
function name(v: VfsTask, fd: number, peer = false): string {
  const at = v.buf(112), len = v.buf(4);
  v.t.mm.setU32(len, 110);
  const r = v.sys(peer ? "getpeername" : "getsockname", fd, at, len);
  if (typeof r === "string") return r;
  const n = v.t.mm.u32(len);
  const bytes = v.mem(at + 2, n - 2);
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString("latin1");
}

/** st_mode of a path (x86_64 struct stat: st_mode at 24), or the errno name. */
function mode(v: VfsTask, p: string): number | string {
  const st = v.buf(144);
  const r = v.sys("stat", p, st);
  return typeof r === "string" ? r : v.t.mm.u32(st + 24);
}

function revents(v: VfsTask, fd: number): number {
  const at = v.buf(8);
  v.t.mm.setU32(at, fd);
  v.t.mm.setU32(at + 4, POLLIN | POLLOUT);
  v.sys("poll", at, 1, 0);
  return v.t.mm.u32(at + 4) >>> 16;
}

/** open(2) that may block: the fd, the errno name, or the Block. */
function open(v: VfsTask, p: string, flags: number): SysRet | string {
  const r = v.call(handlers.open, BigInt(v.scratch.bytes(Buffer.from(p + "\0", "latin1"))), flags);
  return r instanceof Block ? r : typeof r === "object" ? (r as { name: string }).name : r;
}

describe("named FIFOs share the pipe ring", () => {
  const FIFO = "/tmp/f";
  function fifo(): VfsTask {
    const v = vfsTask();
    expect(v.sys("mknod", FIFO, S_IFIFO | 0o600, 0)).toBe(0);
    return v;
  }

  test("non-blocking opens: ENXIO for a writer alone, a reader at once, O_RDWR always", () => {
    const v = fifo();
    expect(v.sys("open", FIFO, O_WRONLY | O_NONBLOCK)).toBe("ENXIO");
    const r = v.sys("open", FIFO, O_RDONLY | O_NONBLOCK) as number;
    expect(revents(v, r)).toBe(0); // no POLLHUP before any writer came
    expect(v.sys("read", r, v.buf(8), 8)).toBe(0);
    const w = v.sys("open", FIFO, O_WRONLY | O_NONBLOCK) as number;
    expect(revents(v, w)).toBe(POLLOUT);
    expect(v.sys("read", r, v.buf(8), 8)).toBe("EAGAIN");
    expect(v.sys("write", w, Buffer.from("hi"), 2)).toBe(2);
    expect(revents(v, r)).toBe(POLLIN);
    expect(v.sys("close", w)).toBe(0);
    expect(revents(v, r)).toBe(POLLIN | POLLHUP);
    expect(v.slurp(r)).toBe("hi");
    expect(revents(v, r)).toBe(POLLHUP);
    const rw = v.sys("open", FIFO, O_RDWR) as number;
    expect(revents(v, rw)).toBe(POLLOUT);
  });

  test("a blocking reader waits for a writer, counts while it waits, and a signal undoes it", () => {
    const v = fifo();
    const blocked = open(v, FIFO, O_RDONLY);
    expect(blocked).toBeInstanceOf(Block);
    const b = blocked as Block;
    // The waiting reader is a reader: a non-blocking writer may open.
    const w = v.sys("open", FIFO, O_WRONLY | O_NONBLOCK) as number;
    expect(typeof w).toBe("number");
    // A writer that came and went still ends the wait (wait_for_partner watches w_counter).
    expect(v.sys("close", w)).toBe(0);
    const fd = b.retry();
    expect(typeof fd).toBe("number");
    expect(v.sys("close", fd as number)).toBe(0);
    // Interrupted: the half-open reader is released, so a lone non-blocking writer is ENXIO again.
    const again = open(v, FIFO, O_RDONLY) as Block;
    expect(again).toBeInstanceOf(Block);
    again.cancel?.();
    expect(v.sys("open", FIFO, O_WRONLY | O_NONBLOCK)).toBe("ENXIO");
  });

  test("a blocking writer waits for a reader", () => {
    const v = fifo();
    const blocked = open(v, FIFO, O_WRONLY) as Block;
    expect(blocked).toBeInstanceOf(Block);
    expect(blocked.retry()).toBeInstanceOf(Block); // nobody came yet
    const r = v.sys("open", FIFO, O_RDONLY | O_NONBLOCK) as number;
    const w = blocked.retry();
    expect(typeof w).toBe("number");
    expect(v.sys("write", w as number, Buffer.from("x"), 1)).toBe(1);
    expect(v.sys("read", r, v.buf(8), 8)).toBe(1);
  });

  test("epoll accepts a FIFO and sees its data", () => {
    const v = fifo();
    const r = v.sys("open", FIFO, O_RDONLY | O_NONBLOCK) as number;
    const w = v.sys("open", FIFO, O_WRONLY | O_NONBLOCK) as number;
    const ep = v.sys("epoll_create1", 0) as number;
    const ev = v.buf(16);
    v.t.mm.setU32(ev, EPOLLIN);
    expect(v.sys("epoll_ctl", ep, EPOLL_CTL_ADD, r, ev)).toBe(0);
    const out = v.buf(16);
    expect(v.sys("epoll_wait", ep, out, 1, 0)).toBe(0);
    v.sys("write", w, Buffer.from("ok"), 2);
    expect(v.sys("epoll_wait", ep, out, 1, 0)).toBe(1);
    expect(v.t.mm.u32(out)).toBe(EPOLLIN);
  });
});

describe("AF_UNIX pathname sockets", () => {
  test("bind makes a socket inode (umask applied); a second bind is EADDRINUSE", () => {
    const v = vfsTask();
    v.sys("umask", 0o027);
    const s = socket(v);
    expect(bind(v, s, "/tmp/s")).toBe(0);
    expect(mode(v, "/tmp/s")).toBe(S_IFSOCK | 0o750);
    expect(name(v, s)).toBe("/tmp/s");
    expect(bind(v, socket(v), "/tmp/s")).toBe("EADDRINUSE");
    expect(bind(v, socket(v, SOCK_DGRAM), "/tmp/s")).toBe("EADDRINUSE");
    v.put("/tmp/file", "x");
    expect(bind(v, socket(v), "/tmp/file")).toBe("EADDRINUSE");
    expect(bind(v, socket(v), "/tmp/missing/s")).toBe("ENOENT");
    // Already bound: the file is made, removed again, and the answer is EINVAL.
    expect(bind(v, s, "/tmp/s2")).toBe("EINVAL");
    expect(mode(v, "/tmp/s2")).toBe("ENOENT");
    expect(v.sys("open", "/tmp/s", O_RDONLY)).toBe("ENXIO");
  });

  test("connect: ENOENT, ECONNREFUSED, EPROTOTYPE, then a connection whose peer has the path", () => {
    const v = vfsTask();
    const s = socket(v);
    expect(connect(v, socket(v), "/tmp/s")).toBe("ENOENT");
    expect(bind(v, s, "/tmp/s")).toBe(0);
    expect(connect(v, socket(v), "/tmp/s")).toBe("ECONNREFUSED"); // not listening
    v.put("/tmp/file", "x");
    expect(connect(v, socket(v), "/tmp/file")).toBe("ECONNREFUSED");
    expect(connect(v, socket(v), "/tmp")).toBe("ECONNREFUSED");
    expect(v.sys("listen", s, 4)).toBe(0);
    expect(connect(v, socket(v, SOCK_DGRAM), "/tmp/s")).toBe("EPROTOTYPE");
    const c = socket(v);
    expect(connect(v, c, "/tmp/s")).toBe(0);
    expect(name(v, c, true)).toBe("/tmp/s");
    const a = v.sys("accept", s, 0, 0) as number;
    expect(name(v, a)).toBe("/tmp/s");
    expect(name(v, a, true)).toBe("");
    expect(v.sys("write", c, Buffer.from("ping"), 4)).toBe(4);
    const b = v.buf(8);
    expect(v.sys("read", a, b, 8)).toBe(4);
    expect(v.mem(b, 4).toString()).toBe("ping");
  });

  test("unlink removes the name, not the listener; close leaves a file that refuses", () => {
    const v = vfsTask();
    const s = socket(v);
    bind(v, s, "/tmp/s");
    v.sys("listen", s, 4);
    expect(v.sys("unlink", "/tmp/s")).toBe(0);
    expect(connect(v, socket(v), "/tmp/s")).toBe("ENOENT");
    expect(name(v, s)).toBe("/tmp/s");
    const s2 = socket(v);
    expect(bind(v, s2, "/tmp/s")).toBe(0); // the path is free again
    expect(v.sys("listen", s2, 1)).toBe(0);
    expect(v.sys("close", s2)).toBe(0);
    expect(mode(v, "/tmp/s")).toBe(S_IFSOCK | 0o755);
    expect(connect(v, socket(v), "/tmp/s")).toBe("ECONNREFUSED");
  });

  test("permissions: EACCES to bind in a directory or connect to a socket one may not write", () => {
    const v = vfsTask();
    expect(v.sys("mkdir", "/tmp/closed", 0o755)).toBe(0);
    const s = socket(v);
    expect(bind(v, s, "/tmp/s")).toBe(0);
    expect(v.sys("listen", s, 4)).toBe(0);
    expect(v.sys("chmod", "/tmp/s", 0o755)).toBe(0);
    v.t.proc.euid = 1000;
    v.t.proc.egid = 1000;
    expect(bind(v, socket(v), "/tmp/closed/s")).toBe("EACCES");
    expect(connect(v, socket(v), "/tmp/s")).toBe("EACCES");
    v.t.proc.euid = 0;
    expect(v.sys("chmod", "/tmp/s", 0o777)).toBe(0);
    v.t.proc.euid = 1000;
    expect(connect(v, socket(v), "/tmp/s")).toBe(0);
  });

  test("host directories: the overlay takes socket files; a writable host directory refuses (EPERM), a strict one EROFS", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-unix-"));
    try {
      for (const [mode, want] of [["ro", 0], ["rw", "EPERM"], ["strict", "EROFS"]] as const) {
        const v = vfsTask({ mounts: [{ host: dir, guest: "/data", mode }] });
        const s = socket(v);
        expect([mode, bind(v, s, "/data/s")]).toEqual([mode, want]);
        if (want === 0) {
          v.sys("listen", s, 1);
          expect(connect(v, socket(v), "/data/s")).toBe(0);
        }
      }
      expect(fs.readdirSync(dir)).toEqual([]); // nothing reached the host
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a relative path binds from the working directory", () => {
    const v = vfsTask();
    expect(v.sys("chdir", "/tmp")).toBe(0);
    const s = socket(v);
    expect(bind(v, s, "rel")).toBe(0);
    expect(name(v, s)).toBe("rel");
    expect((mode(v, "/tmp/rel") as number) & S_IFMT).toBe(S_IFSOCK);
  });
});

describe("/proc/sys in a container", () => {
  test("a net sysctl reads, shows Linux's 0644, and refuses a write open with EROFS for everyone", () => {
    const v = vfsTask();
    expect(v.slurp(v.sys("open", "/proc/sys/net/core/somaxconn", O_RDONLY) as number)).toBe("4096\n");
    expect((mode(v, "/proc/sys/net/core/somaxconn") as number) & 0o777).toBe(0o644);
    expect(v.sys("open", "/proc/sys/net/core/somaxconn", O_WRONLY)).toBe("EROFS");
    expect(v.sys("open", "/proc/sys/net/core/somaxconn", O_RDWR)).toBe("EROFS");
    expect(v.sys("access", "/proc/sys/net/core/somaxconn", 2)).toBe("EROFS");
    expect(v.sys("chmod", "/proc/sys/net/core/somaxconn", 0o600)).toBe("EROFS");
    v.t.proc.euid = 1000;
    expect(v.sys("open", "/proc/sys/net/core/somaxconn", O_WRONLY)).toBe("EROFS");
    expect(v.sys("open", "/proc/sys/kernel/ostype", O_WRONLY)).toBe("EROFS");
  });

  test("a sysctl the guest may set stays writable", () => {
    const v = vfsTask();
    const w = v.sys("open", "/proc/sys/kernel/hostname", O_WRONLY) as number;
    expect(typeof w).toBe("number");
    expect(v.sys("write", w, Buffer.from("box\n"), 4)).toBe(4);
    expect(v.slurp(v.sys("open", "/proc/sys/kernel/hostname", O_RDONLY) as number)).toBe("box\n");
  });
});
