/**
 * SOL_SOCKET options (Linux: net/core/sock.c sk_setsockopt / sk_getsockopt),
 * and the guest-memory conventions every getsockopt level shares.
 */
import { Errno, EDOM, EINVAL, ENOPROTOOPT, EOPNOTSUPP } from "../errno";
import type { SysRet } from "../file";
import type { Task } from "../task";
import {
  SO_ACCEPTCONN, SO_BINDTODEVICE, SO_BROADCAST, SO_DOMAIN, SO_DONTROUTE, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_LINUX_LAST,
  SO_OOBINLINE, SO_PROTOCOL, SO_RCVBUF, SO_RCVTIMEO_NEW, SO_RCVTIMEO_OLD, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF,
  SO_SNDLOWAT, SO_SNDTIMEO_NEW, SO_SNDTIMEO_OLD, SO_TYPE, SO_PASSCRED, SO_PEERCRED,
} from "./constants";
import { HZ, MAX_SCHEDULE_TIMEOUT, SOCK_RCVBUF_LOCK, SOCK_SNDBUF_LOCK, type Socket } from "./socket";

const INT_MAX = 0x7fffffff;
const USEC_PER_SEC = 1000000n;
/**
 * SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF (include/net/sock.h): 2 * TCP_SKB_MIN_TRUESIZE
 * and TCP_SKB_MIN_TRUESIZE, which depend on sizeof(struct sk_buff); these are
 * what a 64-bit Linux 6.x reports for SO_SNDBUF/SO_RCVBUF set to 0.
 */
const SOCK_MIN_SNDBUF = 4608, SOCK_MIN_RCVBUF = 2304;
/**
 * Options Linux defines that are only read, never set: sk_setsockopt's
 * default case answers ENOPROTOOPT for them (SO_PEERCRED, SO_PEERNAME,
 * SO_PEERSEC, SO_MEMINFO, SO_INCOMING_NAPI_ID, SO_COOKIE, SO_PEERGROUPS,
 * SO_NETNS_COOKIE, and the four handled explicitly).
 */
const READ_ONLY = new Set([SO_TYPE, SO_ERROR, 17, SO_SNDLOWAT, 28, SO_ACCEPTCONN, 31, SO_PROTOCOL, SO_DOMAIN, 55, 56, 57, 59, 71]);

/** "in_compat_syscall()": an i386 guest runs as a compat task of the 64-bit kernel. */
export const isCompat = (t: Task): boolean => t.arch.wordSize === 4;

/** ENOPROTOOPT for an option Linux lacks too; a warning as well when Linux has it and syscage does not yet. */
export function unknownOption(t: Task, sock: Socket, level: string, optname: number, linuxHasIt: boolean): Errno {
  if (linuxHasIt) sock.net.warnOnce(t, `socket option ${level} ${optname}`);
  return ENOPROTOOPT;
}

/** Whether an option number is one the installed uapi headers define for a level numbered 1..last. */
export const definedUpTo = (optname: number, last: number): boolean => optname >= 1 && optname <= last;

/** An int option value as getsockopt copies it out. */
export function intBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/**
 * The tail most protocol getsockopts share (do_tcp_getsockopt,
 * do_ipv6_getsockopt): len = min_t(unsigned int, len, sizeof(int)), so a
 * negative len reads as huge; *optlen is written before the value.
 */
export function putIntOption(t: Task, optval: number, optlenPtr: number, len: number, value: number): SysRet {
  const n = Math.min(len >>> 0, 4);
  t.mm.setU32(optlenPtr, n);
  if (n) t.mm.write(optval, intBytes(value).subarray(0, n));
  return 0;
}

/** Implements setsockopt(2) at SOL_SOCKET. Linux: net/core/sock.c sk_setsockopt. */
export function setSocketOption(t: Task, sock: Socket, optname: number, optval: number, optlen: number): SysRet {
  // An interface name, not an int: Linux handles it before the length check.
  if (optname === SO_BINDTODEVICE) return unknownOption(t, sock, "SOL_SOCKET", optname, true);
  if (optlen < 4) return EINVAL;
  const val = t.mm.i32(optval);
  const on = val !== 0;
  const sysctl = sock.net.sysctl;
  switch (optname) {
    case SO_REUSEADDR: sock.reuse = on; return 0;
    case SO_REUSEPORT:
      if (on && !sock.isInet) return EOPNOTSUPP;
      sock.reuseport = on;
      return 0;
    case SO_KEEPALIVE: sock.keepalive = on; return 0;
    case SO_PASSCRED: sock.passcred = on; return 0;
    case SO_BROADCAST: sock.broadcast = on; return 0;
    case SO_DONTROUTE: sock.dontroute = on; return 0;
    case SO_OOBINLINE: sock.oobinline = on; return 0;
    case SO_SNDBUF: {
      // BSD treats the sizes as hints: clamp to wmem_max (comparing as u32, so -1 is huge), then double.
      const v = Math.min(val >>> 0, sysctl.wmemMax, Math.floor(INT_MAX / 2));
      sock.userlocks |= SOCK_SNDBUF_LOCK;
      sock.sndbuf = Math.max(v * 2, SOCK_MIN_SNDBUF);
      return 0;
    }
    case SO_RCVBUF: {
      const v = Math.min(val >>> 0, sysctl.rmemMax, Math.floor(INT_MAX / 2)); // __sock_set_rcvbuf
      sock.userlocks |= SOCK_RCVBUF_LOCK;
      sock.rcvbuf = Math.max(v * 2, SOCK_MIN_RCVBUF);
      return 0;
    }
    case SO_LINGER: {
      if (optlen < 8) return EINVAL; // sizeof(struct linger), "1003.1g"
      const onoff = t.mm.i32(optval), seconds = t.mm.i32(optval + 4);
      if (!onoff) {
        sock.lingerOn = false;
        return 0;
      }
      // l_linger is converted to unsigned long, so a negative value means "forever".
      const sec = BigInt.asUintN(64, BigInt(seconds));
      sock.lingerTime = sec >= MAX_SCHEDULE_TIMEOUT / HZ ? MAX_SCHEDULE_TIMEOUT : sec * HZ;
      sock.lingerOn = true;
      return 0;
    }
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW: {
      const timeo = timeoutIn(t, optval, optlen, optname === SO_RCVTIMEO_OLD || optname === SO_SNDTIMEO_OLD);
      if (timeo instanceof Errno) return timeo;
      if (optname === SO_RCVTIMEO_OLD || optname === SO_RCVTIMEO_NEW) sock.rcvtimeo = timeo;
      else sock.sndtimeo = timeo;
      return 0;
    }
    default:
      if (READ_ONLY.has(optname)) return ENOPROTOOPT;
      return unknownOption(t, sock, "SOL_SOCKET", optname, definedUpTo(optname, SO_LINUX_LAST));
  }
}

/**
 * A struct timeval from the guest, in jiffies. Linux: sock_copy_user_timeval
 * and sock_set_timeout. SO_*TIMEO_OLD is the arch's struct timeval (two
 * 32-bit fields for a compat i386 task), SO_*TIMEO_NEW always two s64.
 */
function timeoutIn(t: Task, optval: number, optlen: number, old: boolean): bigint | Errno {
  let sec: bigint, usec: bigint;
  if (old && isCompat(t)) {
    if (optlen < 8) return EINVAL;
    sec = BigInt(t.mm.i32(optval));
    usec = BigInt(t.mm.i32(optval + 4));
  } else {
    if (optlen < 16) return EINVAL;
    sec = BigInt.asIntN(64, t.mm.u64(optval));
    usec = BigInt.asIntN(64, t.mm.u64(optval + 8));
  }
  if (usec < 0n || usec >= USEC_PER_SEC) return EDOM;
  if (sec < 0n) return 0n; // Linux warns "negative timeout" and makes it non-blocking
  if ((sec === 0n && usec === 0n) || sec >= MAX_SCHEDULE_TIMEOUT / HZ - 1n) return MAX_SCHEDULE_TIMEOUT;
  const perJiffy = USEC_PER_SEC / HZ;
  return sec * HZ + (usec + perJiffy - 1n) / perJiffy;
}

/** A timeout as getsockopt reports it. Linux: sock_get_timeout. */
function timeoutOut(t: Task, timeo: bigint, old: boolean): Uint8Array {
  const forever = timeo === MAX_SCHEDULE_TIMEOUT;
  const sec = forever ? 0n : timeo / HZ;
  const usec = forever ? 0n : ((timeo % HZ) * USEC_PER_SEC) / HZ;
  if (old && isCompat(t)) {
    const b = new Uint8Array(8), d = new DataView(b.buffer);
    d.setInt32(0, Number(BigInt.asIntN(32, sec)), true);
    d.setInt32(4, Number(usec), true);
    return b;
  }
  const b = new Uint8Array(16), d = new DataView(b.buffer);
  d.setBigInt64(0, sec, true);
  d.setBigInt64(8, usec, true);
  return b;
}

/** The value of a SOL_SOCKET option, or ENOPROTOOPT. */
function socketOptionValue(t: Task, sock: Socket, optname: number): Uint8Array | Errno {
  switch (optname) {
    case SO_REUSEADDR: return intBytes(sock.reuse ? 1 : 0);
    case SO_REUSEPORT: return intBytes(sock.reuseport ? 1 : 0);
    case SO_KEEPALIVE: return intBytes(sock.keepalive ? 1 : 0);
    case SO_BROADCAST: return intBytes(sock.broadcast ? 1 : 0);
    case SO_DONTROUTE: return intBytes(sock.dontroute ? 1 : 0);
    case SO_OOBINLINE: return intBytes(sock.oobinline ? 1 : 0);
    case SO_TYPE: return intBytes(sock.type);
    case SO_PROTOCOL: return intBytes(sock.protocol);
    case SO_DOMAIN: return intBytes(sock.family);
    case SO_ERROR: return intBytes(sock.takeError()?.code ?? 0);
    case SO_PASSCRED: return intBytes(sock.passcred ? 1 : 0);
    case SO_PEERCRED: {
      // struct ucred; without a peer Linux shows pid 0 and the overflow ids (cred_to_ucred).
      const c = sock.peerCred() ?? { pid: 0, uid: 65534, gid: 65534 };
      const b = new Uint8Array(12), d = new DataView(b.buffer);
      d.setInt32(0, c.pid, true);
      d.setUint32(4, c.uid, true);
      d.setUint32(8, c.gid, true);
      return b;
    }
    case SO_SNDBUF: return intBytes(sock.sndbuf);
    case SO_RCVBUF: return intBytes(sock.rcvbuf);
    case SO_ACCEPTCONN: return intBytes(sock.state === "LISTEN" ? 1 : 0);
    case SO_SNDLOWAT: return intBytes(1);
    case SO_LINGER: {
      const b = new Uint8Array(8), d = new DataView(b.buffer);
      d.setInt32(0, sock.lingerOn ? 1 : 0, true);
      d.setInt32(4, Number(BigInt.asIntN(32, sock.lingerTime / HZ)), true); // an int field: truncated like Linux's
      return b;
    }
    case SO_RCVTIMEO_OLD: return timeoutOut(t, sock.rcvtimeo, true);
    case SO_RCVTIMEO_NEW: return timeoutOut(t, sock.rcvtimeo, false);
    case SO_SNDTIMEO_OLD: return timeoutOut(t, sock.sndtimeo, true);
    case SO_SNDTIMEO_NEW: return timeoutOut(t, sock.sndtimeo, false);
    default: return unknownOption(t, sock, "SOL_SOCKET", optname, definedUpTo(optname, SO_LINUX_LAST));
  }
}

/**
 * Implements getsockopt(2) at SOL_SOCKET. Linux: sk_getsockopt — *optlen is
 * read first (negative: EINVAL), the value is truncated to it, and *optlen
 * comes back as the length copied.
 */
export function getSocketOption(t: Task, sock: Socket, optname: number, optval: number, optlenPtr: number): SysRet {
  const len = t.mm.i32(optlenPtr);
  if (len < 0) return EINVAL;
  const value = socketOptionValue(t, sock, optname);
  if (value instanceof Errno) return value;
  const n = Math.min(len, value.length);
  if (n) t.mm.write(optval, value.subarray(0, n));
  t.mm.setU32(optlenPtr, n);
  return 0;
}
