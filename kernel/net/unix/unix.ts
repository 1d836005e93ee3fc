/**
 * AF_UNIX sockets: stream, datagram and seqpacket; abstract names and
 * autobind. Names in the filesystem wait for the filesystem layer, and
 * connections (connect, socketpair, accept) come later.
 */
import { Errno, EADDRINUSE, EINVAL, ENOENT, ENOTCONN, EOPNOTSUPP, EPROTONOSUPPORT, ESOCKTNOSUPPORT } from "../../errno";
import type { Block, ReadResult, SysRet } from "../../file";
import type { Task } from "../../task";
import {
  AF_UNIX, RCV_SHUTDOWN, SHUT_RD, SHUT_RDWR, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOCKADDR_UN_SIZE,
  SUN_PATH_OFFSET,
} from "../constants";
import { registerFamily } from "../families";
import type { Net } from "../netns";
import { familyOf } from "../sockaddr";
import { Socket } from "../socket";

/** Autobind names are "\0" and five hex digits (unix_autobind), so there are 2^20 of them. */
const AUTOBIND_NAMES = 0x100000;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

export class UnixSocket extends Socket {
  /** The bound address: the sockaddr_un bytes getsockname returns, their length the address length. */
  addr: Uint8Array | undefined;

  constructor(net: Net, t: Task, type: number) {
    super(net, t, AF_UNIX, type, 0, { sndbuf: net.sysctl.wmemDefault, rcvbuf: net.sysctl.rmemDefault });
  }

  private get connectionOriented(): boolean {
    return this.type === SOCK_STREAM || this.type === SOCK_SEQPACKET;
  }

  /** Linux hashes abstract names with the socket type: each type has its own. */
  private key(name: Uint8Array): string {
    return `${this.type}:${hex(name)}`;
  }

  /**
   * Implements bind(2) for AF_UNIX. Linux: net/unix/af_unix.c unix_bind —
   * a bare sun_family autobinds; otherwise unix_validate_addr, then an
   * abstract name (leading NUL) or a path.
   */
  override bind(t: Task, addr: Uint8Array, addrlen: number): SysRet {
    if (addrlen === SUN_PATH_OFFSET && familyOf(addr) === AF_UNIX) return this.autobind(t);
    if (addrlen <= SUN_PATH_OFFSET || addrlen > SOCKADDR_UN_SIZE) return EINVAL;
    if (familyOf(addr) !== AF_UNIX) return EINVAL;
    if (addr[SUN_PATH_OFFSET] !== 0) {
      // unix_bind_bsd creates the socket file first, so its errors come before EINVAL for a bound socket.
      this.net.warnOnce(t, "binding AF_UNIX sockets to filesystem paths");
      return ENOENT;
    }
    if (this.addr) return EINVAL; // unix_bind_abstract
    const key = this.key(addr.subarray(SUN_PATH_OFFSET, addrlen));
    if (this.net.unixAbstract.has(key)) return EADDRINUSE;
    this.net.unixAbstract.set(key, this);
    this.addr = addr.slice(0, addrlen);
    return 0;
  }

  /** Linux: unix_autobind — a free "\0xxxxx" name; a bound socket keeps its own. */
  private autobind(t: Task): SysRet {
    if (this.addr) return 0;
    const b = new Uint8Array(4);
    t.proc.random(b);
    const start = new DataView(b.buffer).getUint32(0, true) % AUTOBIND_NAMES;
    for (let i = 0; i < AUTOBIND_NAMES; i++) {
      const name = Buffer.from("\0" + ((start + i) % AUTOBIND_NAMES).toString(16).padStart(5, "0"), "latin1");
      const key = this.key(name);
      if (this.net.unixAbstract.has(key)) continue;
      this.net.unixAbstract.set(key, this);
      this.addr = new Uint8Array(SUN_PATH_OFFSET + name.length);
      new DataView(this.addr.buffer).setUint16(0, AF_UNIX, true);
      this.addr.set(name, SUN_PATH_OFFSET);
      return 0;
    }
    return EADDRINUSE; // Linux reports ENOSPC once every name is taken
  }

  /**
   * Implements listen(2) for AF_UNIX. Linux: unix_listen — only stream and
   * seqpacket sockets listen, and only once bound (no autobind here).
   */
  override listen(_t: Task, backlog: number): SysRet {
    if (!this.connectionOriented) return EOPNOTSUPP;
    if (!this.addr) return EINVAL;
    if (this.state !== "CLOSE" && this.state !== "LISTEN") return EINVAL;
    this.backlog = backlog;
    this.state = "LISTEN";
    return 0;
  }

  /** Linux: unix_getname — an unbound socket's name is the bare family (2 bytes). */
  override getname(peer: boolean): Uint8Array | Errno {
    if (peer) return ENOTCONN;
    if (this.addr) return this.addr.slice();
    return Uint8Array.of(AF_UNIX, 0);
  }

  /** Linux: unix_shutdown — no ENOTCONN for an unconnected socket, unlike inet. */
  override shutdown(how: number): SysRet {
    if (how < SHUT_RD || how > SHUT_RDWR) return EINVAL;
    this.shutdownMask |= how + 1;
    this.readers.wakeAll();
    return 0;
  }

  /**
   * read(2) before a connection. Linux: unix_stream_read_generic (EINVAL),
   * unix_seqpacket_recvmsg (ENOTCONN), and for datagrams a sleep for data.
   */
  override read(t: Task, len: number, nonblock: boolean): ReadResult {
    if (this.type === SOCK_STREAM) return EINVAL;
    if (this.type === SOCK_SEQPACKET) return ENOTCONN;
    const err = this.takeError();
    if (err) return err;
    if (!nonblock && this.rcvtimeo !== 0n && this.shutdownMask & RCV_SHUTDOWN) return new Uint8Array(0);
    return this.sleepForData(nonblock, () => this.read(t, len, nonblock));
  }

  /**
   * write(2) without a peer: ENOTCONN for every type. Linux:
   * unix_stream_sendmsg, unix_seqpacket_sendmsg, unix_dgram_sendmsg.
   */
  override write(_t: Task, _data: Uint8Array, _nonblock: boolean): number | Errno | Block {
    if (this.type === SOCK_SEQPACKET) return this.takeError() ?? ENOTCONN;
    return ENOTCONN;
  }

  override release(): void {
    if (!this.addr || this.addr[SUN_PATH_OFFSET] !== 0) return;
    const key = this.key(this.addr.subarray(SUN_PATH_OFFSET));
    if (this.net.unixAbstract.get(key) === this) this.net.unixAbstract.delete(key);
  }
}

/**
 * Linux: unix_create — protocol 0 or PF_UNIX; SOCK_RAW quietly becomes
 * SOCK_DGRAM ("Believe it or not BSD has AF_UNIX, SOCK_RAW").
 */
function unixCreate(t: Task, net: Net, type: number, protocol: number): Socket | Errno {
  if (protocol && protocol !== AF_UNIX) return EPROTONOSUPPORT;
  switch (type) {
    case SOCK_STREAM:
    case SOCK_SEQPACKET:
    case SOCK_DGRAM:
      return new UnixSocket(net, t, type);
    case SOCK_RAW:
      return new UnixSocket(net, t, SOCK_DGRAM);
    default:
      return ESOCKTNOSUPPORT;
  }
}

registerFamily(AF_UNIX, unixCreate);
