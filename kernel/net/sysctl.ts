/**
 * The network sysctls one sandbox sees (a Linux network namespace's
 * /proc/sys/net), with the defaults of a fresh namespace. Fields are plain
 * numbers so a /proc/sys writer can set them later.
 */
export class NetSysctl {
  /** net.core.somaxconn: listen(2) clamps its backlog to this (include/net/sock.h SOMAXCONN). */
  somaxconn = 4096;
  /** net.ipv4.ip_local_port_range: where bind(port 0) and autobind find ephemeral ports. */
  ipLocalPortRange: [low: number, high: number] = [32768, 60999];
  /** net.ipv4.ip_unprivileged_port_start: binding below it needs CAP_NET_BIND_SERVICE. */
  ipUnprivilegedPortStart = 1024;
  /** net.core.{w,r}mem_{default,max}: socket buffer sizes (SK_WMEM_MAX = SK_RMEM_MAX = 212992). */
  wmemDefault = 212992;
  wmemMax = 212992;
  rmemDefault = 212992;
  rmemMax = 212992;
  /** net.ipv4.tcp_wmem / tcp_rmem [min, default, max]: a TCP socket's initial buffers are the defaults. */
  tcpWmem: [number, number, number] = [4096, 16384, 4194304];
  tcpRmem: [number, number, number] = [4096, 131072, 6291456];
  /** net.ipv4.tcp_fastopen: TFO_CLIENT_ENABLE only, so listeners need the TCP_FASTOPEN option. */
  tcpFastopen = 1;
  /** net.ipv4.tcp_keepalive_{time,intvl,probes}: what TCP_KEEPIDLE/INTVL/CNT report until set. */
  tcpKeepaliveTime = 7200;
  tcpKeepaliveIntvl = 75;
  tcpKeepaliveProbes = 9;
  /** net.ipv6.bindv6only: the IPV6_V6ONLY a new AF_INET6 socket starts with. */
  bindv6only = 0;
}
