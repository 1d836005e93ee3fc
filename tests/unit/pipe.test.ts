// Pipes, eventfd, poll/select and epoll, handler by handler on a fake task. Expected values were
// measured with the same calls on Linux 6.18 (x86_64).
import { close, read, write } from "../../kernel/syscalls/fs";
import { pipe, pipe2, eventfd2 } from "../../kernel/syscalls/pipe";
import * as p from "../../kernel/syscalls/poll";
import { Errno } from "../../kernel/errno";
import { Block, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, type SysRet } from "../../kernel/file";
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLET, EPOLLONESHOT } from "../../kernel/poll";
import { fakeTask, Scratch, type FakeTask } from "./fake-task";

const O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000, O_DIRECT = 0o40000;
const FIONREAD = 0x541b;

class Env {
  readonly f: FakeTask;
  readonly mem: Scratch;
  constructor(wordSize: 4 | 8 = 8) {
    this.f = fakeTask({ wordSize });
    this.mem = new Scratch(this.f.t);
  }
  get t() { return this.f.t; }

  pipe(flags = 0): [number, number] {
    const at = this.mem.alloc(8);
    const r = this.f.ret(pipe2, at, flags);
    if (r !== 0) throw new Error(`pipe2 = ${r}`);
    return [this.t.mm.i32(at), this.t.mm.i32(at + 4)];
  }
  write(fd: number, data: Uint8Array | string): SysRet {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    return this.f.call(write, fd, this.mem.bytes(bytes.length ? bytes : new Uint8Array(1)), bytes.length);
  }
  /** The bytes a read returned, or the errno name; a Block is returned as is. */
  read(fd: number, len: number): string | Block | Uint8Array {
    const buf = this.mem.alloc(Math.max(len, 1));
    const r = this.f.call(read, fd, buf, len);
    if (r instanceof Errno) return r.name;
    if (r instanceof Block) return r;
    return this.t.mm.read(buf, Number(r));
  }
  text(fd: number, len: number): string {
    const r = this.read(fd, len);
    if (typeof r === "string") return r;
    if (r instanceof Block) return "(blocked)";
    return Buffer.from(r).toString();
  }
  fionread(fd: number): number {
    const at = this.mem.i32(-1);
    this.f.ret((t, a) => t.fds.get(a.int(0))!.ioctl(t, a.uint(1), a.ptr(2)), fd, FIONREAD, at);
    return this.t.mm.i32(at);
  }
  /** poll() on (fd, events) pairs: the result and each revents. */
  poll(entries: Array<[number, number]>, timeout = 0): { r: SysRet; revents: number[] } {
    const at = this.mem.alloc(8 * entries.length);
    entries.forEach(([fd, ev], i) => {
      this.t.mm.setU32(at + 8 * i, fd >>> 0);
      this.t.mm.setU32(at + 8 * i + 4, ev);
    });
    const r = this.f.call(p.poll, at, entries.length, timeout);
    const revents = entries.map((_, i) => this.t.mm.u32(at + 8 * i + 4) >>> 16);
    return { r, revents };
  }
}

const errName = (r: unknown): unknown => (r instanceof Errno ? r.name : r);

describe("pipe2", () => {
  test("flags: O_CLOEXEC, O_NONBLOCK and O_DIRECT only; EFAULT leaves no descriptor", () => {
    const e = new Env();
    expect(e.f.ret(pipe2, e.mem.alloc(8), 0x1)).toBe("EINVAL");
    expect(e.f.ret(pipe2, e.mem.alloc(8), 0o200)).toBe("ENOPKG");
    const [r, w] = e.pipe(O_CLOEXEC | O_NONBLOCK);
    expect([r, w]).toEqual([0, 1]); // a fake task has no standard streams
    expect(e.t.fds.cloexec(r) && e.t.fds.cloexec(w)).toBe(true);
    const O_LARGEFILE = 0o100000; // a 64-bit task's files are all O_LARGEFILE
    expect(e.t.fds.get(r)!.flags).toBe(O_NONBLOCK | O_LARGEFILE);
    expect(e.t.fds.get(w)!.flags).toBe(O_NONBLOCK | O_LARGEFILE | 1);
    expect(e.f.ret(pipe, 0x8000)).toBe("EFAULT");
    expect(e.t.fds.fds()).toEqual([0, 1]);
  });

  test("a read returns what is there; EAGAIN when empty and non-blocking; EOF once writers close", () => {
    const e = new Env();
    const [r, w] = e.pipe(O_NONBLOCK);
    expect(e.read(r, 10)).toBe("EAGAIN");
    expect(e.write(w, "hello")).toBe(5);
    expect(e.write(w, " world")).toBe(6);
    expect(e.fionread(r)).toBe(11);
    expect(e.text(r, 3)).toBe("hel");
    expect(e.text(r, 100)).toBe("lo world");
    expect(e.f.ret(close, w)).toBe(0);
    expect(e.text(r, 10)).toBe("");
  });

  test("EPIPE once every reader is gone", () => {
    const e = new Env();
    const [r, w] = e.pipe();
    e.f.ret(close, r);
    expect(errName(e.write(w, "x"))).toBe("EPIPE");
  });

  test.each([
    [1, 65536, 0], [100, 64000, 0], [1000, 64000, 0], [4096, 65536, 0], [5000, 54096, 4096], [70000, 65536, 65536],
  ])("non-blocking writes of %i bytes fill the ring with %i bytes (page merging as Linux)", (size, total, partial) => {
    const e = new Env();
    const [r, w] = e.pipe(O_NONBLOCK);
    const chunk = e.mem.alloc(70000);
    let sum = 0, lastPartial = 0;
    for (;;) {
      const n = e.f.call(write, w, chunk, size);
      if (typeof n !== "number") {
        expect(errName(n)).toBe("EAGAIN");
        break;
      }
      sum += n;
      if (n !== size) lastPartial = n;
    }
    expect(sum).toBe(total);
    expect(lastPartial).toBe(partial);
    expect(e.poll([[w, POLLOUT]]).revents).toEqual([0]);
    e.read(r, 4096);
    expect(e.poll([[w, POLLOUT]]).revents).toEqual([POLLOUT]);
  });

  test("PIPE_BUF: a blocked small write waits whole; a blocked reader wakes on data", async () => {
    const e = new Env();
    const [r, w] = e.pipe();
    const big = e.mem.alloc(65536);
    expect(e.f.call(write, w, big, 65536 - 10)).toBe(65526);
    const blocked = e.write(w, new Uint8Array(100));
    expect(blocked).toBeInstanceOf(Block);
    expect(e.fionread(r)).toBe(65526); // nothing of the atomic write went in
    expect((e.read(r, 65536) as Uint8Array).length).toBe(65526);
    await (blocked as Block).wait;
    expect((blocked as Block).retry()).toBe(100);

    expect((e.read(r, 1000) as Uint8Array).length).toBe(100);
    const reader = e.read(r, 1000) as Block;
    expect(reader).toBeInstanceOf(Block);
    e.write(w, "late");
    await reader.wait;
    expect(reader.retry()).toBe(4);
  });

  test("O_DIRECT: each write is a packet, a short read discards the rest", () => {
    const e = new Env();
    const [r, w] = e.pipe(O_DIRECT);
    e.write(w, "abc");
    e.write(w, "defgh");
    expect(e.text(r, 2)).toBe("ab");
    expect(e.text(r, 100)).toBe("defgh");
  });

  test("poll bits: fresh, without writers, without readers", () => {
    const e = new Env();
    const [r, w] = e.pipe();
    expect(e.poll([[r, POLLIN | POLLOUT], [w, POLLIN | POLLOUT]]).revents).toEqual([0, POLLOUT]);
    e.f.ret(close, w);
    expect(e.poll([[r, POLLIN]]).revents).toEqual([POLLHUP]);
    const [r2, w2] = e.pipe();
    e.f.ret(close, r2);
    expect(e.poll([[w2, POLLOUT]]).revents).toEqual([POLLOUT | POLLERR]);
  });

  test("the write end survives a fork's close: EOF only after the last descriptor anywhere", () => {
    const e = new Env();
    const [r, w] = e.pipe(O_NONBLOCK);
    const child = e.t.fds.clone();
    e.f.ret(close, w);
    expect(e.read(r, 1)).toBe("EAGAIN");
    child.close(w);
    expect(e.text(r, 1)).toBe("");
  });
});

describe("eventfd2", () => {
  test("counter, semaphore mode, EAGAIN, EINVAL", () => {
    const e = new Env();
    expect(e.f.ret(eventfd2, 0, 0x8)).toBe("EINVAL");
    const fd = e.f.ret(eventfd2, 3, O_NONBLOCK) as number;
    const u64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };
    const val = (r: unknown) => (r instanceof Uint8Array ? new DataView(r.buffer, r.byteOffset).getBigUint64(0, true) : r);
    expect(e.read(fd, 4)).toBe("EINVAL");
    expect(val(e.read(fd, 8))).toBe(3n);
    expect(e.read(fd, 8)).toBe("EAGAIN");
    expect(errName(e.write(fd, u64(2n ** 64n - 1n)))).toBe("EINVAL");
    expect(e.write(fd, u64(2n ** 64n - 2n))).toBe(8);
    expect(errName(e.write(fd, u64(1n)))).toBe("EAGAIN");
    expect(e.poll([[fd, POLLIN | POLLOUT]]).revents).toEqual([POLLIN]);
    const sem = e.f.ret(eventfd2, 2, O_NONBLOCK | 1) as number;
    expect(val(e.read(sem, 8))).toBe(1n);
    expect(val(e.read(sem, 8))).toBe(1n);
    expect(e.read(sem, 8)).toBe("EAGAIN");
  });
});

describe("poll and select", () => {
  test("POLLNVAL for a closed fd, nothing for a negative one; the count", () => {
    const e = new Env();
    const [r, w] = e.pipe();
    const { r: n, revents } = e.poll([[r, POLLIN], [w, POLLOUT], [99, POLLIN], [-1, POLLIN]]);
    expect(n).toBe(2);
    expect(revents).toEqual([0, POLLOUT, POLLNVAL, 0]);
  });

  test("a timeout ends the wait with 0; data ends it early", async () => {
    const e = new Env();
    const [r, w] = e.pipe();
    const at = e.mem.alloc(8);
    e.t.mm.setU32(at, r);
    e.t.mm.setU32(at + 4, POLLIN);
    const started = Date.now();
    const b = e.f.call(p.poll, at, 1, 30) as Block;
    expect(b).toBeInstanceOf(Block);
    await b.wait;
    const again = b.retry();
    expect(again instanceof Block ? "blocked" : again).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(29);

    const b2 = e.f.call(p.poll, at, 1, -1) as Block;
    e.write(w, "x");
    await b2.wait;
    expect(b2.retry()).toBe(1);
    expect(e.t.mm.u32(at + 4) >>> 16).toBe(POLLIN);
  });

  test("select counts each set; EBADF for a closed descriptor in a set", () => {
    const e = new Env();
    const [r, w] = e.pipe();
    e.write(w, "x");
    const set = (...fds: number[]) => {
      const b = new Uint8Array(128);
      for (const fd of fds) b[fd >> 3] |= 1 << (fd & 7);
      return e.mem.bytes(b);
    };
    const rs = set(r, w), ws = set(r, w);
    const tv = e.mem.bytes(new Uint8Array(16));
    expect(e.f.ret(p.select, 10, rs, ws, 0, tv)).toBe(2);
    expect(e.t.mm.read(rs, 1)[0]).toBe(1 << r);
    expect(e.t.mm.read(ws, 1)[0]).toBe(1 << w);
    expect(e.f.ret(p.select, 10, set(7), 0, 0, tv)).toBe("EBADF");
    expect(e.f.ret(p.select, -1, 0, 0, 0, tv)).toBe("EINVAL");
    // Bits past the table's size are not looked at.
    expect(e.f.ret(p.select, 1000, set(500), 0, 0, tv)).toBe(0);
  });
});

describe("the i386 and time64 forms", () => {
  test("old select (82) takes one struct pointer; _newselect uses 4-byte fd_set words", () => {
    const e = new Env(4);
    const [r, w] = e.pipe();
    e.write(w, "x");
    const set = e.mem.bytes(Uint8Array.of(1 << r, 0, 0, 0));
    const args = e.mem.alloc(20);
    [8, set, 0, 0, 0].forEach((v, i) => e.t.mm.setU32(args + 4 * i, v));
    expect(e.f.ret(p.oldSelect, args)).toBe(1);
    const tv = e.mem.bytes(new Uint8Array(8));
    expect(e.f.ret(p._newselect, 8, set, 0, 0, tv)).toBe(1);
  });

  test("ppoll: a bad timespec is EINVAL, a bad sigset size too; ppoll_time64 reads 64-bit fields", () => {
    const e = new Env(4);
    const [r, w] = e.pipe();
    const fds = e.mem.alloc(8);
    e.t.mm.setU32(fds, r);
    e.t.mm.setU32(fds + 4, POLLIN);
    const bad = e.mem.alloc(8);
    e.t.mm.setU32(bad, 0);
    e.t.mm.setU32(bad + 4, 1e9);
    expect(e.f.ret(p.ppoll, fds, 1, bad, 0, 8)).toBe("EINVAL");
    const zero = e.mem.bytes(new Uint8Array(16));
    expect(e.f.ret(p.ppoll, fds, 1, zero, e.mem.alloc(8), 4)).toBe("EINVAL");
    expect(e.f.ret(p.ppoll_time64, fds, 1, zero, 0, 8)).toBe(0);
    e.write(w, "x");
    expect(e.f.ret(p.ppoll_time64, fds, 1, zero, 0, 8)).toBe(1);
    expect(e.f.ret(p.pselect6_time64, 8, e.mem.bytes(Uint8Array.of(1 << r, 0, 0, 0)), 0, 0, zero, 0)).toBe(1);
  });
});

describe("epoll", () => {
  const EV = 12;
  function ctl(e: Env, ep: number, op: number, fd: number, events: number, data: bigint): string | number {
    const b = new Uint8Array(EV), d = new DataView(b.buffer);
    d.setUint32(0, events >>> 0, true);
    d.setBigUint64(4, data, true);
    return e.f.ret(p.epoll_ctl, ep, op, fd, e.mem.bytes(b));
  }
  function wait(e: Env, ep: number, max = 8, timeout = 0): Array<[number, bigint]> | string {
    const at = e.mem.alloc(EV * max);
    const r = e.f.call(p.epoll_wait, ep, at, max, timeout);
    if (r instanceof Errno) return r.name;
    if (r instanceof Block) return "(blocked)";
    const d = new DataView(e.t.mm.read(at, EV * max).buffer);
    return Array.from({ length: Number(r) }, (_, i) => [d.getUint32(i * EV, true), d.getBigUint64(i * EV + 4, true)]);
  }

  test("errors in Linux's order", () => {
    const e = new Env();
    expect(e.f.ret(p.epoll_create, 0)).toBe("EINVAL");
    expect(e.f.ret(p.epoll_create1, 1)).toBe("EINVAL");
    const ep = e.f.ret(p.epoll_create1, O_CLOEXEC) as number;
    const [r] = e.pipe();
    expect(ctl(e, ep, EPOLL_CTL_ADD, 99, POLLIN, 0n)).toBe("EBADF");
    expect(ctl(e, ep, EPOLL_CTL_ADD, ep, POLLIN, 0n)).toBe("EINVAL");
    expect(ctl(e, r, EPOLL_CTL_ADD, r, POLLIN, 0n)).toBe("EINVAL");
    expect(ctl(e, ep, EPOLL_CTL_DEL, r, 0, 0n)).toBe("ENOENT");
    expect(ctl(e, ep, EPOLL_CTL_MOD, r, POLLIN, 0n)).toBe("ENOENT");
    expect(ctl(e, ep, EPOLL_CTL_ADD, r, POLLIN, 1n)).toBe(0);
    expect(ctl(e, ep, EPOLL_CTL_ADD, r, POLLIN, 1n)).toBe("EEXIST");
    expect(ctl(e, ep, 9, r, POLLIN, 1n)).toBe("EINVAL");
    expect(wait(e, ep, 0)).toBe("EINVAL");
    expect(wait(e, r, 1)).toBe("EINVAL");
    expect(e.f.ret(p.epoll_pwait, ep, e.mem.alloc(12), 1, 0, e.mem.alloc(8), 4)).toBe("EINVAL");
  });

  test("level-triggered reports until drained; edge-triggered once per arrival; oneshot until re-armed", () => {
    const e = new Env();
    const ep = e.f.ret(p.epoll_create1, 0) as number;
    const [r1, w1] = e.pipe(O_NONBLOCK);
    const [r2, w2] = e.pipe(O_NONBLOCK);
    const [r3, w3] = e.pipe(O_NONBLOCK);
    ctl(e, ep, EPOLL_CTL_ADD, r1, POLLIN, 1n);
    ctl(e, ep, EPOLL_CTL_ADD, r2, POLLIN | EPOLLET, 2n);
    ctl(e, ep, EPOLL_CTL_ADD, r3, POLLIN | EPOLLONESHOT, 3n);
    expect(wait(e, ep)).toEqual([]);
    e.write(w1, "a");
    e.write(w2, "b");
    e.write(w3, "c");
    expect(wait(e, ep)).toEqual([[POLLIN, 1n], [POLLIN, 2n], [POLLIN, 3n]]);
    expect(wait(e, ep)).toEqual([[POLLIN, 1n]]);
    e.write(w2, "more");
    e.write(w3, "more");
    expect(wait(e, ep)).toEqual([[POLLIN, 1n], [POLLIN, 2n]]);
    expect(ctl(e, ep, EPOLL_CTL_MOD, r3, POLLIN | EPOLLONESHOT, 4n)).toBe(0);
    expect(wait(e, ep)).toEqual([[POLLIN, 1n], [POLLIN, 4n]]);
    e.read(r1, 10);
    expect(wait(e, ep)).toEqual([]);
    // A hang-up is always reported; closing the last descriptor removes the item.
    e.f.ret(close, w1);
    expect(wait(e, ep)).toEqual([[POLLHUP, 1n]]);
    e.f.ret(close, r1);
    expect(wait(e, ep)).toEqual([]);
    expect(ctl(e, ep, EPOLL_CTL_DEL, r2, 0, 0n)).toBe(0);
  });

  test("maxevents round-robins level-triggered items; a blocked wait wakes on an event", async () => {
    const e = new Env();
    const ep = e.f.ret(p.epoll_create1, 0) as number;
    const [ra, wa] = e.pipe();
    const [rb, wb] = e.pipe();
    ctl(e, ep, EPOLL_CTL_ADD, ra, POLLIN, 1n);
    ctl(e, ep, EPOLL_CTL_ADD, rb, POLLIN, 2n);
    const at = e.mem.alloc(12);
    const b = e.f.call(p.epoll_wait, ep, at, 1, -1) as Block;
    expect(b).toBeInstanceOf(Block);
    e.write(wa, "x");
    e.write(wb, "y");
    await b.wait;
    expect(b.retry()).toBe(1);
    expect(wait(e, ep, 1)).toEqual([[POLLIN, 2n]]);
    expect(wait(e, ep, 1)).toEqual([[POLLIN, 1n]]);
  });

  test("aarch64's struct epoll_event is 16 bytes", () => {
    const e = new Env();
    (e.t.arch as { name: string }).name = "aarch64";
    const ep = e.f.ret(p.epoll_create1, 0) as number;
    const [r, w] = e.pipe();
    const b = new Uint8Array(16), d = new DataView(b.buffer);
    d.setUint32(0, POLLIN, true);
    d.setBigUint64(8, 0x1122334455667788n, true);
    expect(e.f.ret(p.epoll_ctl, ep, EPOLL_CTL_ADD, r, e.mem.bytes(b))).toBe(0);
    e.write(w, "x");
    const out = e.mem.alloc(32);
    expect(e.f.ret(p.epoll_wait, ep, out, 2, 0)).toBe(1);
    expect(new DataView(e.t.mm.read(out, 16).buffer).getBigUint64(8, true)).toBe(0x1122334455667788n);
  });
});
