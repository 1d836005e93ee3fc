/**
 * `--publish [HOST_IP:]HOSTPORT:GUESTPORT`: a host TCP port whose
 * connections arrive in the guest as if from a loopback client. Each host
 * connection is put in the accept queue of the guest socket listening on
 * GUESTPORT — honouring its backlog: a full queue holds the host connection
 * (paused) until accept() makes room — and bytes are pumped both ways with
 * backpressure: a guest that does not read pauses the host socket, a host
 * that does not read makes the guest's writes wait. A port nobody listens
 * on in the guest answers host connections with a reset.
 *
 * Only loopback host addresses are accepted: nothing of the guest is
 * reachable from another machine.
 */
import * as nodeNet from "net";
import type { Net } from "./netns";
import { INADDR_LOOPBACK, v4mapped } from "./sockaddr";
import { findListener, type TcpPeer, type TcpSocket } from "./inet/tcp";
import type { Dest } from "./inet/route";

export interface PublishSpec {
  hostIp: string;
  hostPort: number;
  guestPort: number;
}

/** A host port to guest port mapping that could not be set up (the port is taken...). */
export class NetSetupError extends Error {}

/** How much a host socket may buffer for the host before the guest's writes wait. */
const HOST_HIGH_WATER = 256 * 1024;

/**
 * Parse `[HOST_IP:]HOSTPORT:GUESTPORT` (docker's spelling; an IPv6 host
 * address in brackets). The host address defaults to 127.0.0.1 and must be
 * a loopback one. An error message for anything else.
 */
export function parsePublish(spec: string): PublishSpec | string {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+):(\d+)(?:\/tcp)?$/.exec(spec.trim());
  if (!m) return `--publish ${spec}: expected [HOST_IP:]HOSTPORT:GUESTPORT`;
  const hostIp = (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  const hostPort = Number(m[2]), guestPort = Number(m[3]);
  if (hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) return `--publish ${spec}: ports are 1..65535`;
  const family = nodeNet.isIP(hostIp);
  const loopback = family === 4 ? hostIp.startsWith("127.") : family === 6 ? /^(0*:)*:?0*1$/.test(hostIp) || hostIp === "::1" : false;
  if (!loopback) return `--publish ${spec}: only loopback host addresses (127.0.0.0/8, ::1) may be published`;
  return { hostIp, hostPort, guestPort };
}

/** The guest end's view of one host connection. */
class HostPeer implements TcpPeer {
  private guest: TcpSocket | undefined;
  private closed = false;
  readonly endpoint: { addr: Uint8Array; port: number };

  constructor(private readonly sock: nodeNet.Socket) {
    this.endpoint = { addr: v4mapped(INADDR_LOOPBACK), port: sock.remotePort ?? 0 };
  }

  /** The connection is established in the guest: start pumping. */
  attach(guest: TcpSocket): void {
    this.guest = guest;
    const s = this.sock;
    s.on("data", (chunk: Buffer) => {
      guest.deliver(chunk);
      if (guest.rxSpace() <= 0) s.pause();
    });
    s.on("end", () => guest.deliverFin());
    s.on("drain", () => guest.peerConsumed());
    s.on("close", () => this.hostGone());
    s.on("error", () => this.hostGone());
    s.resume();
  }

  private hostGone(): void {
    if (this.closed) return;
    this.closed = true;
    // A host that went away without its FIN having been seen resets the guest's connection.
    if (!this.sock.readableEnded) this.guest?.deliverRst();
  }

  rxSpace(): number {
    if (this.closed || this.sock.destroyed) return Number.MAX_SAFE_INTEGER;
    return Math.max(0, HOST_HIGH_WATER - this.sock.writableLength);
  }

  rxWritable(): boolean {
    return this.rxSpace() > 0;
  }

  deliver(data: Uint8Array): void {
    if (this.closed || this.sock.destroyed) {
      this.guest?.deliverRst();
      return;
    }
    this.sock.write(data);
  }

  deliverFin(): void {
    if (!this.sock.destroyed) this.sock.end();
  }

  deliverRst(): void {
    this.closed = true;
    if (!this.sock.destroyed) this.sock.resetAndDestroy();
  }

  peerConsumed(): void {
    if (this.sock.isPaused() && this.guest && this.guest.rxSpace() > 0) this.sock.resume();
  }
}

/** One published port: a host server feeding a guest listener. */
export class Publisher {
  private readonly server: nodeNet.Server;
  private readonly sockets = new Set<nodeNet.Socket>();

  constructor(private readonly net: Net, readonly spec: PublishSpec) {
    this.server = nodeNet.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.connection(s));
  }

  /** Listen on the host; rejects with NetSetupError when the port cannot be had. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        reject(new NetSetupError(`--publish ${this.spec.hostIp}:${this.spec.hostPort}:${this.spec.guestPort}: ${e.code === "EADDRINUSE" ? "the host port is in use" : e.message}`));
      };
      this.server.once("error", onError);
      this.server.listen(this.spec.hostPort, this.spec.hostIp, () => {
        this.server.off("error", onError);
        // The scheduler keeps Node running while the guest lives; the host server alone must not.
        this.server.unref();
        resolve();
      });
    });
  }

  private get dest(): Dest {
    return { addr: v4mapped(INADDR_LOOPBACK), port: this.spec.guestPort, v4: true };
  }

  private connection(s: nodeNet.Socket): void {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
    s.on("error", () => undefined);
    this.admit(s);
  }

  /** Into the listener's accept queue, or wait for room, or reset when nobody listens. */
  private admit(s: nodeNet.Socket): void {
    if (s.destroyed) return;
    const listener = findListener(this.net, this.dest);
    if (!listener) {
      s.resetAndDestroy();
      return;
    }
    if (listener.acceptQueueFull) {
      // As a SYN to a full queue on Linux: the connection waits, here until accept() makes room.
      const retry = (): void => {
        listener.acceptRoom.delete(retry);
        s.off("close", drop);
        this.admit(s);
      };
      const drop = (): void => { listener.acceptRoom.delete(retry); };
      listener.acceptRoom.add(retry);
      s.once("close", drop);
      return;
    }
    const peer = new HostPeer(s);
    const child = listener.establish(peer, this.dest);
    peer.attach(child);
  }

  /** Stop listening and drop every host connection. */
  close(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
