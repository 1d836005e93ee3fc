/**
 * socket(AF_INET / AF_INET6, ...): the protocol switch (Linux's inetsw /
 * inetsw6) and the families' registration.
 */
import { Errno, EACCES, EINVAL, EPERM, EPROTONOSUPPORT, ESOCKTNOSUPPORT } from "../../errno";
import type { Task } from "../../task";
import {
  AF_INET, AF_INET6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IP, IPPROTO_MAX, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_RAW,
  SOCK_STREAM,
} from "../constants";
import { registerFamily } from "../families";
import type { Net } from "../netns";
import { ownerOf, type Socket } from "../socket";
import { TcpSocket } from "./tcp";
import { UdpSocket } from "./udp";

/** One inetsw entry: a type/protocol pair and what creating it does here. IPPROTO_IP is the wildcard. */
interface Protosw {
  type: number;
  protocol: number;
  create: (t: Task, net: Net, family: number, type: number) => Socket | Errno;
}

const tcp: Protosw["create"] = (t, net, family, type) => new TcpSocket(net, ownerOf(t), family, type);
const udp: Protosw["create"] = (t, net, family, type) => new UdpSocket(net, ownerOf(t), family, type);
/** Ping sockets: ping_init_sock refuses groups outside net.ipv4.ping_group_range, which is empty ("1 0") by default. */
const ping: Protosw["create"] = () => EACCES;
/** Raw sockets need CAP_NET_RAW, which the sandbox grants to no one. */
const raw: Protosw["create"] = () => EPERM;

/**
 * Linux's inetsw_array / inetsw6_array in registration order. Not offered:
 * UDP-Lite, MPTCP, SCTP (EPROTONOSUPPORT / ESOCKTNOSUPPORT as on a kernel
 * built without them).
 */
const inetsw: Readonly<Record<number, readonly Protosw[]>> = {
  [AF_INET]: [
    { type: SOCK_STREAM, protocol: IPPROTO_TCP, create: tcp },
    { type: SOCK_DGRAM, protocol: IPPROTO_UDP, create: udp },
    { type: SOCK_DGRAM, protocol: IPPROTO_ICMP, create: ping },
    { type: SOCK_RAW, protocol: IPPROTO_IP, create: raw },
  ],
  [AF_INET6]: [
    { type: SOCK_STREAM, protocol: IPPROTO_TCP, create: tcp },
    { type: SOCK_DGRAM, protocol: IPPROTO_UDP, create: udp },
    { type: SOCK_DGRAM, protocol: IPPROTO_ICMPV6, create: ping },
    { type: SOCK_RAW, protocol: IPPROTO_IP, create: raw },
  ],
};

/**
 * Linux: net/ipv4/af_inet.c inet_create and net/ipv6/af_inet6.c
 * inet6_create. Protocol 0 takes the type's first protocol; a wildcard entry
 * (raw) takes any protocol but 0 — so SOCK_RAW with protocol 0 is
 * EPROTONOSUPPORT, as on Linux.
 */
function inetCreate(t: Task, net: Net, family: number, type: number, protocol: number): Socket | Errno {
  if (protocol < 0 || protocol >= IPPROTO_MAX) return EINVAL;
  let err: Errno | undefined = ESOCKTNOSUPPORT;
  let answer: Protosw | undefined;
  for (const sw of inetsw[family].filter((e) => e.type === type)) {
    err = undefined;
    answer = sw;
    if (protocol === sw.protocol) {
      if (protocol !== IPPROTO_IP) break;
    } else if (protocol === IPPROTO_IP || sw.protocol === IPPROTO_IP) {
      break;
    }
    err = EPROTONOSUPPORT;
  }
  if (err || !answer) return err ?? ESOCKTNOSUPPORT;
  return answer.create(t, net, family, type);
}

registerFamily(AF_INET, (t, net, type, protocol) => inetCreate(t, net, AF_INET, type, protocol));
registerFamily(AF_INET6, (t, net, type, protocol) => inetCreate(t, net, AF_INET6, type, protocol));
