/**
 * A sandbox's network, set up from its options before the guest starts:
 * sysctls (`--sysctl net.core.somaxconn=128`) and published ports
 * (`--publish 8080:80`). The sandbox calls attachNet once and close() when
 * the guest is over.
 */
import { netFor, type ListenEvent } from "./netns";
import { NetSetupError, parsePublish, Publisher, type PublishSpec } from "./publish";
import { applySysctl } from "./sysctl";

export { NetSetupError, parsePublish, type PublishSpec, type ListenEvent };

export interface NetOptions {
  /** NAME=VALUE settings of network sysctls, docker's spelling (net.core.somaxconn=128). */
  sysctl?: string[];
  /** Host ports to publish: "[HOST_IP:]HOSTPORT:GUESTPORT" strings or parsed specs. */
  publish?: Array<string | PublishSpec>;
  /** Called as each guest socket starts listening, with its address and backlog. */
  onListen?: (e: ListenEvent) => void;
}

/** One line for a listen event: `pid 1000 (server) listens on tcp 0.0.0.0:80, backlog 128`. */
export function formatListen(e: ListenEvent): string {
  const where = e.family === "inet" ? `tcp ${e.address}:${e.port}` : e.family === "inet6" ? `tcp6 [${e.address}]:${e.port}`
    : `unix ${e.type} ${e.address}`;
  return `pid ${e.pid} (${e.comm}) listens on ${where}, fd ${e.fd}, backlog ${e.backlog}`;
}

/**
 * Apply `o` to the network namespace of `kernel` (the sandbox's; its tasks'
 * netOf). Throws NetSetupError for a bad setting or a host port that cannot
 * be had; nothing is left listening then.
 */
export async function attachNet(kernel: object, o: NetOptions): Promise<{ close(): void }> {
  const net = netFor(kernel);
  net.onListen = o.onListen;
  for (const setting of o.sysctl ?? []) {
    const err = applySysctl(net.sysctl, setting);
    if (err) throw new NetSetupError(err);
  }
  const publishers: Publisher[] = [];
  const close = (): void => { for (const p of publishers.splice(0)) p.close(); };
  try {
    for (const spec of o.publish ?? []) {
      const parsed = typeof spec === "string" ? parsePublish(spec) : spec;
      if (typeof parsed === "string") throw new NetSetupError(parsed);
      const p = new Publisher(net, parsed);
      await p.start();
      publishers.push(p);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { close };
}
