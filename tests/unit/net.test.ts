// The socket layer, handler by handler, on a fake task. Expected values were recorded from the
// same calls on Linux 6.18 (x86_64 native, i386 via setarch, root and an unprivileged user);
// where syscage differs on purpose the test says so.
import * as net from "../../kernel/net/syscalls";
import { close, read, write } from "../../kernel/syscalls/fs";
import { Errno } from "../../kernel/errno";
import { Block, FileDescription, O_NONBLOCK, O_RDWR, S_IFSOCK, type StatInfo } from "../../kernel/file";
import {
  AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, AF_UNSPEC, IPPROTO_ICMP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP,
  IPV6_V6ONLY, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_PROTOCOL, SO_RCVBUF, SO_RCVTIMEO_NEW,
  SO_RCVTIMEO_OLD, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDTIMEO_OLD, SO_TYPE, SOCK_CLOEXEC, SOCK_DGRAM,
  SOCK_NONBLOCK, SOCK_PACKET, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, TCP_FASTOPEN, TCP_KEEPIDLE, TCP_NODELAY,
} from "../../kernel/net/constants";
import { netOf } from "../../kernel/net/netns";
import { SocketFile, type Socket } from "../../kernel/net/socket";
import type { InetSocket } from "../../kernel/net/inet/inet";
import { fakeTask, Scratch, SCRATCH, SCRATCH_SIZE, UNMAPPED, type FakeTask } from "./fake-task";

// --- helpers -------------------------------------------------------------------------------

const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
const SOL_IP = 0;

function ipv4(s: string): number {
  return s.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function ipv6(s: string): Uint8Array {
  const groups = (p: string): number[] =>
    p === "" ? [] : p.split(":").flatMap((g) => {
      if (!g.includes(".")) return [parseInt(g, 16)];
      const v = ipv4(g);
      return [v >>> 16, v & 0xffff];
    });
  const [head, tail] = s.split("::");
  const h = groups(head), tl = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - tl.length).fill(0), ...tl];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** A test harness: one fake task with socket helpers writing guest structs to scratch memory. */
class Env {
  readonly f: FakeTask;
  readonly mem: Scratch;
  constructor(options: Parameters<typeof fakeTask>[0] = {}) {
    this.f = fakeTask(options);
    this.mem = new Scratch(this.f.t);
  }
  get t() { return this.f.t; }
  get warnings() { return this.f.warnings; }

  socket(family: number, type: number, protocol = 0): number {
    const fd = this.f.ret(net.socket, family, type, protocol);
    if (typeof fd !== "number") throw new Error(`socket(${family}, ${type}, ${protocol}) = ${fd}`);
    return fd;
  }
  sock(fd: number): Socket { return (this.t.fds.get(fd) as SocketFile).sock; }
  inet(fd: number): InetSocket { return this.sock(fd) as InetSocket; }

  sin(ip: string, port: number, family = AF_INET): number {
    const b = new Uint8Array(16), d = new DataView(b.buffer);
    d.setUint16(0, family, true);
    d.setUint16(2, port, false);
    d.setUint32(4, ipv4(ip), false);
    return this.mem.bytes(b);
  }
  sin6(ip: string, port: number, scopeId = 0, family = AF_INET6): number {
    const b = new Uint8Array(28), d = new DataView(b.buffer);
    d.setUint16(0, family, true);
    d.setUint16(2, port, false);
    b.set(ipv6(ip), 8);
    d.setUint32(24, scopeId, true);
    return this.mem.bytes(b);
  }
  sun(path: string, family = AF_UNIX): number {
    const b = new Uint8Array(110);
    new DataView(b.buffer).setUint16(0, family, true);
    b.set(Buffer.from(path, "latin1"), 2);
    return this.mem.bytes(b);
  }

  bind4(fd: number, ip: string, port: number): string | number { return this.f.ret(net.bind, fd, this.sin(ip, port), 16); }
  bind6(fd: number, ip: string, port: number, scopeId = 0): string | number {
    return this.f.ret(net.bind, fd, this.sin6(ip, port, scopeId), 28);
  }
  listen(fd: number, backlog: number): string | number { return this.f.ret(net.listen, fd, backlog); }

  /** getsockname's bytes and reported length. */
  name(fd: number, handler = net.getsockname, room = 128): { r: string | number; len: number; bytes: Uint8Array } {
    const addr = this.mem.alloc(room), lenp = this.mem.i32(room);
    const r = this.f.ret(handler, fd, addr, lenp);
    const len = this.t.mm.i32(lenp);
    return { r, len, bytes: this.t.mm.read(addr, Math.max(0, Math.min(len, room))) };
  }
  port(fd: number): number {
    const { bytes } = this.name(fd);
    return (bytes[2] << 8) | bytes[3];
  }

  seti(fd: number, level: number, opt: number, v: number, len = 4): string | number {
    return this.f.ret(net.setsockopt, fd, level, opt, this.mem.i32(v), len);
  }
  /** An int option's value, or the errno name. */
  geti(fd: number, level: number, opt: number): number | string {
    const val = this.mem.i32(-12345), lenp = this.mem.i32(4);
    const r = this.f.ret(net.getsockopt, fd, level, opt, val, lenp);
    return r === 0 ? this.t.mm.i32(val) : r;
  }
  /** getsockopt with an explicit *optlen: result, bytes copied (of a 0xee-filled buffer), *optlen after. */
  getRaw(fd: number, level: number, opt: number, len: number, room = 32): { r: string | number; len: number; bytes: Uint8Array } {
    const val = this.mem.bytes(new Uint8Array(room).fill(0xee)), lenp = this.mem.i32(len);
    const r = this.f.ret(net.getsockopt, fd, level, opt, val, lenp);
    return { r, len: this.t.mm.i32(lenp), bytes: this.t.mm.read(val, room) };
  }
  setRaw(fd: number, level: number, opt: number, data: Uint8Array, len = data.length): string | number {
    return this.f.ret(net.setsockopt, fd, level, opt, this.mem.bytes(data), len);
  }

  read(fd: number, len = 8): ReturnType<FakeTask["call"]> { return this.f.call(read, fd, this.mem.alloc(len), len); }
  write(fd: number, len = 1): ReturnType<FakeTask["call"]> { return this.f.call(write, fd, this.mem.alloc(len), len); }
  close(fd: number): string | number { return this.f.ret(close, fd); }
}

const errName = (r: unknown): unknown => (r instanceof Errno ? r.name : r);

function i32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(4 * v.length), d = new DataView(b.buffer);
  v.forEach((x, i) => d.setInt32(4 * i, x, true));
  return b;
}
function i64s(...v: bigint[]): Uint8Array {
  const b = new Uint8Array(8 * v.length), d = new DataView(b.buffer);
  v.forEach((x, i) => d.setBigInt64(8 * i, x, true));
  return b;
}
function readI32s(b: Uint8Array, n: number): number[] {
  const d = new DataView(b.buffer, b.byteOffset);
  return Array.from({ length: n }, (_, i) => d.getInt32(4 * i, true));
}
function readI64s(b: Uint8Array, n: number): bigint[] {
  const d = new DataView(b.buffer, b.byteOffset);
  return Array.from({ length: n }, (_, i) => d.getBigInt64(8 * i, true));
}

class PlainFile extends FileDescription {
  stat(): StatInfo {
    return { dev: 1, ino: 1, mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0,
      atimeMs: 0, mtimeMs: 0, ctimeMs: 0 };
  }
}

// --- socket(2) -----------------------------------------------------------------------------

describe("socket", () => {
  test.each([
    ["INET STREAM 0", AF_INET, SOCK_STREAM, 0, 0],
    ["INET STREAM TCP", AF_INET, SOCK_STREAM, IPPROTO_TCP, 0],
    ["INET STREAM UDP", AF_INET, SOCK_STREAM, IPPROTO_UDP, "EPROTONOSUPPORT"],
    ["INET DGRAM 0", AF_INET, SOCK_DGRAM, 0, 0],
    ["INET DGRAM UDP", AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0],
    ["INET DGRAM TCP", AF_INET, SOCK_DGRAM, IPPROTO_TCP, "EPROTONOSUPPORT"],
    ["INET RAW 0 (the raw entry is a wildcard that 0 does not match)", AF_INET, SOCK_RAW, 0, "EPROTONOSUPPORT"],
    ["INET RAW RAW (no CAP_NET_RAW)", AF_INET, SOCK_RAW, 255, "EPERM"],
    ["INET RAW ICMP", AF_INET, SOCK_RAW, IPPROTO_ICMP, "EPERM"],
    ["INET DGRAM ICMP (ping_group_range '1 0')", AF_INET, SOCK_DGRAM, IPPROTO_ICMP, "EACCES"],
    ["INET SEQPACKET 0", AF_INET, SOCK_SEQPACKET, 0, "ESOCKTNOSUPPORT"],
    ["INET RDM 0", AF_INET, 4, 0, "ESOCKTNOSUPPORT"],
    ["INET DCCP 0", AF_INET, 6, 0, "ESOCKTNOSUPPORT"],
    ["INET type 9", AF_INET, 9, 0, "ESOCKTNOSUPPORT"],
    ["INET PACKET (becomes AF_PACKET)", AF_INET, SOCK_PACKET, 0, "EPERM"],
    ["INET type 11", AF_INET, 11, 0, "EINVAL"],
    ["INET type 15", AF_INET, 15, 0, "EINVAL"],
    ["INET STREAM|0x100", AF_INET, SOCK_STREAM | 0x100, 0, "EINVAL"],
    ["INET type -1", AF_INET, -1, 0, "EINVAL"],
    ["INET STREAM protocol -1", AF_INET, SOCK_STREAM, -1, "EINVAL"],
    ["INET STREAM protocol 263 (IPPROTO_MAX)", AF_INET, SOCK_STREAM, 263, "EINVAL"],
    ["INET STREAM protocol 255", AF_INET, SOCK_STREAM, 255, "EPROTONOSUPPORT"],
    // Linux 6.18 creates an MPTCP socket here; syscage offers no MPTCP.
    ["INET STREAM MPTCP (not offered)", AF_INET, SOCK_STREAM, 262, "EPROTONOSUPPORT"],
    ["INET6 STREAM 0", AF_INET6, SOCK_STREAM, 0, 0],
    ["INET6 DGRAM 0", AF_INET6, SOCK_DGRAM, 0, 0],
    ["INET6 DGRAM TCP", AF_INET6, SOCK_DGRAM, IPPROTO_TCP, "EPROTONOSUPPORT"],
    ["INET6 RAW 0", AF_INET6, SOCK_RAW, 0, "EPROTONOSUPPORT"],
    ["INET6 RAW RAW", AF_INET6, SOCK_RAW, 255, "EPERM"],
    ["INET6 DGRAM ICMPV6", AF_INET6, SOCK_DGRAM, 58, "EACCES"],
    ["INET6 SEQPACKET 0", AF_INET6, SOCK_SEQPACKET, 0, "ESOCKTNOSUPPORT"],
    ["INET6 PACKET (no AF_PACKET remap for INET6)", AF_INET6, SOCK_PACKET, 0, "ESOCKTNOSUPPORT"],
    ["INET6 STREAM 300", AF_INET6, SOCK_STREAM, 300, "EINVAL"],
    ["UNIX STREAM 0", AF_UNIX, SOCK_STREAM, 0, 0],
    ["UNIX DGRAM 0", AF_UNIX, SOCK_DGRAM, 0, 0],
    ["UNIX SEQPACKET 0", AF_UNIX, SOCK_SEQPACKET, 0, 0],
    ["UNIX STREAM PF_UNIX", AF_UNIX, SOCK_STREAM, 1, 0],
    ["UNIX STREAM 2", AF_UNIX, SOCK_STREAM, 2, "EPROTONOSUPPORT"],
    ["UNIX STREAM -1", AF_UNIX, SOCK_STREAM, -1, "EPROTONOSUPPORT"],
    ["UNIX RDM", AF_UNIX, 4, 0, "ESOCKTNOSUPPORT"],
    ["UNIX PACKET", AF_UNIX, SOCK_PACKET, 0, "ESOCKTNOSUPPORT"],
    ["UNIX type 12", AF_UNIX, 12, 0, "EINVAL"],
    ["PACKET RAW", AF_PACKET, SOCK_RAW, 0, "EPERM"],
    ["PACKET STREAM (CAP_NET_RAW is checked first)", AF_PACKET, SOCK_STREAM, 0, "EPERM"],
    // Linux offers netlink to everyone; syscage does not offer the family yet.
    ["NETLINK RAW (not offered)", AF_NETLINK, SOCK_RAW, 0, "EAFNOSUPPORT"],
    ["UNSPEC STREAM", AF_UNSPEC, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    ["46 (AF_MAX) STREAM", 46, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    ["46 with a bad type: the family range comes first", 46, 12, 0, "EAFNOSUPPORT"],
    ["-1 STREAM", -1, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    ["AX25 (3) with a bad type: the type range comes before the family lookup", 3, 12, 0, "EINVAL"],
  ] as const)("%s", (_what, family, type, protocol, expected) => {
    const e = new Env();
    expect(e.f.ret(net.socket, family, type, protocol)).toBe(expected);
    expect(e.t.fds.fds()).toEqual(expected === 0 ? [0] : []);
  });

  test("SOCK_NONBLOCK and SOCK_CLOEXEC set O_NONBLOCK and FD_CLOEXEC; the file is O_RDWR", () => {
    const e = new Env();
    const a = e.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    const b = e.socket(AF_INET, SOCK_STREAM);
    expect(e.t.fds.get(a)!.flags).toBe(O_RDWR | O_NONBLOCK);
    expect(e.t.fds.cloexec(a)).toBe(true);
    expect(e.t.fds.get(b)!.flags).toBe(O_RDWR);
    expect(e.t.fds.cloexec(b)).toBe(false);
  });

  test("fstat: a socket inode, mode 0140777, owned by its creator", () => {
    const e = new Env({ uid: 1234 });
    const st = e.t.fds.get(e.socket(AF_INET, SOCK_STREAM))!.stat();
    expect(st.mode).toBe(S_IFSOCK | 0o777);
    expect(st.mode).toBe(0o140777);
    expect([st.nlink, st.size, st.blksize, st.uid, st.gid]).toEqual([1, 0, 4096, 1234, 1234]);
    expect(e.t.fds.get(e.socket(AF_INET, SOCK_STREAM))!.stat().ino).toBe(st.ino + 1);
  });

  test("no seeking or positional I/O on a socket", () => {
    const e = new Env();
    const f = e.t.fds.get(e.socket(AF_INET, SOCK_STREAM))!;
    expect(errName(f.seek(0, 0))).toBe("ESPIPE");
    expect(errName(f.pread(e.t, 4, 0))).toBe("ESPIPE");
  });

  test("AF_UNIX SOCK_RAW quietly becomes SOCK_DGRAM", () => {
    const e = new Env();
    expect(e.geti(e.socket(AF_UNIX, SOCK_RAW), SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
  });

  test("EMFILE when the table is full, and the socket is dropped", () => {
    const e = new Env();
    e.t.fds.limit = 0;
    expect(e.f.ret(net.socket, AF_INET, SOCK_STREAM, 0)).toBe("EMFILE");
  });
});

// --- bind(2), IPv4 ---------------------------------------------------------------------------

describe("bind (AF_INET)", () => {
  test("EBADF and ENOTSOCK come before the address is read", () => {
    const e = new Env();
    e.t.fds.install(new PlainFile(O_RDWR));
    expect(e.f.ret(net.bind, 99, UNMAPPED, 16)).toBe("EBADF");
    expect(e.f.ret(net.bind, 0, UNMAPPED, 16)).toBe("ENOTSOCK");
  });

  test.each([
    ["15 (shorter than sockaddr_in)", 15, "EINVAL"],
    ["129 (longer than sockaddr_storage)", 129, "EINVAL"],
    ["-1", -1, "EINVAL"],
    ["0", 0, "EINVAL"],
  ])("addrlen %s", (_what, len, expected) => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.f.ret(net.bind, fd, e.sin("127.0.0.1", 0), len)).toBe(expected);
  });

  test("an unreadable address is EFAULT", () => {
    const e = new Env();
    expect(e.f.ret(net.bind, e.socket(AF_INET, SOCK_STREAM), UNMAPPED, 16)).toBe("EFAULT");
  });

  test("family: AF_INET6 is EAFNOSUPPORT; AF_UNSPEC passes only with INADDR_ANY", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.f.ret(net.bind, fd, e.sin("127.0.0.1", 0, AF_INET6), 16)).toBe("EAFNOSUPPORT");
    expect(e.f.ret(net.bind, fd, e.sin("127.0.0.1", 0, AF_UNSPEC), 16)).toBe("EAFNOSUPPORT");
    expect(e.f.ret(net.bind, fd, e.sin("0.0.0.0", 0, AF_UNSPEC), 16)).toBe(0);
    const { bytes } = e.name(fd);
    expect(bytes[0] | (bytes[1] << 8)).toBe(AF_INET);
    expect(e.port(fd)).toBeGreaterThanOrEqual(32768);
    expect(e.port(fd)).toBeLessThanOrEqual(60999);
  });

  test.each([
    ["192.0.2.1", "EADDRNOTAVAIL"],
    ["10.0.0.1", "EADDRNOTAVAIL"],
    ["0.1.2.3", "EADDRNOTAVAIL"],
    ["255.255.255.255", 0],
    ["224.0.0.1", 0],
    ["127.1.2.3", 0],
    ["127.0.0.1", 0],
    ["0.0.0.0", 0],
  ])("address %s (the namespace has only lo)", (ip, expected) => {
    const e = new Env();
    expect(e.bind4(e.socket(AF_INET, SOCK_STREAM), ip, 0)).toBe(expected);
  });

  test("getsockname reports the bound address and the chosen port", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(fd, "127.0.0.1", 0)).toBe(0);
    const { r, len, bytes } = e.name(fd);
    expect([r, len]).toEqual([0, 16]);
    expect(Array.from(bytes.subarray(4, 8))).toEqual([127, 0, 0, 1]);
    expect(e.port(fd)).toBe(e.inet(fd).num);
    expect(e.port(fd) % 2).toBe(1); // bind() prefers the parity connect() leaves alone
  });

  test("a second bind is EINVAL, but a non-local address is reported first", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(fd, "127.0.0.1", 0)).toBe(0);
    expect(e.bind4(fd, "127.0.0.1", 0)).toBe("EINVAL");
    expect(e.bind4(fd, "192.0.2.1", 0)).toBe("EADDRNOTAVAIL");
    expect(e.bind4(fd, "127.0.0.1", 80)).toBe("EINVAL");
  });

  test("ports below 1024 need CAP_NET_BIND_SERVICE: root has it", () => {
    const e = new Env({ uid: 0 });
    expect(e.bind4(e.socket(AF_INET, SOCK_STREAM), "127.0.0.1", 80)).toBe(0);
  });

  test("ports below 1024 for another user: EACCES, after EADDRNOTAVAIL and before a second-bind EINVAL", () => {
    const e = new Env({ uid: 65534 });
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(fd, "192.0.2.1", 80)).toBe("EADDRNOTAVAIL");
    expect(e.bind4(fd, "127.0.0.1", 1023)).toBe("EACCES");
    expect(e.bind4(fd, "127.0.0.1", 1024)).toBe(0);
    expect(e.bind4(fd, "127.0.0.1", 80)).toBe("EACCES");
    netOf(e.t).sysctl.ipUnprivilegedPortStart = 80;
    expect(e.bind4(e.socket(AF_INET, SOCK_STREAM), "127.0.0.1", 80)).toBe(0);
  });

  test("ephemeral ports come from ip_local_port_range, odd ones first, until it runs out", () => {
    const e = new Env();
    netOf(e.t).sysctl.ipLocalPortRange = [50000, 50001];
    const a = e.socket(AF_INET, SOCK_STREAM), b = e.socket(AF_INET, SOCK_STREAM), c = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(a, "127.0.0.1", 0)).toBe(0);
    expect(e.bind4(b, "127.0.0.1", 0)).toBe(0);
    expect([e.port(a), e.port(b)]).toEqual([50001, 50000]);
    expect(e.bind4(c, "127.0.0.1", 0)).toBe("EADDRINUSE");
    expect(e.name(c).bytes.subarray(4, 8)).toEqual(new Uint8Array(4)); // the address is dropped again
    expect(e.bind4(c, "127.0.0.2", 0)).toBe(0); // another address overlaps neither binding
    expect(e.port(c)).toBe(50001);
  });

  test("SO_REUSEADDR sockets search the lower half of the range first", () => {
    const e = new Env();
    netOf(e.t).sysctl.ipLocalPortRange = [50000, 50007];
    const ports = [0, 1, 2, 3, 4].map(() => {
      const fd = e.socket(AF_INET, SOCK_STREAM);
      expect(e.seti(fd, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
      expect(e.bind4(fd, "127.0.0.1", 0)).toBe(0);
      return e.port(fd);
    });
    expect(ports.slice(0, 2).every((p) => p % 2 === 1)).toBe(true);
    expect(ports.slice(0, 4).sort()).toEqual([50000, 50001, 50002, 50003]);
    expect(ports[4]).toBeGreaterThanOrEqual(50004);
  });

  test("close gives the port back", () => {
    const e = new Env();
    const a = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(a, "127.0.0.1", 40000)).toBe(0);
    const b = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(b, "127.0.0.1", 40000)).toBe("EADDRINUSE");
    expect(e.close(a)).toBe(0);
    expect(e.bind4(b, "127.0.0.1", 40000)).toBe(0);
    expect(netOf(e.t).tcpPorts.owners(40000).size).toBe(1);
  });
});

// --- port sharing ------------------------------------------------------------------------------

interface PairCase {
  what: string;
  types: [number, number];
  families: [number, number];
  addrs: [string, string];
  /** Bits per socket: 1 SO_REUSEADDR, 2 SO_REUSEPORT, 4 IPV6_V6ONLY. */
  opts?: [number, number];
  firstListens?: boolean;
  /** The second bind, then (streams) the second listen, then the first listen when it did not listen yet. */
  expected: Array<string | number>;
}

const T = SOCK_STREAM, U = SOCK_DGRAM, V4 = AF_INET, V6 = AF_INET6;
const pairCases: PairCase[] = [
  { what: "tcp plain", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp reuse both", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [1, 1], expected: [0, 0, "EADDRINUSE"] },
  { what: "tcp reuse both, first listening", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [1, 1], firstListens: true, expected: ["EADDRINUSE", 0] },
  { what: "tcp reuse first only", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [1, 0], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp reuse second only", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [0, 1], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp reuseport both", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [2, 2], expected: [0, 0, 0] },
  { what: "tcp reuseport both, first listening", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [2, 2], firstListens: true, expected: [0, 0] },
  { what: "tcp reuseport first only", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [2, 0], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp 127.0.0.1 vs 0.0.0.0", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "0.0.0.0"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp 0.0.0.0 vs 127.0.0.1", types: [T, T], families: [V4, V4], addrs: ["0.0.0.0", "127.0.0.1"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp 127.0.0.1 vs 127.0.0.2", types: [T, T], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.2"], firstListens: true, expected: [0, 0] },
  { what: "tcp 0.0.0.0 reuse vs 127.0.0.1 reuse, first listening", types: [T, T], families: [V4, V4], addrs: ["0.0.0.0", "127.0.0.1"], opts: [1, 1], firstListens: true, expected: ["EADDRINUSE", 0] },
  { what: "udp plain", types: [U, U], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], expected: ["EADDRINUSE"] },
  { what: "udp reuse both", types: [U, U], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [1, 1], expected: [0] },
  { what: "udp reuse first only", types: [U, U], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [1, 0], expected: ["EADDRINUSE"] },
  { what: "udp reuse second only", types: [U, U], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [0, 1], expected: ["EADDRINUSE"] },
  { what: "udp reuseport both", types: [U, U], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], opts: [2, 2], expected: [0] },
  { what: "udp after tcp", types: [T, U], families: [V4, V4], addrs: ["127.0.0.1", "127.0.0.1"], firstListens: true, expected: [0] },
  { what: "tcp v4 127.0.0.1 vs v6 ::", types: [T, T], families: [V4, V6], addrs: ["127.0.0.1", "::"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp v4 127.0.0.1 vs v6 :: v6only", types: [T, T], families: [V4, V6], addrs: ["127.0.0.1", "::"], opts: [0, 4], expected: [0, 0, 0] },
  { what: "tcp v6 :: vs v4 127.0.0.1", types: [T, T], families: [V6, V4], addrs: ["::", "127.0.0.1"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp v6 ::1 vs v4 0.0.0.0", types: [T, T], families: [V6, V4], addrs: ["::1", "0.0.0.0"], expected: [0, 0, 0] },
  { what: "tcp v6 ::1 vs v6 ::", types: [T, T], families: [V6, V6], addrs: ["::1", "::"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp v6 ::ffff:127.0.0.1 vs v4 127.0.0.1", types: [T, T], families: [V6, V4], addrs: ["::ffff:127.0.0.1", "127.0.0.1"], expected: ["EADDRINUSE", 0, 0] },
  { what: "tcp v4 0.0.0.0 vs v6 ::ffff:127.0.0.1", types: [T, T], families: [V4, V6], addrs: ["0.0.0.0", "::ffff:127.0.0.1"], expected: ["EADDRINUSE", 0, 0] },
  { what: "udp v4 127.0.0.1 vs v6 ::", types: [U, U], families: [V4, V6], addrs: ["127.0.0.1", "::"], expected: ["EADDRINUSE"] },
];

describe("sharing a port (inet_csk_bind_conflict, udp_lib_lport_inuse)", () => {
  test.each(pairCases.map((c) => [c.what, c] as const))("%s", (_what, c) => {
    const e = new Env();
    const fds = [0, 1].map((i) => e.socket(c.families[i], c.types[i]));
    [0, 1].forEach((i) => {
      const o = c.opts?.[i] ?? 0;
      if (o & 1) expect(e.seti(fds[i], SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
      if (o & 2) expect(e.seti(fds[i], SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
      if (o & 4) expect(e.seti(fds[i], IPPROTO_IPV6, IPV6_V6ONLY, 1)).toBe(0);
    });
    const bindAt = (i: number, port: number) =>
      c.families[i] === V4 ? e.bind4(fds[i], c.addrs[i], port) : e.bind6(fds[i], c.addrs[i], port);
    expect(bindAt(0, 0)).toBe(0);
    if (c.firstListens) expect(e.listen(fds[0], 1)).toBe(0);
    const results: Array<string | number> = [bindAt(1, e.port(fds[0]))];
    if (c.types[1] === T) results.push(e.listen(fds[1], 1));
    if (c.types[0] === T && !c.firstListens) results.push(e.listen(fds[0], 1));
    expect(results).toEqual(c.expected);
  });
});

// --- bind(2), IPv6 ---------------------------------------------------------------------------

describe("bind (AF_INET6)", () => {
  test("addrlen: 23 is EINVAL, RFC 2133's 24 is enough", () => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.f.ret(net.bind, fd, e.sin6("::1", 0), 23)).toBe("EINVAL");
    expect(e.f.ret(net.bind, fd, e.sin6("::1", 0), 24)).toBe(0);
  });

  test("family: anything but AF_INET6 is EAFNOSUPPORT, AF_UNSPEC included", () => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.f.ret(net.bind, fd, e.sin6("::", 0, 0, AF_INET), 28)).toBe("EAFNOSUPPORT");
    expect(e.f.ret(net.bind, fd, e.sin6("::", 0, 0, AF_UNSPEC), 28)).toBe("EAFNOSUPPORT");
  });

  test.each([
    // address, TCP result, UDP result, getsockname address after a TCP bind, IPV6_V6ONLY after
    ["::", 0, 0, "::", 0],
    ["::1", 0, 0, "::1", 1],
    ["::ffff:127.0.0.1", 0, 0, "::ffff:127.0.0.1", 0],
    ["::ffff:0.0.0.0", 0, 0, "::ffff:0.0.0.0", 0],
    ["::ffff:192.0.2.1", "EADDRNOTAVAIL", "EADDRNOTAVAIL", "::", 0],
    ["2001:db8::1", "EADDRNOTAVAIL", "EADDRNOTAVAIL", "::", 0],
    ["::127.0.0.1", "EADDRNOTAVAIL", "EADDRNOTAVAIL", "::", 0],
    ["fe80::1", "EINVAL", "EINVAL", "::", 0],
    ["ff02::1", "EINVAL", "EINVAL", "::", 0],
  ] as const)("%s", (ip, tcpExpected, udpExpected, nameAfter, v6only) => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.bind6(fd, ip, 0)).toBe(tcpExpected);
    const { len, bytes } = e.name(fd);
    expect(len).toBe(28);
    expect(bytes.subarray(8, 24)).toEqual(ipv6(nameAfter));
    expect(e.geti(fd, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(v6only);
    expect(e.bind6(e.socket(AF_INET6, SOCK_DGRAM), ip, 0)).toBe(udpExpected);
  });

  test("scope ids: lo (1) has no link-local address, other interfaces do not exist", () => {
    const e = new Env();
    expect(e.bind6(e.socket(AF_INET6, SOCK_STREAM), "fe80::1", 0, 1)).toBe("EADDRNOTAVAIL");
    expect(e.bind6(e.socket(AF_INET6, SOCK_STREAM), "fe80::1", 0, 9999)).toBe("ENODEV");
    // A link-scoped multicast group on lo is fine for UDP.
    expect(e.bind6(e.socket(AF_INET6, SOCK_DGRAM), "ff02::1", 0, 1)).toBe(0);
  });

  test("a v4-mapped address on a v6-only socket is EINVAL", () => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.seti(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)).toBe(0);
    expect(e.bind6(fd, "::ffff:127.0.0.1", 0)).toBe("EINVAL");
  });

  test("a failed bind to a specific address leaves IPV6_V6ONLY as it was", () => {
    const e = new Env();
    expect(e.bind6(e.socket(AF_INET6, SOCK_STREAM), "::1", 40000)).toBe(0);
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.bind6(fd, "::1", 40000)).toBe("EADDRINUSE");
    expect(e.geti(fd, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0);
    expect(e.name(fd).bytes.subarray(8, 24)).toEqual(new Uint8Array(16));
  });

  test("IPv6 checks a second bind before the address", () => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.bind6(fd, "::1", 0)).toBe(0);
    expect(e.bind6(fd, "2001:db8::1", 0)).toBe("EINVAL");
  });

  test("unprivileged: EACCES comes before the address check in IPv6", () => {
    const e = new Env({ uid: 1000 });
    expect(e.bind6(e.socket(AF_INET6, SOCK_STREAM), "2001:db8::1", 80)).toBe("EACCES");
  });
});

// --- listen(2) -------------------------------------------------------------------------------

describe("listen", () => {
  test("EBADF, then ENOTSOCK", () => {
    const e = new Env();
    e.t.fds.install(new PlainFile(O_RDWR));
    expect(e.listen(999, 1)).toBe("EBADF");
    expect(e.listen(-1, 1)).toBe("EBADF");
    expect(e.listen(0, 1)).toBe("ENOTSOCK");
  });

  test.each([
    ["udp", AF_INET, SOCK_DGRAM],
    ["udp6", AF_INET6, SOCK_DGRAM],
    ["unix dgram", AF_UNIX, SOCK_DGRAM],
  ])("%s: EOPNOTSUPP", (_what, family, type) => {
    const e = new Env();
    expect(e.listen(e.socket(family, type), 1)).toBe("EOPNOTSUPP");
  });

  test.each([
    [-1, 4096],
    [10, 10],
    [0, 0],
    [4096, 4096],
    [4097, 4096],
    [0x7fffffff, 4096],
  ])("backlog %d is stored as %d (clamped to somaxconn as unsigned)", (backlog, stored) => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(fd, backlog)).toBe(0);
    expect(e.sock(fd).backlog).toBe(stored);
  });

  test("the clamp follows the somaxconn sysctl", () => {
    const e = new Env();
    netOf(e.t).sysctl.somaxconn = 128;
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(fd, 1000)).toBe(0);
    expect(e.sock(fd).backlog).toBe(128);
  });

  test("an unbound TCP socket autobinds to 0.0.0.0 and an ephemeral port", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(fd, -1)).toBe(0);
    const { len, bytes } = e.name(fd);
    expect(len).toBe(16);
    expect(Array.from(bytes.subarray(4, 8))).toEqual([0, 0, 0, 0]);
    expect(e.port(fd)).toBeGreaterThanOrEqual(32768);
    expect(e.port(fd)).toBeLessThanOrEqual(60999);
    expect(netOf(e.t).tcpPorts.owners(e.port(fd)).has(e.inet(fd))).toBe(true);
    expect(e.geti(fd, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
  });

  test("an unbound TCP6 socket autobinds to ::", () => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.listen(fd, 1)).toBe(0);
    const { len, bytes } = e.name(fd);
    expect(len).toBe(28);
    expect(bytes.subarray(8, 24)).toEqual(new Uint8Array(16));
    expect(e.port(fd)).not.toBe(0);
  });

  test("fixtures/listen.c: two SO_REUSEADDR sockets on one port; once one listens the other cannot", () => {
    const e = new Env();
    const a = e.socket(AF_INET, SOCK_STREAM), b = e.socket(AF_INET, SOCK_STREAM);
    expect(e.seti(a, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
    expect(e.seti(b, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
    expect(e.bind4(a, "127.0.0.1", 0)).toBe(0);
    expect(e.bind4(b, "127.0.0.1", e.port(a))).toBe(0);
    expect(e.listen(a, 1)).toBe(0);
    expect(e.listen(b, 3)).toBe("EADDRINUSE");
    expect(e.sock(b).state).toBe("CLOSE");
    expect(e.sock(b).backlog).toBe(3); // Linux stores the backlog before the port check fails
    expect(e.inet(b).num).toBe(e.port(a)); // still bound
    expect(e.listen(a, 5)).toBe(0); // listening again only updates the backlog
    expect(e.sock(a).backlog).toBe(5);
    expect(e.close(b)).toBe(0);
    expect(e.close(a)).toBe(0);
    expect(netOf(e.t).tcpPorts.size).toBe(0);
    expect(e.listen(a, 1)).toBe("EBADF");
  });

  test("a connected stream socket cannot listen", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    e.sock(fd).sockState = "CONNECTED";
    expect(e.listen(fd, 1)).toBe("EINVAL");
  });

  test("an explicitly bound listener keeps its port when shut down; an autobound one gives it back", () => {
    const e = new Env();
    const auto = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(auto, 1)).toBe(0);
    const autoPort = e.port(auto);
    expect(e.f.ret(net.shutdown, auto, SHUT_WR)).toBe(0); // SHUT_WR leaves a listener alone
    expect(e.geti(auto, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
    expect(e.f.ret(net.shutdown, auto, SHUT_RD)).toBe(0);
    expect(e.geti(auto, SOL_SOCKET, SO_ACCEPTCONN)).toBe(0);
    expect(e.port(auto)).toBe(autoPort); // inet_sport stays, the binding does not
    expect(e.bind4(e.socket(AF_INET, SOCK_STREAM), "0.0.0.0", autoPort)).toBe(0);
    expect(e.listen(auto, 1)).toBe(0);
    expect(e.port(auto)).not.toBe(autoPort);

    const named = e.socket(AF_INET, SOCK_STREAM);
    expect(e.bind4(named, "0.0.0.0", 40001)).toBe(0);
    expect(e.listen(named, 1)).toBe(0);
    expect(e.f.ret(net.shutdown, named, SHUT_RDWR)).toBe(0);
    expect(e.bind4(e.socket(AF_INET, SOCK_STREAM), "0.0.0.0", 40001)).toBe("EADDRINUSE");
  });

  test("net.ipv4.tcp_fastopen with TFO_SERVER_WO_SOCKOPT1 sizes the fastopen queue on listen", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(fd, 7)).toBe(0);
    expect(e.geti(fd, IPPROTO_TCP, TCP_FASTOPEN)).toBe(0);
    netOf(e.t).sysctl.tcpFastopen = 0x402;
    const fd2 = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(fd2, 7)).toBe(0);
    expect(e.geti(fd2, IPPROTO_TCP, TCP_FASTOPEN)).toBe(7);
  });

  test("AF_UNIX: unbound stream and seqpacket sockets are EINVAL; bound ones listen", () => {
    const e = new Env();
    const s = e.socket(AF_UNIX, SOCK_STREAM), q = e.socket(AF_UNIX, SOCK_SEQPACKET);
    expect(e.listen(s, 1)).toBe("EINVAL");
    expect(e.listen(q, 1)).toBe("EINVAL");
    expect(e.f.ret(net.bind, q, e.sun(""), 2)).toBe(0); // autobind
    expect(e.listen(q, 1)).toBe(0);
    expect(e.f.ret(net.bind, s, e.sun("\0srv"), 6)).toBe(0);
    expect(e.listen(s, -1)).toBe(0);
    expect(e.sock(s).backlog).toBe(4096);
    expect(e.geti(s, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
    expect(e.listen(s, 3)).toBe(0);
    expect(e.sock(s).backlog).toBe(3);
  });
});

// --- names, shutdown --------------------------------------------------------------------------

describe("getsockname / getpeername", () => {
  test("an unbound TCP socket: 0.0.0.0:0, 16 bytes, sin_zero cleared", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    const addr = e.mem.bytes(new Uint8Array(32).fill(0xff)), lenp = e.mem.i32(32);
    expect(e.f.ret(net.getsockname, fd, addr, lenp)).toBe(0);
    expect(e.t.mm.i32(lenp)).toBe(16);
    expect(Array.from(e.t.mm.read(addr, 17))).toEqual([2, 0, ...new Array(14).fill(0), 0xff]);
  });

  test("a short buffer gets a prefix and the full length", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    const addr = e.mem.bytes(new Uint8Array(8).fill(0xee)), lenp = e.mem.i32(4);
    expect(e.f.ret(net.getsockname, fd, addr, lenp)).toBe(0);
    expect(e.t.mm.i32(lenp)).toBe(16);
    expect(Array.from(e.t.mm.read(addr, 5))).toEqual([2, 0, 0, 0, 0xee]);
  });

  test("*addrlen -1 is EINVAL; 0 copies nothing (a bad buffer is fine); a bad addrlen pointer is EFAULT", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.f.ret(net.getsockname, fd, e.mem.alloc(16), e.mem.i32(-1))).toBe("EINVAL");
    const lenp = e.mem.i32(0);
    expect(e.f.ret(net.getsockname, fd, UNMAPPED, lenp)).toBe(0);
    expect(e.t.mm.i32(lenp)).toBe(16);
    expect(e.f.ret(net.getsockname, fd, e.mem.alloc(16), UNMAPPED)).toBe("EFAULT");
  });

  test("unbound names of the other kinds", () => {
    const e = new Env();
    expect(e.name(e.socket(AF_INET6, SOCK_DGRAM)).len).toBe(28);
    const u = e.name(e.socket(AF_UNIX, SOCK_STREAM));
    expect([u.r, u.len, Array.from(u.bytes)]).toEqual([0, 2, [1, 0]]);
  });

  test("getpeername: ENOTCONN before *addrlen is read", () => {
    const e = new Env();
    for (const [family, type] of [[AF_INET, SOCK_STREAM], [AF_INET6, SOCK_DGRAM], [AF_UNIX, SOCK_STREAM]]) {
      const fd = e.socket(family, type);
      expect(e.f.ret(net.getpeername, fd, e.mem.alloc(16), e.mem.i32(16))).toBe("ENOTCONN");
      expect(e.f.ret(net.getpeername, fd, e.mem.alloc(16), UNMAPPED)).toBe("ENOTCONN");
    }
    expect(e.f.ret(net.getpeername, 77, 0, 0)).toBe("EBADF");
  });
});

describe("shutdown", () => {
  test("inet: ENOTCONN when unconnected, yet the read side is shut (read sees end-of-file)", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(errName(e.read(fd))).toBe("ENOTCONN");
    expect(e.f.ret(net.shutdown, fd, SHUT_RD)).toBe("ENOTCONN");
    expect(e.read(fd)).toBe(0);
  });

  test.each([3, -1, 0x7fffffff])("inet: how %d is EINVAL", (how) => {
    const e = new Env();
    expect(e.f.ret(net.shutdown, e.socket(AF_INET, SOCK_DGRAM), how)).toBe("EINVAL");
  });

  test("unix: 0 even when unconnected; EINVAL outside SHUT_RD..SHUT_RDWR", () => {
    const e = new Env();
    const fd = e.socket(AF_UNIX, SOCK_STREAM);
    expect(e.f.ret(net.shutdown, fd, SHUT_RDWR)).toBe(0);
    expect(e.f.ret(net.shutdown, fd, 3)).toBe("EINVAL");
    expect(e.f.ret(net.shutdown, fd, -1)).toBe("EINVAL");
    expect(e.f.ret(net.shutdown, e.socket(AF_UNIX, SOCK_DGRAM), SHUT_RD)).toBe(0);
  });

  test("EBADF and ENOTSOCK", () => {
    const e = new Env();
    e.t.fds.install(new PlainFile(O_RDWR));
    expect(e.f.ret(net.shutdown, 5, SHUT_RD)).toBe("EBADF");
    expect(e.f.ret(net.shutdown, 0, SHUT_RD)).toBe("ENOTSOCK");
  });
});

// --- read(2) / write(2) -----------------------------------------------------------------------

describe("read and write before a connection", () => {
  test.each([
    ["tcp", AF_INET, SOCK_STREAM, 0, "ENOTCONN", "EPIPE"],
    ["udp (non-blocking)", AF_INET, SOCK_DGRAM, SOCK_NONBLOCK, "EAGAIN", "EDESTADDRREQ"],
    ["udp6 (non-blocking)", AF_INET6, SOCK_DGRAM, SOCK_NONBLOCK, "EAGAIN", "EDESTADDRREQ"],
    ["unix stream", AF_UNIX, SOCK_STREAM, 0, "EINVAL", "ENOTCONN"],
    ["unix seqpacket", AF_UNIX, SOCK_SEQPACKET, 0, "ENOTCONN", "ENOTCONN"],
    ["unix dgram (non-blocking)", AF_UNIX, SOCK_DGRAM, SOCK_NONBLOCK, "EAGAIN", "ENOTCONN"],
  ])("%s: read, write", (_what, family, type, flags, readErr, writeErr) => {
    const e = new Env();
    const fd = e.socket(family, type | flags);
    expect(errName(e.read(fd))).toBe(readErr);
    expect(errName(e.write(fd))).toBe(writeErr);
    expect(e.read(fd, 0)).toBe(0); // a zero-length read never reaches the socket
  });

  test("a listening TCP socket: read ENOTCONN, write EPIPE", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.listen(fd, 1)).toBe(0);
    expect(errName(e.read(fd))).toBe("ENOTCONN");
    expect(errName(e.write(fd))).toBe("EPIPE");
  });

  test("udp: a datagram over 65535 bytes is EMSGSIZE first over IPv4 only", () => {
    const e = new Env();
    expect(errName(e.write(e.socket(AF_INET, SOCK_DGRAM), 70000))).toBe("EMSGSIZE");
    expect(errName(e.write(e.socket(AF_INET6, SOCK_DGRAM), 70000))).toBe("EDESTADDRREQ");
  });

  test("udp: a pending error is reported once, by the read", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    e.sock(fd).err = new Errno(111, "ECONNREFUSED", "Connection refused");
    expect(errName(e.read(fd))).toBe("ECONNREFUSED");
    expect(errName(e.read(fd))).toBe("EAGAIN");
  });

  test("udp: non-blocking after SHUT_RD is EAGAIN; blocking is end-of-file", () => {
    const e = new Env();
    const nb = e.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    expect(e.f.ret(net.shutdown, nb, SHUT_RDWR)).toBe("ENOTCONN");
    expect(errName(e.read(nb))).toBe("EAGAIN");
    const b = e.socket(AF_INET, SOCK_DGRAM);
    expect(e.f.ret(net.shutdown, b, SHUT_RD)).toBe("ENOTCONN");
    expect(e.read(b)).toBe(0);
  });

  test("udp: a blocking read sleeps, and shutdown wakes it with end-of-file", async () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_DGRAM);
    const r = e.read(fd);
    expect(r).toBeInstanceOf(Block);
    expect(e.sock(fd).readers.size).toBe(1);
    expect(e.f.ret(net.shutdown, fd, SHUT_RD)).toBe("ENOTCONN");
    const block = r as Block;
    await block.wait;
    expect(block.retry()).toBe(0);
    expect(e.sock(fd).readers.size).toBe(0);
  });

  test("udp: SO_RCVTIMEO ends the sleep with EAGAIN", async () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_DGRAM);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(0n, 1000n))).toBe(0); // one jiffy, 4 ms
    const block = e.read(fd) as Block;
    expect(block).toBeInstanceOf(Block);
    await block.wait;
    expect(errName(block.retry())).toBe("EAGAIN");
  });

  test("a negative SO_RCVTIMEO means never block", () => {
    const e = new Env();
    const fd = e.socket(AF_UNIX, SOCK_DGRAM);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(-5n, 0n))).toBe(0);
    expect(errName(e.read(fd))).toBe("EAGAIN");
  });
});

// --- AF_UNIX names ---------------------------------------------------------------------------

describe("AF_UNIX bind", () => {
  test("autobind: a five-hex-digit abstract name, 8 bytes long; again is a no-op", () => {
    const e = new Env();
    const fd = e.socket(AF_UNIX, SOCK_STREAM);
    expect(e.f.ret(net.bind, fd, e.sun(""), 2)).toBe(0);
    const first = e.name(fd);
    expect(first.len).toBe(8);
    expect(first.bytes[2]).toBe(0);
    expect(Buffer.from(first.bytes.subarray(3)).toString("latin1")).toMatch(/^[0-9a-f]{5}$/);
    expect(e.f.ret(net.bind, fd, e.sun(""), 2)).toBe(0);
    expect(e.name(fd).bytes).toEqual(first.bytes);
    expect(e.f.ret(net.bind, fd, e.sun("\0other"), 8)).toBe("EINVAL");
  });

  test("abstract names: EADDRINUSE within a type, free across types, free again after close", () => {
    const e = new Env();
    const a = e.socket(AF_UNIX, SOCK_STREAM), b = e.socket(AF_UNIX, SOCK_STREAM), d = e.socket(AF_UNIX, SOCK_DGRAM);
    expect(e.f.ret(net.bind, a, e.sun("\0syscage-probe"), 16)).toBe(0);
    const { len, bytes } = e.name(a);
    expect(len).toBe(16);
    expect(Buffer.from(bytes.subarray(2)).toString("latin1")).toBe("\0syscage-probe");
    expect(e.f.ret(net.bind, b, e.sun("\0syscage-probe"), 16)).toBe("EADDRINUSE");
    expect(e.f.ret(net.bind, d, e.sun("\0syscage-probe"), 16)).toBe(0);
    expect(e.f.ret(net.bind, b, e.sun("\0syscage-probe"), 15)).toBe(0); // a shorter name is another name
    expect(e.close(a)).toBe(0);
    expect(e.f.ret(net.bind, e.socket(AF_UNIX, SOCK_STREAM), e.sun("\0syscage-probe"), 16)).toBe(0);
  });

  test.each([
    ["addrlen 1", "\0x", AF_UNIX, 1],
    ["addrlen 111", "\0x", AF_UNIX, 111],
    ["family AF_INET", "\0x", AF_INET, 4],
    ["family AF_INET, addrlen 2", "", AF_INET, 2],
  ])("%s: EINVAL", (_what, path, family, len) => {
    const e = new Env();
    expect(e.f.ret(net.bind, e.socket(AF_UNIX, SOCK_STREAM), e.sun(path, family), len)).toBe("EINVAL");
  });

  test("a task without a sandbox filesystem binds paths in the synthetic default root", () => {
    const e = new Env();
    expect(e.f.ret(net.bind, e.socket(AF_UNIX, SOCK_STREAM), e.sun("/tmp/s"), 9)).toBe(0);
    expect(e.f.ret(net.bind, e.socket(AF_UNIX, SOCK_STREAM), e.sun("/tmp/s"), 9)).toBe("EADDRINUSE");
    expect(e.warnings).toEqual([]);
  });
});

// --- socket options ----------------------------------------------------------------------------

describe("SOL_SOCKET options", () => {
  test.each([
    // family, type, SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_SNDBUF, SO_RCVBUF
    ["tcp", AF_INET, SOCK_STREAM, 0, 1, 6, 2, 16384, 131072],
    ["udp", AF_INET, SOCK_DGRAM, 0, 2, 17, 2, 212992, 212992],
    ["unix", AF_UNIX, SOCK_STREAM, 0, 1, 0, 1, 212992, 212992],
    ["tcp6", AF_INET6, SOCK_STREAM, 0, 1, 6, 10, 16384, 131072],
    ["udp6", AF_INET6, SOCK_DGRAM, 0, 2, 17, 10, 212992, 212992],
    ["unix dgram", AF_UNIX, SOCK_DGRAM, 0, 2, 0, 1, 212992, 212992],
    ["unix seqpacket, protocol PF_UNIX", AF_UNIX, SOCK_SEQPACKET, 1, 5, 0, 1, 212992, 212992],
  ])("%s: defaults", (_what, family, type, protocol, soType, soProtocol, soDomain, sndbuf, rcvbuf) => {
    const e = new Env();
    const fd = e.socket(family, type, protocol);
    const get = (opt: number) => e.geti(fd, SOL_SOCKET, opt);
    expect([SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_ERROR, SO_SNDBUF, SO_RCVBUF].map(get))
      .toEqual([soType, soProtocol, soDomain, 0, sndbuf, rcvbuf]);
    expect([SO_REUSEADDR, SO_KEEPALIVE, SO_ACCEPTCONN, SO_REUSEPORT].map(get)).toEqual([0, 0, 0, 0]);
  });

  test("flags read back as 0/1", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.seti(fd, SOL_SOCKET, SO_REUSEADDR, 5)).toBe(0);
    expect(e.geti(fd, SOL_SOCKET, SO_REUSEADDR)).toBe(1);
    expect(e.seti(fd, SOL_SOCKET, SO_KEEPALIVE, 7)).toBe(0);
    expect(e.geti(fd, SOL_SOCKET, SO_KEEPALIVE)).toBe(1);
    expect(e.seti(fd, SOL_SOCKET, SO_KEEPALIVE, 0)).toBe(0);
    expect(e.geti(fd, SOL_SOCKET, SO_KEEPALIVE)).toBe(0);
  });

  test("optlen: under an int is EINVAL, negative is EINVAL, longer is fine; a bad pointer is EFAULT", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.seti(fd, SOL_SOCKET, SO_REUSEADDR, 1, 3)).toBe("EINVAL");
    expect(e.seti(fd, SOL_SOCKET, SO_REUSEADDR, 1, -1)).toBe("EINVAL");
    expect(e.seti(fd, SOL_SOCKET, SO_REUSEADDR, 1, 100)).toBe(0);
    expect(e.f.ret(net.setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, UNMAPPED, 4)).toBe("EFAULT");
  });

  test("read-only and unknown options: ENOPROTOOPT; a Linux option syscage lacks also warns once", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    for (const opt of [SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_ERROR, SO_ACCEPTCONN, 999]) {
      expect(e.seti(fd, SOL_SOCKET, opt, 1)).toBe("ENOPROTOOPT");
    }
    expect(e.warnings).toEqual([]);
    expect(e.setRaw(fd, SOL_SOCKET, 25 /* SO_BINDTODEVICE */, Buffer.from("lo"))).toBe("ENOPROTOOPT"); // no int-length check
    expect(e.geti(fd, SOL_SOCKET, 25)).toBe("ENOPROTOOPT");
    expect(e.warnings).toEqual(["syscage: socket option SOL_SOCKET 25 is not implemented"]);
  });

  test("SO_REUSEPORT is for inet sockets only", () => {
    const e = new Env();
    const fd = e.socket(AF_UNIX, SOCK_STREAM);
    expect(e.seti(fd, SOL_SOCKET, SO_REUSEPORT, 1)).toBe("EOPNOTSUPP");
    expect(e.seti(fd, SOL_SOCKET, SO_REUSEPORT, 0)).toBe(0);
    expect(e.seti(e.socket(AF_INET6, SOCK_DGRAM), SOL_SOCKET, SO_REUSEPORT, 1)).toBe(0);
  });

  test.each([
    [0, 4608, 2304],
    [1000, 4608, 2304],
    [5000, 10000, 10000],
    [1 << 20, 425984, 425984],
    [-1, 425984, 425984],
    [0x40000000, 425984, 425984],
  ])("SO_SNDBUF / SO_RCVBUF %d: doubled, floored, capped by {w,r}mem_max", (v, snd, rcv) => {
    const e = new Env();
    for (const fd of [e.socket(AF_INET, SOCK_STREAM), e.socket(AF_UNIX, SOCK_STREAM)]) {
      expect(e.seti(fd, SOL_SOCKET, SO_SNDBUF, v)).toBe(0);
      expect(e.seti(fd, SOL_SOCKET, SO_RCVBUF, v)).toBe(0);
      expect([e.geti(fd, SOL_SOCKET, SO_SNDBUF), e.geti(fd, SOL_SOCKET, SO_RCVBUF)]).toEqual([snd, rcv]);
    }
  });

  test("SO_LINGER", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    const linger = () => { const g = e.getRaw(fd, SOL_SOCKET, SO_LINGER, 8); return [g.r, g.len, ...readI32s(g.bytes, 2)]; };
    expect(linger()).toEqual([0, 8, 0, 0]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_LINGER, i32s(1, 5))).toBe(0);
    expect(linger()).toEqual([0, 8, 1, 5]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_LINGER, i32s(0, 9))).toBe(0);
    expect(linger()).toEqual([0, 8, 0, 5]); // turning it off keeps the old time
    expect(e.setRaw(fd, SOL_SOCKET, SO_LINGER, i32s(1, 5), 4)).toBe("EINVAL");
    expect(e.setRaw(fd, SOL_SOCKET, SO_LINGER, i32s(1, -1))).toBe(0);
    expect(linger()).toEqual([0, 8, 1, -1752346657]); // MAX_SCHEDULE_TIMEOUT / HZ, truncated to an int
    const short = e.getRaw(fd, SOL_SOCKET, SO_LINGER, 4);
    expect([short.r, short.len, ...readI32s(short.bytes, 2)]).toEqual([0, 4, 1, -286331154 /* 0xeeeeeeee */]);
  });

  test("SO_RCVTIMEO / SO_SNDTIMEO (64-bit struct timeval): kept in jiffies of HZ 250", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    const get = (opt: number) => { const g = e.getRaw(fd, SOL_SOCKET, opt, 32); return [g.r, g.len, ...readI64s(g.bytes, 2)]; };
    expect(get(SO_RCVTIMEO_OLD)).toEqual([0, 16, 0n, 0n]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(1n, 1000n))).toBe(0);
    expect(get(SO_RCVTIMEO_OLD)).toEqual([0, 16, 1n, 4000n]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_SNDTIMEO_OLD, i64s(0n, 1n))).toBe(0);
    expect(get(SO_SNDTIMEO_OLD)).toEqual([0, 16, 0n, 4000n]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(0n, 1000000n))).toBe("EDOM");
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(0n, -1n))).toBe("EDOM");
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(-5n, 0n))).toBe(0);
    expect(get(SO_RCVTIMEO_OLD)).toEqual([0, 16, 0n, 0n]);
    expect(e.sock(fd).rcvtimeo).toBe(0n);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(1n, 0n), 15)).toBe("EINVAL");
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i64s(1n, 0n), 3)).toBe("EINVAL");
    const short = e.getRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, 3);
    expect([short.r, short.len]).toEqual([0, 3]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_NEW, i64s(2n, 500000n))).toBe(0);
    expect(get(SO_RCVTIMEO_NEW)).toEqual([0, 16, 2n, 500000n]);
    expect(get(SO_RCVTIMEO_OLD)).toEqual([0, 16, 2n, 500000n]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_NEW, i64s(2n, 0n), 8)).toBe("EINVAL");
  });

  test("SO_RCVTIMEO on i386: the old option is a 32-bit struct timeval, the new one stays 64-bit", () => {
    const e = new Env({ wordSize: 4 });
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i32s(1, 1000))).toBe(0);
    const old = e.getRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, 32);
    expect([old.r, old.len, ...readI32s(old.bytes, 3)]).toEqual([0, 8, 1, 4000, -286331154]);
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, i32s(1, 1000), 7)).toBe("EINVAL");
    expect(e.setRaw(fd, SOL_SOCKET, SO_RCVTIMEO_NEW, i64s(2n, 500000n))).toBe(0);
    const neu = e.getRaw(fd, SOL_SOCKET, SO_RCVTIMEO_NEW, 32);
    expect([neu.r, neu.len, ...readI64s(neu.bytes, 2)]).toEqual([0, 16, 2n, 500000n]);
  });

  test("getsockopt lengths: truncation, oversize, negative, zero, bad pointers", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    const two = e.getRaw(fd, SOL_SOCKET, SO_TYPE, 2);
    expect([two.r, two.len, ...two.bytes.subarray(0, 4)]).toEqual([0, 2, 1, 0, 0xee, 0xee]);
    const big = e.getRaw(fd, SOL_SOCKET, SO_TYPE, 100);
    expect([big.r, big.len]).toEqual([0, 4]);
    expect(e.getRaw(fd, SOL_SOCKET, SO_TYPE, -1).r).toBe("EINVAL");
    expect(e.getRaw(fd, SOL_SOCKET, 999, -1).r).toBe("EINVAL"); // the length is checked before the option
    expect(e.getRaw(fd, SOL_SOCKET, 999, 4).r).toBe("ENOPROTOOPT");
    const lenp = e.mem.i32(0);
    expect(e.f.ret(net.getsockopt, fd, SOL_SOCKET, SO_TYPE, UNMAPPED, lenp)).toBe(0);
    expect(e.t.mm.i32(lenp)).toBe(0);
    expect(e.f.ret(net.getsockopt, fd, SOL_SOCKET, SO_TYPE, e.mem.alloc(4), UNMAPPED)).toBe("EFAULT");
  });

  test("SO_ERROR reports a pending error once", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    e.sock(fd).err = new Errno(111, "ECONNREFUSED", "Connection refused");
    expect(e.geti(fd, SOL_SOCKET, SO_ERROR)).toBe(111);
    expect(e.geti(fd, SOL_SOCKET, SO_ERROR)).toBe(0);
  });
});

describe("protocol options", () => {
  test("TCP_NODELAY", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.geti(fd, IPPROTO_TCP, TCP_NODELAY)).toBe(0);
    expect(e.seti(fd, IPPROTO_TCP, TCP_NODELAY, 9)).toBe(0);
    expect(e.geti(fd, IPPROTO_TCP, TCP_NODELAY)).toBe(1);
    expect(e.seti(fd, IPPROTO_TCP, TCP_NODELAY, 1, 3)).toBe("EINVAL");
    expect(e.getRaw(fd, IPPROTO_TCP, TCP_NODELAY, -1).r).toBe("EINVAL");
    const two = e.getRaw(fd, IPPROTO_TCP, TCP_NODELAY, 2);
    expect([two.r, two.len, ...two.bytes.subarray(0, 4)]).toEqual([0, 2, 1, 0, 0xee, 0xee]);
    expect(e.seti(e.socket(AF_INET6, SOCK_STREAM), IPPROTO_TCP, TCP_NODELAY, 1)).toBe(0);
  });

  test("TCP_FASTOPEN: a queue length, capped by somaxconn; negative is EINVAL", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.geti(fd, IPPROTO_TCP, TCP_FASTOPEN)).toBe(0);
    expect(e.seti(fd, IPPROTO_TCP, TCP_FASTOPEN, 5)).toBe(0);
    expect(e.geti(fd, IPPROTO_TCP, TCP_FASTOPEN)).toBe(5);
    expect(e.seti(fd, IPPROTO_TCP, TCP_FASTOPEN, 100000)).toBe(0);
    expect(e.geti(fd, IPPROTO_TCP, TCP_FASTOPEN)).toBe(4096);
    expect(e.seti(fd, IPPROTO_TCP, TCP_FASTOPEN, -1)).toBe("EINVAL");
    expect(e.listen(fd, 1)).toBe(0);
    expect(e.seti(fd, IPPROTO_TCP, TCP_FASTOPEN, 7)).toBe(0);
    expect(e.geti(fd, IPPROTO_TCP, TCP_FASTOPEN)).toBe(7);
  });

  test("TCP_KEEPIDLE: the sysctl until set; 1..32767", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.geti(fd, IPPROTO_TCP, TCP_KEEPIDLE)).toBe(7200);
    expect(e.seti(fd, IPPROTO_TCP, TCP_KEEPIDLE, 0)).toBe("EINVAL");
    expect(e.seti(fd, IPPROTO_TCP, TCP_KEEPIDLE, 32768)).toBe("EINVAL");
    expect(e.seti(fd, IPPROTO_TCP, TCP_KEEPIDLE, 60)).toBe(0);
    expect(e.geti(fd, IPPROTO_TCP, TCP_KEEPIDLE)).toBe(60);
  });

  test("unknown TCP options: ENOPROTOOPT; TCP_CONGESTION is a string, so no int-length check", () => {
    const e = new Env();
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.seti(fd, IPPROTO_TCP, 999, 1)).toBe("ENOPROTOOPT");
    expect(e.geti(fd, IPPROTO_TCP, 999)).toBe("ENOPROTOOPT");
    expect(e.warnings).toEqual([]);
    expect(e.setRaw(fd, IPPROTO_TCP, 13, Buffer.from("bbr"))).toBe("ENOPROTOOPT");
    expect(e.warnings).toEqual(["syscage: socket option SOL_TCP 13 is not implemented"]);
  });

  test.each([
    // socket, level, set result, get result
    ["udp", AF_INET, SOCK_DGRAM, IPPROTO_TCP, "ENOPROTOOPT", "EOPNOTSUPP"],
    ["unix", AF_UNIX, SOCK_STREAM, IPPROTO_TCP, "EOPNOTSUPP", "EOPNOTSUPP"],
    ["tcp4 at IPPROTO_IPV6", AF_INET, SOCK_STREAM, IPPROTO_IPV6, "ENOPROTOOPT", "EOPNOTSUPP"],
    ["tcp level 999", AF_INET, SOCK_STREAM, 999, "ENOPROTOOPT", "EOPNOTSUPP"],
    ["tcp6 level 999", AF_INET6, SOCK_STREAM, 999, "ENOPROTOOPT", "ENOPROTOOPT"],
    ["udp6 level 999", AF_INET6, SOCK_DGRAM, 999, "ENOPROTOOPT", "ENOPROTOOPT"],
    ["udp level 999", AF_INET, SOCK_DGRAM, 999, "ENOPROTOOPT", "EOPNOTSUPP"],
    ["tcp6 IPV6 option 999", AF_INET6, SOCK_STREAM, IPPROTO_IPV6, "ENOPROTOOPT", "ENOPROTOOPT"],
  ])("%s: setsockopt and getsockopt refuse", (_what, family, type, level, setExpected, getExpected) => {
    const e = new Env();
    const fd = e.socket(family, type);
    const opt = level === IPPROTO_IPV6 && family === AF_INET6 ? 999 : level === IPPROTO_IPV6 ? IPV6_V6ONLY : 1;
    expect(e.seti(fd, level, opt, 1)).toBe(setExpected);
    expect(e.geti(fd, level, opt)).toBe(getExpected);
  });

  test("SOL_IP options syscage lacks warn", () => {
    const e = new Env();
    expect(e.seti(e.socket(AF_INET6, SOCK_DGRAM), SOL_IP, 1 /* IP_TOS */, 16)).toBe("ENOPROTOOPT");
    expect(e.warnings).toEqual(["syscage: socket option SOL_IP 1 is not implemented"]);
  });

  test("IPV6_V6ONLY", () => {
    const e = new Env();
    const fd = e.socket(AF_INET6, SOCK_STREAM);
    expect(e.geti(fd, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0);
    expect(e.seti(fd, IPPROTO_IPV6, IPV6_V6ONLY, 2)).toBe(0);
    expect(e.geti(fd, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(1);
    expect(e.seti(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, 3)).toBe("EINVAL");
    const neg = e.getRaw(fd, IPPROTO_IPV6, IPV6_V6ONLY, -1); // min_t(unsigned int, ...): -1 reads as huge
    expect([neg.r, neg.len, ...readI32s(neg.bytes, 1)]).toEqual([0, 4, 1]);
    expect(e.bind6(fd, "::1", 0)).toBe(0);
    expect(e.seti(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0)).toBe("EINVAL");
    netOf(e.t).sysctl.bindv6only = 1;
    expect(e.geti(e.socket(AF_INET6, SOCK_DGRAM), IPPROTO_IPV6, IPV6_V6ONLY)).toBe(1);
  });
});

// --- i386 socketcall(2) ------------------------------------------------------------------------

describe("socketcall (i386)", () => {
  /** The argument words of a sub-call, in guest memory. */
  const words = (e: Env, ...v: number[]) => e.mem.bytes(i32s(...v));

  test.each([0, 21, -1])("call %d: EINVAL", (call) => {
    const e = new Env({ wordSize: 4 });
    expect(e.f.ret(net.socketcall, call, words(e, AF_INET, SOCK_STREAM, 0))).toBe("EINVAL");
  });

  test("an unreadable argument array: EFAULT", () => {
    const e = new Env({ wordSize: 4 });
    expect(e.f.ret(net.socketcall, 1, UNMAPPED)).toBe("EFAULT");
  });

  test("SYS_SOCKET, SYS_SETSOCKOPT, SYS_LISTEN, SYS_GETSOCKOPT reach the same handlers", () => {
    const e = new Env({ wordSize: 4 });
    const fd = e.f.ret(net.socketcall, 1, words(e, AF_INET, SOCK_STREAM, 0));
    expect(fd).toBe(0);
    expect(e.f.ret(net.socketcall, 14, words(e, 0, SOL_SOCKET, SO_REUSEADDR, e.mem.i32(1), 4))).toBe(0);
    expect(e.sock(0).reuse).toBe(true);
    expect(e.f.ret(net.socketcall, 4, words(e, 0, 7))).toBe(0);
    expect(e.sock(0).backlog).toBe(7);
    expect(e.f.ret(net.socketcall, 4, words(e, 0, -1))).toBe(0);
    expect(e.sock(0).backlog).toBe(4096);
    const val = e.mem.i32(-1), lenp = e.mem.i32(4);
    expect(e.f.ret(net.socketcall, 15, words(e, 0, SOL_SOCKET, SO_ACCEPTCONN, val, lenp))).toBe(0);
    expect([e.t.mm.i32(val), e.t.mm.i32(lenp)]).toEqual([1, 4]);
    expect(e.f.ret(net.socketcall, 4, words(e, 999, 1))).toBe("EBADF");
  });

  test("only the sub-call's own words are read", () => {
    const e = new Env({ wordSize: 4 });
    e.socket(AF_INET, SOCK_STREAM);
    const lastTwoWords = SCRATCH + SCRATCH_SIZE - 8;
    e.t.mm.write(lastTwoWords, i32s(0, 3));
    expect(e.f.ret(net.socketcall, 4, lastTwoWords)).toBe(0); // listen: 2 words
    expect(e.f.ret(net.socketcall, 1, lastTwoWords)).toBe("EFAULT"); // socket: 3 words
  });

  test("every sub-call is served: SYS_CONNECT reaches connect (EBADF, then ECONNREFUSED)", () => {
    const e = new Env({ wordSize: 4 });
    expect(e.f.ret(net.socketcall, 3, words(e, 5, 0, 0))).toBe("EBADF");
    const fd = e.socket(AF_INET, SOCK_STREAM);
    expect(e.f.ret(net.socketcall, 3, words(e, fd, e.sin("127.0.0.1", 9), 16))).toBe("ECONNREFUSED");
    expect(e.warnings).toEqual([]);
  });
});

// --- the fixture, handler by handler ---------------------------------------------------------

describe.each([8, 4] as const)("fixtures/listen.c sequence (word size %d)", (wordSize) => {
  test("matches fixtures/expected/*/listen.stdout", () => {
    const e = new Env({ wordSize });
    e.t.fds.install(new PlainFile(O_RDWR)); // 0
    e.t.fds.install(new PlainFile(O_RDWR)); // 1: stdout, a pipe
    e.t.fds.install(new PlainFile(O_RDWR)); // 2
    const lines: string[] = [];
    const log = (label: string, r: string | number) => lines.push(`${label} = ${typeof r === "string" ? `-1 ${r}` : r}`);
    log("listen(999, 1)", e.listen(999, 1));
    log("listen(1, 1)", e.listen(1, 1));
    const u = e.f.ret(net.socket, AF_INET, SOCK_DGRAM, 0);
    log("socket(AF_INET, SOCK_DGRAM, 0)", u);
    log(`listen(${u}, 1)`, e.listen(Number(u), 1));
    log(`close(${u})`, e.close(Number(u)));
    const a = e.socket(AF_INET, SOCK_STREAM), b = e.socket(AF_INET, SOCK_STREAM);
    log("setsockopt(a)", e.seti(a, SOL_SOCKET, SO_REUSEADDR, 1));
    log("setsockopt(b)", e.seti(b, SOL_SOCKET, SO_REUSEADDR, 1));
    log("bind(a)", e.bind4(a, "127.0.0.1", 0));
    log("bind(b)", e.bind4(b, "127.0.0.1", e.port(a)));
    log("listen(a, 1)", e.listen(a, 1));
    log("listen(b, 1)", e.listen(b, 1));
    log("listen(a, 5)", e.listen(a, 5));
    log("close(b)", e.close(b));
    log("close(a)", e.close(a));
    const c = e.socket(AF_INET, SOCK_STREAM);
    log("bind(c)", e.bind4(c, "127.0.0.1", 0));
    log("listen(c, 1)", e.listen(c, 1));
    log("SO_ACCEPTCONN", e.geti(c, SOL_SOCKET, SO_ACCEPTCONN));
    log("close(c)", e.close(c));
    log("listen(c, 1)", e.listen(c, 1));
    expect([a, b, c]).toEqual([3, 4, 3]);
    expect(lines).toEqual([
      "listen(999, 1) = -1 EBADF",
      "listen(1, 1) = -1 ENOTSOCK",
      "socket(AF_INET, SOCK_DGRAM, 0) = 3",
      "listen(3, 1) = -1 EOPNOTSUPP",
      "close(3) = 0",
      "setsockopt(a) = 0",
      "setsockopt(b) = 0",
      "bind(a) = 0",
      "bind(b) = 0",
      "listen(a, 1) = 0",
      "listen(b, 1) = -1 EADDRINUSE",
      "listen(a, 5) = 0",
      "close(b) = 0",
      "close(a) = 0",
      "bind(c) = 0",
      "listen(c, 1) = 0",
      "SO_ACCEPTCONN = 1",
      "close(c) = 0",
      "listen(c, 1) = -1 EBADF",
    ]);
  });
});

// --- the namespace -----------------------------------------------------------------------------

describe("the network namespace", () => {
  test("one per sandbox: tasks of one kernel share it whatever their ProcessInfo; other sandboxes do not", () => {
    const a = new Env(), b = new Env();
    const kernel = {};
    (a.t as unknown as { kernel: object }).kernel = kernel;
    (b.t as unknown as { kernel: object }).kernel = kernel;
    expect(netOf(a.t)).toBe(netOf(b.t));
    expect(a.bind4(a.socket(AF_INET, SOCK_STREAM), "127.0.0.1", 40000)).toBe(0);
    expect(b.bind4(b.socket(AF_INET, SOCK_STREAM), "127.0.0.1", 40000)).toBe("EADDRINUSE");
    const c = new Env();
    expect(netOf(c.t)).not.toBe(netOf(a.t));
    expect(c.bind4(c.socket(AF_INET, SOCK_STREAM), "127.0.0.1", 40000)).toBe(0);
  });
});
