/**
 * Character devices by device number (Linux: drivers/char/mem.c and tty).
 * A device node on any filesystem that allows devices opens through this
 * table, so a node made by mknod(2) reaches the same emulated device and
 * never a host one.
 */
import { ENOSPC, ENXIO, type Errno } from "../errno";
import type { FileDescription, ReadResult } from "../file";
import type { Task } from "../task";
import { VfsFile } from "./file";
import type { VfsPath } from "./inode";
import { S_IFCHR, makedev } from "./types";

export type DeviceOpener = (t: Task, flags: number, path: VfsPath) => FileDescription | Errno;

const devices = new Map<number, DeviceOpener>();

/** Make `open` serve character device `rdev` (another module can add /dev/ptmx, /dev/tty...). */
export function registerDevice(rdev: number, open: DeviceOpener): void {
  devices.set(rdev, open);
}

/** Open a device node: block devices and unknown numbers have no driver (ENXIO, like chrdev_open). */
export function openDevice(t: Task, type: number, rdev: number, flags: number, path: VfsPath): FileDescription | Errno {
  if (type !== S_IFCHR) return ENXIO;
  const open = devices.get(rdev);
  return open ? open(t, flags, path) : ENXIO;
}

/** The memory devices' device numbers (Documentation/admin-guide/devices.txt). */
export const DEV_NULL = makedev(1, 3), DEV_ZERO = makedev(1, 5), DEV_FULL = makedev(1, 7),
  DEV_RANDOM = makedev(1, 8), DEV_URANDOM = makedev(1, 9), DEV_TTY = makedev(5, 0);

/** How much one read of /dev/zero or /dev/urandom produces at most (keeps a huge read from allocating it all). */
const CHUNK = 1 << 20;

/** A memory device: reads and writes as the kind says; lseek always lands at 0 (null_lseek). */
class MemDevice extends VfsFile {
  constructor(flags: number, path: VfsPath, private readonly kind: "null" | "zero" | "full" | "random") { super(flags, path); }

  override read(t: Task, len: number): ReadResult {
    switch (this.kind) {
      case "null": return new Uint8Array(0);
      case "random": {
        const b = new Uint8Array(Math.min(len, CHUNK));
        t.proc.random(b);
        return b;
      }
      default: return new Uint8Array(Math.min(len, CHUNK));
    }
  }

  override pread(t: Task, len: number): Uint8Array | Errno {
    return this.read(t, len) as Uint8Array;
  }

  override write(_t: Task, data: Uint8Array): number | Errno {
    return this.kind === "full" ? ENOSPC : data.length;
  }

  override pwrite(t: Task, data: Uint8Array): number | Errno { return this.write(t, data); }
  override seek(): number { return 0; }
}

registerDevice(DEV_NULL, (_t, flags, path) => new MemDevice(flags, path, "null"));
registerDevice(DEV_ZERO, (_t, flags, path) => new MemDevice(flags, path, "zero"));
registerDevice(DEV_FULL, (_t, flags, path) => new MemDevice(flags, path, "full"));
registerDevice(DEV_RANDOM, (_t, flags, path) => new MemDevice(flags, path, "random"));
registerDevice(DEV_URANDOM, (_t, flags, path) => new MemDevice(flags, path, "random"));
// /dev/tty: the caller's controlling terminal; without one (no host terminal, or after setsid) ENXIO, as for a daemon.
registerDevice(DEV_TTY, (t, flags) => {
  return t.proc.ctty ? t.proc.ctty.open(flags) : ENXIO;
});
