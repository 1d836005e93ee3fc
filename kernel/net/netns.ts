/**
 * The network namespace of one sandbox: its sysctls, the ports bound per
 * transport protocol, and the AF_UNIX abstract names. The only interface is
 * loopback (127.0.0.1/8 and ::1), as in a fresh container with lo up.
 *
 * Until Task carries it, the namespace is looked up in a WeakMap and
 * created on first use, keyed by the sandbox's Kernel — shared by every
 * process of the sandbox, whereas fork gives each child its own copy of
 * ProcessInfo. A task no kernel has adopted (unit tests) keys by its
 * ProcessInfo instead.
 */
import type { Task } from "../task";
import type { InetSocket } from "./inet/inet";
import { NetSysctl } from "./sysctl";
import type { UnixSocket } from "./unix/unix";

/** Bound sockets by local port, for one transport protocol (Linux's bind hash). */
export class PortTable<S> {
  private readonly byPort = new Map<number, Set<S>>();

  owners(port: number): ReadonlySet<S> {
    return this.byPort.get(port) ?? new Set();
  }

  add(port: number, sock: S): void {
    let set = this.byPort.get(port);
    if (!set) this.byPort.set(port, (set = new Set()));
    set.add(sock);
  }

  remove(port: number, sock: S): void {
    const set = this.byPort.get(port);
    if (!set) return;
    set.delete(sock);
    if (set.size === 0) this.byPort.delete(port);
  }

  get size(): number { return this.byPort.size; }
}

/**
 * A socket that has just started listening, with the address its bind (or
 * listen's autobind) gave it: what a tracer correlating sys_enter_listen with
 * the earlier bind() would find, handed over directly.
 */
export interface ListenEvent {
  pid: number;
  /** The process's name (/proc/PID/comm). */
  comm: string;
  fd: number;
  family: "inet" | "inet6" | "unix";
  type: "stream" | "seqpacket";
  /** "127.0.0.1", "::", a path, "@name" for an abstract unix name. */
  address: string;
  /** The port, for inet families. */
  port?: number;
  /** The accept queue's limit as the kernel holds it: backlog clamped to somaxconn (it admits backlog+1). */
  backlog: number;
}

export class Net {
  readonly sysctl = new NetSysctl();
  /** Told of every successful listen(2) (Sandbox's onListen, --log-listen). */
  onListen: ((e: ListenEvent) => void) | undefined;
  /** Bound TCP sockets, AF_INET and AF_INET6 together, as Linux's tcp_hashinfo.bhash. */
  readonly tcpPorts = new PortTable<InetSocket>();
  /** Bound UDP sockets, both families (udp_table). */
  readonly udpPorts = new PortTable<InetSocket>();
  /** Bound AF_UNIX abstract names; Linux hashes the socket type in, so each type has its own names. */
  readonly unixAbstract = new Map<string, UnixSocket>();
  /** TCP Fast Open cookies a client has from servers, by destination (the tcp_fastopen_cache). */
  readonly tfoCookies = new Set<string>();
  private readonly warned = new Set<string>();

  /** Report a Linux feature syscage does not have yet, once per namespace. */
  warnOnce(t: Task, what: string): void {
    if (this.warned.has(what)) return;
    this.warned.add(what);
    t.proc.warn(`syscage: ${what} is not implemented`);
  }
}

const namespaces = new WeakMap<object, Net>();

/** The task's network namespace. */
export function netOf(t: Task): Net {
  return netFor((t as { kernel?: object }).kernel ?? t.proc);
}

/** The namespace of a sandbox's kernel (its tasks' netOf), created on first use. */
export function netFor(key: object): Net {
  let net = namespaces.get(key);
  if (!net) namespaces.set(key, (net = new Net()));
  return net;
}
