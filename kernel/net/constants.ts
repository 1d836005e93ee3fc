/**
 * Guest socket ABI numbers. The three arches share every value here (each
 * arch's <asm/socket.h> is just `#include <asm-generic/socket.h>`, checked for
 * /usr/include/x86_64-linux-gnu, /usr/i686-linux-gnu and /usr/aarch64-linux-gnu).
 */

// Address families. Kernel: include/linux/socket.h (not in uapi); glibc bits/socket.h carries them.
export const AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;
/** AF_MAX, include/linux/socket.h (glibc bits/socket.h PF_MAX): families from here on are EAFNOSUPPORT first thing. */
export const AF_MAX = 46;

// Socket types and socket() flags: glibc bits/socket_type.h (= include/linux/net.h enum sock_type).
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_RDM = 4, SOCK_SEQPACKET = 5, SOCK_PACKET = 10;
/** include/linux/net.h: SOCK_MAX = SOCK_PACKET + 1, SOCK_TYPE_MASK = 0xf. */
export const SOCK_MAX = 11, SOCK_TYPE_MASK = 0xf;
export const SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;

// Protocols and option levels: include/uapi/linux/in.h (IPPROTO_*), asm-generic/socket.h (SOL_SOCKET).
export const IPPROTO_IP = 0, IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_IPV6 = 41, IPPROTO_ICMPV6 = 58;
/** include/uapi/linux/in.h: one past IPPROTO_MPTCP (262); inet_create rejects protocol >= this with EINVAL. */
export const IPPROTO_MAX = 263;
export const SOL_IP = IPPROTO_IP, SOL_TCP = IPPROTO_TCP, SOL_UDP = IPPROTO_UDP, SOL_IPV6 = IPPROTO_IPV6;
export const SOL_SOCKET = 1;

// SOL_SOCKET options: include/uapi/asm-generic/socket.h.
export const SO_DEBUG = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_DONTROUTE = 5, SO_BROADCAST = 6;
export const SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_OOBINLINE = 10, SO_LINGER = 13, SO_REUSEPORT = 15;
export const SO_SNDLOWAT = 19, SO_BINDTODEVICE = 25, SO_RCVTIMEO_OLD = 20, SO_SNDTIMEO_OLD = 21, SO_ACCEPTCONN = 30;
export const SO_PROTOCOL = 38, SO_DOMAIN = 39, SO_RCVTIMEO_NEW = 66, SO_SNDTIMEO_NEW = 67;
/** The highest SOL_SOCKET option asm-generic/socket.h defines (SO_RCVMARK): below it, unknown means not implemented yet. */
export const SO_LINUX_LAST = 75;

// IPPROTO_TCP options: include/uapi/linux/tcp.h.
export const TCP_NODELAY = 1, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6, TCP_FASTOPEN = 23;
/** The highest option the installed include/uapi/linux/tcp.h defines (TCP_TX_DELAY). */
export const TCP_LINUX_LAST = 37;

// IPPROTO_IPV6 options: include/uapi/linux/in6.h; the highest it defines is IPV6_FREEBIND.
export const IPV6_V6ONLY = 26, IPV6_LINUX_LAST = 78;
/** The highest IPPROTO_IP option include/uapi/linux/in.h defines (IP_PROTOCOL). */
export const IP_LINUX_LAST = 52;

/** shutdown(2) `how`: glibc sys/socket.h; the kernel works with how + 1 as a mask (include/net/sock.h). */
export const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
export const RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;

/** Byte sizes of the address structures: include/uapi/linux/in.h, in6.h, un.h, socket.h. */
export const SOCKADDR_IN_SIZE = 16, SOCKADDR_IN6_SIZE = 28, SIN6_LEN_RFC2133 = 24;
export const SUN_PATH_OFFSET = 2, SOCKADDR_UN_SIZE = 110, SOCKADDR_STORAGE_SIZE = 128;

// send/recv flags: include/linux/socket.h (glibc bits/socket.h), the same on the three arches.
export const MSG_OOB = 0x1, MSG_PEEK = 0x2, MSG_DONTROUTE = 0x4, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80, MSG_WAITALL = 0x100, MSG_ERRQUEUE = 0x2000, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000;
export const MSG_WAITFORONE = 0x10000, MSG_FASTOPEN = 0x20000000, MSG_CMSG_CLOEXEC = 0x40000000;

/** SOL_SOCKET control messages and options (asm-generic/socket.h, linux/socket.h). */
export const SCM_RIGHTS = 1, SCM_CREDENTIALS = 2, SO_PASSCRED = 16, SO_PEERCRED = 17;
/** SCM_MAX_FD (include/net/scm.h): descriptors one SCM_RIGHTS message may carry. */
export const SCM_MAX_FD = 253;

/** TCP_FASTOPEN_CONNECT (include/uapi/linux/tcp.h). */
export const TCP_FASTOPEN_CONNECT = 30;
