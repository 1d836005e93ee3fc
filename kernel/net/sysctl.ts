/**
 * The network sysctls one sandbox sees (a Linux network namespace's
 * /proc/sys/net), with the defaults of a fresh namespace, and their registry:
 * `syscage run --sysctl net.core.somaxconn=128` sets them (docker's
 * spelling), the guest reads them at /proc/sys/net/... and cannot write
 * them, as in a container.
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
  /**
   * net.ipv4.tcp_max_syn_backlog: the SYN (half-open) queue's bound. Shown
   * and settable; loopback handshakes complete at once, so nothing waits in
   * that queue here. The default depends on the machine's memory; this is
   * the reference machine's.
   */
  tcpMaxSynBacklog = 2048;
  /** net.ipv4.tcp_syncookies: SYN cookies when the SYN queue overflows (documented; see tcpMaxSynBacklog). */
  tcpSyncookies = 1;
  /** net.ipv4.tcp_abort_on_overflow: a full accept queue resets a new connection instead of dropping its SYN. */
  tcpAbortOnOverflow = 0;
  /** net.ipv4.tcp_keepalive_{time,intvl,probes}: what TCP_KEEPIDLE/INTVL/CNT report until set. */
  tcpKeepaliveTime = 7200;
  tcpKeepaliveIntvl = 75;
  tcpKeepaliveProbes = 9;
  /** net.ipv6.bindv6only: the IPV6_V6ONLY a new AF_INET6 socket starts with. */
  bindv6only = 0;
  /** net.unix.max_dgram_qlen: datagrams a unix socket queues from senders that are not its peer. */
  unixMaxDgramQlen = 10;
}

type IntField = {
  [K in keyof NetSysctl]: NetSysctl[K] extends number ? K : never;
}[keyof NetSysctl];

/** One sysctl: how /proc/sys shows it and how --sysctl sets it (an error message, or undefined). */
interface Entry {
  read(s: NetSysctl): string;
  write(s: NetSysctl, value: string): string | undefined;
}

const INT_MAX = 2 ** 31 - 1, INT_MIN = -(2 ** 31);

/** proc_dointvec(_minmax): one integer in [min, max]. */
function intEntry(field: IntField, min = INT_MIN, max = INT_MAX): Entry {
  return {
    read: (s) => String(s[field]),
    write: (s, value) => {
      const v = value.trim();
      if (!/^-?\d+$/.test(v)) return "not an integer";
      const n = Number(v);
      if (n < min || n > max) return `out of range [${min}, ${max}]`;
      s[field] = n;
      return undefined;
    },
  };
}

/** A vector of integers shown tab-separated (tcp_rmem, tcp_wmem). */
function triple(field: "tcpRmem" | "tcpWmem"): Entry {
  return {
    read: (s) => s[field].join("\t"),
    write: (s, value) => {
      const parts = value.trim().split(/\s+/);
      if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p))) return "needs three integers";
      s[field] = parts.map(Number) as [number, number, number];
      return undefined;
    },
  };
}

/** The registry, by /proc/sys path below net/ (Linux: net/core/sysctl_net_core.c, net/ipv4/sysctl_net_ipv4.c). */
const ENTRIES: Readonly<Record<string, Entry>> = {
  "net/core/somaxconn": intEntry("somaxconn", 0),
  "net/core/wmem_default": intEntry("wmemDefault", 4608),
  "net/core/wmem_max": intEntry("wmemMax", 4608),
  "net/core/rmem_default": intEntry("rmemDefault", 2304),
  "net/core/rmem_max": intEntry("rmemMax", 2304),
  "net/ipv4/tcp_max_syn_backlog": intEntry("tcpMaxSynBacklog"),
  "net/ipv4/tcp_syncookies": intEntry("tcpSyncookies", 0, 2),
  "net/ipv4/tcp_abort_on_overflow": intEntry("tcpAbortOnOverflow", 0, 1),
  "net/ipv4/tcp_fastopen": intEntry("tcpFastopen"),
  "net/ipv4/tcp_keepalive_time": intEntry("tcpKeepaliveTime", 1),
  "net/ipv4/tcp_keepalive_intvl": intEntry("tcpKeepaliveIntvl", 1),
  "net/ipv4/tcp_keepalive_probes": intEntry("tcpKeepaliveProbes", 1),
  "net/ipv4/tcp_rmem": triple("tcpRmem"),
  "net/ipv4/tcp_wmem": triple("tcpWmem"),
  "net/ipv4/ip_unprivileged_port_start": intEntry("ipUnprivilegedPortStart", 0, 65535),
  "net/ipv4/ip_local_port_range": {
    read: (s) => s.ipLocalPortRange.join("\t"),
    // ipv4_local_port_range: both ends in 1..65535 and low <= high.
    write: (s, value) => {
      const parts = value.trim().split(/\s+/);
      if (parts.length !== 2 || !parts.every((p) => /^\d+$/.test(p))) return "needs two integers";
      const [low, high] = parts.map(Number);
      if (low < 1 || high > 65535 || low > high) return "needs 1 <= low <= high <= 65535";
      s.ipLocalPortRange = [low, high];
      return undefined;
    },
  },
  "net/ipv6/bindv6only": intEntry("bindv6only", 0, 1),
  "net/unix/max_dgram_qlen": intEntry("unixMaxDgramQlen"),
};

/**
 * The namespace's sysctls as /proc/sys files: `path` below /proc/sys
 * ("net/core/somaxconn") and the file's text, newline included. Read-only:
 * a guest writing one gets what an unprivileged container gets.
 */
export function sysctlEntries(sysctl: NetSysctl): Array<{ path: string; read(): string }> {
  return Object.entries(ENTRIES).map(([path, e]) => ({ path, read: () => e.read(sysctl) + "\n" }));
}

/**
 * Apply `name=value` from the command line; `name` in dotted (docker) or
 * slashed form. An error message for an unknown name or a bad value.
 */
export function applySysctl(sysctl: NetSysctl, setting: string): string | undefined {
  const eq = setting.indexOf("=");
  if (eq <= 0) return `--sysctl ${setting}: expected NAME=VALUE`;
  const name = setting.slice(0, eq).trim();
  const path = name.replace(/\./g, "/");
  const entry = ENTRIES[path];
  if (!entry) return `--sysctl ${name}: not a network sysctl syscage has (${Object.keys(ENTRIES).map((p) => p.replace(/\//g, ".")).join(", ")})`;
  const err = entry.write(sysctl, setting.slice(eq + 1));
  return err ? `--sysctl ${name}: ${err}` : undefined;
}

/** Paths of the network sysctls below /proc/sys ("net/core/somaxconn"...). */
export function sysctlPaths(): string[] {
  return Object.keys(ENTRIES);
}

/** One sysctl's value as its /proc/sys file shows it, without the newline. */
export function readSysctl(sysctl: NetSysctl, path: string): string {
  return ENTRIES[path].read(sysctl);
}
