// Connections, data and messages through the socket handlers on fake tasks: what the fixtures
// cannot show deterministically (unreachable networks, timeouts, retransmission) or only show on
// one ABI (msghdr layouts), and bad input from the guest. Expected values follow Linux 6.x.
import * as net from "../../kernel/net/syscalls";
import { close, read, write } from "../../kernel/syscalls/fs";
import { Errno } from "../../kernel/errno";
import { Block, type SysRet } from "../../kernel/file";
import {
  AF_INET, AF_INET6, AF_UNIX, MSG_DONTWAIT, MSG_TRUNC, SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET,
} from "../../kernel/net/constants";
import { netOf } from "../../kernel/net/netns";
import { applySysctl, NetSysctl, sysctlEntries } from "../../kernel/net/sysctl";
import { parsePublish } from "../../kernel/net/publish";
import { fakeTask, Scratch, UNMAPPED, type FakeTask } from "./fake-task";

const name = (r: unknown): unknown => (r instanceof Errno ? r.name : r instanceof Block ? "(blocked)" : r);

class Env {
  readonly f: FakeTask;
  readonly mem: Scratch;
  constructor(wordSize: 4 | 8 = 8, shared?: Env) {
    this.f = fakeTask({ wordSize });
    this.mem = new Scratch(this.f.t);
    // Tasks of one sandbox share its network namespace (netOf keys by the kernel).
    const kernel = shared ? (shared.t as unknown as { kernel: object }).kernel : {};
    (this.f.t as unknown as { kernel: object }).kernel = kernel;
  }
  get t() { return this.f.t; }
  call(h: Parameters<FakeTask["call"]>[0], ...args: Array<number | bigint>): SysRet { return this.f.call(h, ...args); }
  ret(h: Parameters<FakeTask["call"]>[0], ...args: Array<number | bigint>): unknown { return name(this.f.call(h, ...args)); }

  socket(family: number, type: number): number { return this.f.ret(net.socket, family, type, 0) as number; }
  sin(ip: string, port: number): number {
    const b = new Uint8Array(16), d = new DataView(b.buffer);
    d.setUint16(0, AF_INET, true);
    d.setUint16(2, port, false);
    ip.split(".").forEach((p, i) => { b[4 + i] = Number(p); });
    return this.mem.bytes(b);
  }
  sin6(bytes: number[], port: number): number {
    const b = new Uint8Array(28), d = new DataView(b.buffer);
    d.setUint16(0, AF_INET6, true);
    d.setUint16(2, port, false);
    b.set(bytes, 8);
    return this.mem.bytes(b);
  }
  port(fd: number): number {
    const at = this.mem.alloc(28), len = this.mem.i32(28);
    this.f.ret(net.getsockname, fd, at, len);
    return (this.t.mm.u8(at + 2) << 8) | this.t.mm.u8(at + 3);
  }
  listener(backlog = 4): number {
    const l = this.socket(AF_INET, SOCK_STREAM);
    this.f.ret(net.bind, l, this.sin("127.0.0.1", 0), 16);
    this.f.ret(net.listen, l, backlog);
    return l;
  }
  send(fd: number, text: string, flags = 0): unknown {
    return this.ret(net.sendto, fd, this.mem.bytes(Buffer.from(text)), text.length, flags, 0, 0);
  }
  recv(fd: number, len = 64, flags = 0): unknown {
    const at = this.mem.alloc(len);
    const r = this.f.call(net.recvfrom, fd, at, len, flags, 0, 0);
    if (typeof r !== "number") return name(r);
    return Buffer.from(this.t.mm.read(at, r)).toString();
  }
  setTimeo(fd: number, opt: number, usec: number): void {
    const b = new Uint8Array(16), d = new DataView(b.buffer);
    d.setBigInt64(8, BigInt(usec), true);
    this.f.ret(net.setsockopt, fd, SOL_SOCKET, opt, this.mem.bytes(b), 16);
  }
}

describe("connect", () => {
  test("any address but loopback is an unreachable network", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    for (const ip of ["10.0.0.1", "192.0.2.1", "8.8.8.8", "224.0.0.1"]) expect(e.ret(net.connect, fd, e.sin(ip, 80), 16)).toBe("ENETUNREACH");
    const six = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.ret(net.connect, six, e.sin6([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1], 80), 28)).toBe("ENETUNREACH");
    const udp = e.socket(AF_INET, SOCK_DGRAM);
    expect(e.ret(net.sendto, udp, e.mem.alloc(1), 1, 0, e.sin("10.1.2.3", 53), 16)).toBe("ENETUNREACH");
    expect(e.ret(net.connect, udp, e.sin("10.1.2.3", 53), 16)).toBe("ENETUNREACH");
  });

  test("0.0.0.0 and :: mean this host", () => {
    const e = new Env();
    const l = e.listener();
    const c = e.socket(AF_INET, SOCK_STREAM);
    expect(e.ret(net.connect, c, e.sin("0.0.0.0", e.port(l)), 16)).toBe(0);
  });

  test("bad input: garbage lengths, unmapped pointers, a non-socket", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.ret(net.connect, fd, e.sin("127.0.0.1", 1), -1)).toBe("EINVAL");
    expect(e.ret(net.connect, fd, e.sin("127.0.0.1", 1), 129)).toBe("EINVAL");
    expect(e.ret(net.connect, fd, e.sin("127.0.0.1", 1), 1)).toBe("EINVAL");
    expect(e.ret(net.connect, fd, UNMAPPED, 16)).toBe("EFAULT");
    expect(e.ret(net.connect, 77, e.sin("127.0.0.1", 1), 16)).toBe("EBADF");
    expect(e.ret(net.accept4, fd, 0, 0, 0x1)).toBe("EINVAL");
    expect(e.ret(net.socketpair, AF_UNIX, SOCK_STREAM | 0x100, 0, e.mem.alloc(8))).toBe("EINVAL");
    expect(e.ret(net.socketpair, AF_UNIX, SOCK_STREAM, 0, UNMAPPED)).toBe("EFAULT");
    expect(e.ret(net.sendto, fd, UNMAPPED, 10, 0, 0, 0)).toBe("EFAULT");
  });

  test("a SYN dropped by a full queue is retransmitted: the connection completes after about a second", async () => {
    const e = new Env();
    const l = e.listener(0);
    const a = e.socket(AF_INET, SOCK_STREAM), b = e.socket(AF_INET, SOCK_STREAM);
    expect(e.ret(net.connect, a, e.sin("127.0.0.1", e.port(l)), 16)).toBe(0);
    const blocked = e.call(net.connect, b, e.sin("127.0.0.1", e.port(l)), 16) as Block;
    expect(blocked).toBeInstanceOf(Block);
    expect(e.ret(net.accept, l, 0, 0)).toEqual(expect.any(Number));
    const started = Date.now();
    await blocked.wait;
    expect(name(blocked.retry())).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(500);
  });

  test("SO_SNDTIMEO bounds a blocking connect: EINPROGRESS when it runs out", async () => {
    const e = new Env();
    const l = e.listener(0);
    const a = e.socket(AF_INET, SOCK_STREAM), b = e.socket(AF_INET, SOCK_STREAM);
    e.ret(net.connect, a, e.sin("127.0.0.1", e.port(l)), 16);
    e.setTimeo(b, SO_SNDTIMEO_OLD, 20000);
    let r: SysRet = e.call(net.connect, b, e.sin("127.0.0.1", e.port(l)), 16);
    while (r instanceof Block) {
      await r.wait;
      r = r.retry();
    }
    expect(name(r)).toBe("EINPROGRESS");
    // Still in SYN_SENT: a second connect waits out the timeout again, then says EALREADY.
    r = e.call(net.connect, b, e.sin("127.0.0.1", e.port(l)), 16);
    while (r instanceof Block) {
      await r.wait;
      r = r.retry();
    }
    expect(name(r)).toBe("EALREADY");
  });

  test("tcp_abort_on_overflow=1: ECONNREFUSED instead of waiting", () => {
    const e = new Env();
    netOf(e.t).sysctl.tcpAbortOnOverflow = 1;
    const l = e.listener(0);
    const a = e.socket(AF_INET, SOCK_STREAM), b = e.socket(AF_INET, SOCK_STREAM);
    e.ret(net.connect, a, e.sin("127.0.0.1", e.port(l)), 16);
    expect(e.ret(net.connect, b, e.sin("127.0.0.1", e.port(l)), 16)).toBe("ECONNREFUSED");
  });
});

describe("accept", () => {
  test("a blocking accept sleeps until a connection arrives from another task", async () => {
    const server = new Env(), client = new Env(8, server);
    const l = server.listener();
    const blocked = server.call(net.accept4, l, 0, 0, SOCK_NONBLOCK) as Block;
    expect(blocked).toBeInstanceOf(Block);
    const c = client.socket(AF_INET, SOCK_STREAM);
    expect(client.ret(net.connect, c, client.sin("127.0.0.1", server.port(l)), 16)).toBe(0);
    await blocked.wait;
    const fd = blocked.retry() as number;
    expect(server.t.fds.get(fd)!.flags & SOCK_NONBLOCK).toBe(SOCK_NONBLOCK);
    expect(client.send(c, "ping")).toBe(4);
    expect(server.recv(fd)).toBe("ping");
  });

  test("SO_RCVTIMEO bounds a blocking accept: EAGAIN", async () => {
    const e = new Env();
    const l = e.listener();
    e.setTimeo(l, SO_RCVTIMEO_OLD, 10000);
    let r: SysRet = e.call(net.accept, l, 0, 0);
    while (r instanceof Block) {
      await r.wait;
      r = r.retry();
    }
    expect(name(r)).toBe("EAGAIN");
  });

  test("the peer address, truncated to the caller's length, with the full length stored", () => {
    const e = new Env();
    const l = e.listener();
    const c = e.socket(AF_INET, SOCK_STREAM);
    e.ret(net.connect, c, e.sin("127.0.0.1", e.port(l)), 16);
    const at = e.mem.bytes(new Uint8Array(16).fill(0xee)), len = e.mem.i32(4);
    expect(e.ret(net.accept, l, at, len)).toEqual(expect.any(Number));
    expect(e.t.mm.i32(len)).toBe(16);
    expect(Array.from(e.t.mm.read(at, 6))).toEqual([AF_INET, 0, ...Array.from(e.t.mm.read(at + 2, 2)), 0xee, 0xee]);
  });

  test("EMFILE before waiting", () => {
    const e = new Env();
    const l = e.listener();
    e.t.fds.limit = e.t.fds.fds().length;
    expect(e.ret(net.accept, l, 0, 0)).toBe("EMFILE");
  });
});

describe("messages", () => {
  function msghdr(e: Env, iov: Array<[number, number]>, control = 0, controllen = 0, nameAt = 0, namelen = 0): number {
    const w = e.t.arch.wordSize;
    const vec = e.mem.alloc(iov.length * 2 * w);
    iov.forEach(([b, l], i) => {
      if (w === 8) { e.t.mm.setU64(vec + 16 * i, b); e.t.mm.setU64(vec + 16 * i + 8, l); }
      else { e.t.mm.setU32(vec + 8 * i, b); e.t.mm.setU32(vec + 8 * i + 4, l); }
    });
    const m = e.mem.alloc(w === 8 ? 56 : 28);
    const put = (off8: number, off4: number, v: number) => (w === 8 ? e.t.mm.setU64(m + off8, v) : e.t.mm.setU32(m + off4, v));
    put(0, 0, nameAt);
    e.t.mm.setU32(m + (w === 8 ? 8 : 4), namelen);
    put(16, 8, vec);
    put(24, 12, iov.length);
    put(32, 16, control);
    put(40, 20, controllen);
    return m;
  }

  test.each([8, 4] as const)("sendmsg/recvmsg gather and scatter (word size %d)", (w) => {
    const e = new Env(w);
    const sv = e.mem.alloc(8);
    e.ret(net.socketpair, AF_UNIX, SOCK_SEQPACKET, 0, sv);
    const [a, b] = [e.t.mm.i32(sv), e.t.mm.i32(sv + 4)];
    const p1 = e.mem.bytes(Buffer.from("hel")), p2 = e.mem.bytes(Buffer.from("lo!"));
    expect(e.ret(net.sendmsg, a, msghdr(e, [[p1, 3], [p2, 3]]), 0)).toBe(6);
    const r1 = e.mem.alloc(4), r2 = e.mem.alloc(4);
    const m = msghdr(e, [[r1, 2], [r2, 2]]);
    expect(e.ret(net.recvmsg, b, m, 0)).toBe(4);
    expect(Buffer.from([...e.t.mm.read(r1, 2), ...e.t.mm.read(r2, 2)]).toString()).toBe("hell");
    expect(e.t.mm.u32(m + (w === 8 ? 48 : 24))).toBe(MSG_TRUNC);
  });

  test("msghdr errors: too many vectors, a bad control message", () => {
    const e = new Env();
    const fd = e.socket(AF_UNIX, SOCK_DGRAM);
    const m = msghdr(e, [[e.mem.alloc(1), 1]]);
    e.t.mm.setU64(m + 24, 1025);
    expect(e.ret(net.sendmsg, fd, m, 0)).toBe("EMSGSIZE");
    const ctl = e.mem.alloc(16);
    e.t.mm.setU64(ctl, 8); // cmsg_len smaller than its own header
    expect(e.ret(net.sendmsg, fd, msghdr(e, [[e.mem.alloc(1), 1]], ctl, 16), 0)).toBe("EINVAL");
    expect(e.ret(net.sendmsg, fd, UNMAPPED, 0)).toBe("EFAULT");
  });

  test("sendmmsg and recvmmsg over UDP: counts in msg_len, MSG_WAITFORONE", () => {
    const e = new Env();
    const rx = e.socket(AF_INET, SOCK_DGRAM), tx = e.socket(AF_INET, SOCK_DGRAM);
    e.ret(net.bind, rx, e.sin("127.0.0.1", 0), 16);
    e.ret(net.connect, tx, e.sin("127.0.0.1", e.port(rx)), 16);
    const vec = e.mem.alloc(3 * 64);
    ["a", "bb", "ccc"].forEach((s, i) => {
      const one = msghdr(e, [[e.mem.bytes(Buffer.from(s)), s.length]]);
      e.t.mm.write(vec + 64 * i, e.t.mm.read(one, 56));
    });
    expect(e.ret(net.sendmmsg, tx, vec, 3, 0)).toBe(3);
    expect([0, 1, 2].map((i) => e.t.mm.u32(vec + 64 * i + 56))).toEqual([1, 2, 3]);
    const out = e.mem.alloc(4 * 64);
    for (let i = 0; i < 4; i++) e.t.mm.write(out + 64 * i, e.t.mm.read(msghdr(e, [[e.mem.alloc(8), 8]]), 56));
    expect(e.ret(net.recvmmsg, rx, out, 4, 0x10000 /* MSG_WAITFORONE */, 0)).toBe(3);
    expect([0, 1, 2].map((i) => e.t.mm.u32(out + 64 * i + 56))).toEqual([1, 2, 3]);
    expect(e.ret(net.recvmmsg, rx, out, 4, MSG_DONTWAIT, 0)).toBe("EAGAIN");
  });

  test("read and write on a connected pair; EOF after the peer closes", () => {
    const e = new Env();
    const sv = e.mem.alloc(8);
    e.ret(net.socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
    const [a, b] = [e.t.mm.i32(sv), e.t.mm.i32(sv + 4)];
    expect(e.ret(write, a, e.mem.bytes(Buffer.from("xyz")), 3)).toBe(3);
    const buf = e.mem.alloc(8);
    expect(e.ret(read, b, buf, 8)).toBe(3);
    e.ret(close, a);
    expect(e.ret(read, b, buf, 8)).toBe(0);
  });
});

describe("sysctls", () => {
  test("the /proc/sys/net files and their defaults", () => {
    const files = Object.fromEntries(sysctlEntries(new NetSysctl()).map((f) => [f.path, f.read()]));
    expect(files["net/core/somaxconn"]).toBe("4096\n");
    expect(files["net/ipv4/tcp_max_syn_backlog"]).toBe("2048\n");
    expect(files["net/ipv4/tcp_syncookies"]).toBe("1\n");
    expect(files["net/ipv4/tcp_abort_on_overflow"]).toBe("0\n");
    expect(files["net/ipv4/tcp_fastopen"]).toBe("1\n");
    expect(files["net/ipv4/ip_local_port_range"]).toBe("32768\t60999\n");
  });

  test("--sysctl spellings and checks", () => {
    const s = new NetSysctl();
    expect(applySysctl(s, "net.core.somaxconn=128")).toBeUndefined();
    expect(applySysctl(s, "net/ipv4/ip_local_port_range=40000 40100")).toBeUndefined();
    expect([s.somaxconn, s.ipLocalPortRange]).toEqual([128, [40000, 40100]]);
    expect(applySysctl(s, "net.core.somaxconn=-1")).toMatch(/out of range/);
    expect(applySysctl(s, "net.ipv4.tcp_abort_on_overflow=2")).toMatch(/out of range/);
    expect(applySysctl(s, "somaxconn")).toMatch(/NAME=VALUE/);
    expect(applySysctl(s, "kernel.hostname=x")).toMatch(/not a network sysctl/);
  });

  test("ephemeral ports come from ip_local_port_range", () => {
    const e = new Env();
    netOf(e.t).sysctl.ipLocalPortRange = [40000, 40003];
    const l = e.listener();
    const c = e.socket(AF_INET, SOCK_STREAM);
    e.ret(net.connect, c, e.sin("127.0.0.1", e.port(l)), 16);
    expect(e.port(c)).toBeGreaterThanOrEqual(40000);
    expect(e.port(c)).toBeLessThanOrEqual(40003);
  });
});

describe("--publish specs", () => {
  test.each([
    ["8080:80", { hostIp: "127.0.0.1", hostPort: 8080, guestPort: 80 }],
    ["127.0.0.2:8080:80", { hostIp: "127.0.0.2", hostPort: 8080, guestPort: 80 }],
    ["[::1]:8080:80", { hostIp: "::1", hostPort: 8080, guestPort: 80 }],
    ["8080:80/tcp", { hostIp: "127.0.0.1", hostPort: 8080, guestPort: 80 }],
  ])("%s", (spec, want) => expect(parsePublish(spec)).toEqual(want));

  test.each(["0.0.0.0:8080:80", "10.0.0.1:1:2", "80", "a:b", "70000:80", "8080:0"])("%s is refused", (spec) => {
    expect(typeof parsePublish(spec)).toBe("string");
  });
});
