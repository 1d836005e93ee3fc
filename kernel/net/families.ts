/**
 * Protocol families: each registers the function that creates its sockets
 * (Linux's net_families[] and sock_register), and socket(2) finds it here.
 */
import { Errno, EAFNOSUPPORT, EINVAL, EPERM } from "../errno";
import type { Task } from "../task";
import { AF_INET, AF_MAX, AF_PACKET, SOCK_MAX, SOCK_PACKET } from "./constants";
import { netOf, type Net } from "./netns";
import type { Socket } from "./socket";

/** A family's create (net_proto_family.create): the type is already range-checked. */
export type FamilyCreate = (t: Task, net: Net, type: number, protocol: number) => Socket | Errno;

const families = new Map<number, FamilyCreate>();

export function registerFamily(family: number, create: FamilyCreate): void {
  if (families.has(family)) throw new Error(`socket family ${family} registered twice`);
  families.set(family, create);
}

/**
 * A new socket of `family`/`type`/`protocol` (type without the SOCK_* flags).
 * Linux: net/socket.c __sock_create — the family range first, then the type
 * range, then the family's own checks. Families syscage does not offer
 * (AF_NETLINK, AF_BLUETOOTH, ...) answer EAFNOSUPPORT, as on a kernel built
 * without them.
 */
export function createSocket(t: Task, family: number, type: number, protocol: number): Socket | Errno {
  if (family < 0 || family >= AF_MAX) return EAFNOSUPPORT;
  if (type < 0 || type >= SOCK_MAX) return EINVAL;
  // "This uglymoron is moved from INET layer to here": AF_INET SOCK_PACKET is AF_PACKET.
  if (family === AF_INET && type === SOCK_PACKET) family = AF_PACKET;
  const create = families.get(family);
  if (!create) return EAFNOSUPPORT;
  return create(t, netOf(t), type, protocol);
}

// AF_PACKET: packet_create checks CAP_NET_RAW before anything else, and the
// sandbox grants it to no one, root included.
registerFamily(AF_PACKET, () => EPERM);
