/**
 * UDP sockets over IPv4 and IPv6. Datagrams (sendto, recvfrom, connect)
 * come later; an unconnected socket refuses writes and sleeps on reads as
 * Linux's does.
 */
import { Errno, EDESTADDRREQ, EINVAL, EMSGSIZE, EOPNOTSUPP } from "../../errno";
import type { Block, ReadResult, SysRet } from "../../file";
import type { Task } from "../../task";
import { AF_INET, IPPROTO_UDP, RCV_SHUTDOWN, SOL_UDP } from "../constants";
import type { Net, PortTable } from "../netns";
import { unknownOption } from "../sockopt";
import { InetSocket, randomBelow } from "./inet";

/** The largest UDP payload over IPv4 udp_sendmsg accepts (0xFFFF). */
const UDP_MAX_LEN = 0xffff;
/** SOL_UDP options include/uapi/linux/udp.h defines: UDP_CORK, and UDP_ENCAP (100) to UDP_GRO (104). */
const linuxHasUdpOption = (optname: number): boolean => optname === 1 || (optname >= 100 && optname <= 104);

export class UdpSocket extends InetSocket {
  constructor(net: Net, t: Task, family: number, type: number) {
    super(net, t, family, type, IPPROTO_UDP, { sndbuf: net.sysctl.wmemDefault, rcvbuf: net.sysctl.rmemDefault });
  }

  protected override get ports(): PortTable<InetSocket> { return this.net.udpPorts; }
  protected override get protoLevel(): number { return SOL_UDP; }

  /**
   * Linux: udp_lib_lport_inuse — the port is shared only when both sockets
   * set SO_REUSEADDR, or both SO_REUSEPORT with one owner. Listening does not
   * exist for UDP, so the same rule serves named and ephemeral ports.
   */
  protected override conflictsWith(other: InetSocket, _explicit: boolean): boolean {
    if (this.reuse && other.reuse) return false;
    return !(this.reuseport && other.reuseport && this.uid === other.uid);
  }

  /**
   * Linux: udp_lib_get_port picks a random port in ip_local_port_range and
   * walks its hash chain; here, a random start and then every port in turn.
   */
  protected override *ephemeralPorts(t: Task): Iterable<number> {
    const [low, high] = this.net.sysctl.ipLocalPortRange;
    const remaining = high - low + 1;
    const first = randomBelow(t, remaining);
    for (let i = 0; i < remaining; i++) yield low + ((first + i) % remaining);
  }

  /** Datagram sockets do not listen (inet_dgram_ops: sock_no_listen). */
  override listen(_t: Task, _backlog: number): SysRet {
    return EOPNOTSUPP;
  }

  /**
   * read(2): nothing can arrive before sendto exists, so this sleeps until
   * SO_RCVTIMEO or forever. Linux: __skb_recv_udp — a pending error first,
   * EAGAIN when not blocking, end-of-file once shut down for reading.
   */
  override read(t: Task, len: number, nonblock: boolean): ReadResult {
    const err = this.takeError();
    if (err) return err;
    if (!nonblock && this.rcvtimeo !== 0n && this.shutdownMask & RCV_SHUTDOWN) return new Uint8Array(0);
    return this.sleepForData(nonblock, () => this.read(t, len, nonblock));
  }

  /**
   * write(2) on an unconnected socket has no destination. Linux: udp_sendmsg
   * checks the length first (IPv4 only), then EDESTADDRREQ.
   */
  override write(_t: Task, data: Uint8Array, _nonblock: boolean): number | Errno | Block {
    if (this.family === AF_INET && data.length > UDP_MAX_LEN) return EMSGSIZE;
    return EDESTADDRREQ;
  }

  /** Linux: udp_lib_setsockopt — an int is required; no UDP_* option is implemented yet. */
  protected override setProtoOption(t: Task, optname: number, optval: number, optlen: number): SysRet {
    if (optlen < 4) return EINVAL;
    t.mm.i32(optval);
    return unknownOption(t, this, "SOL_UDP", optname, linuxHasUdpOption(optname));
  }

  /** Linux: udp_lib_getsockopt. */
  protected override getProtoOption(t: Task, optname: number, _optval: number, optlenPtr: number): SysRet {
    if (t.mm.i32(optlenPtr) < 0) return EINVAL;
    return unknownOption(t, this, "SOL_UDP", optname, linuxHasUdpOption(optname));
  }
}
