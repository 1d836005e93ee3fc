/**
 * /dev: a devtmpfs-like tmpfs holding the memory devices, /dev/tty, the
 * stdio links into /proc/self/fd, and /dev/shm (a tmpfs mounted by setup).
 * Device nodes open through devices.ts, never a host device.
 */
import { TmpFs, type TmpDir } from "./tmpfs";
import { DEV_FULL, DEV_NULL, DEV_RANDOM, DEV_TTY, DEV_URANDOM, DEV_ZERO } from "./devices";
import { S_IFCHR } from "./types";

const root = { uid: 0, gid: 0 };
/** The tty group of Debian (for /dev/tty's group). */
const TTY_GID = 5;

export function makeDevFs(): TmpFs {
  const fs = new TmpFs({ type: "devtmpfs", mode: 0o755, size: 64 * 1024 });
  const dir: TmpDir = fs.root;
  const nodes: Array<[string, number]> = [["null", DEV_NULL], ["zero", DEV_ZERO], ["full", DEV_FULL],
    ["random", DEV_RANDOM], ["urandom", DEV_URANDOM]];
  for (const [name, rdev] of nodes) dir.mknod(name, S_IFCHR | 0o666, rdev, root);
  dir.mknod("tty", S_IFCHR | 0o666, DEV_TTY, { uid: 0, gid: TTY_GID });
  dir.symlink("fd", "/proc/self/fd", root);
  dir.symlink("stdin", "/proc/self/fd/0", root);
  dir.symlink("stdout", "/proc/self/fd/1", root);
  dir.symlink("stderr", "/proc/self/fd/2", root);
  dir.symlink("core", "/proc/kcore", root);
  dir.mkdir("shm", 0o1777, root);
  dir.mkdir("pts", 0o755, root);
  return fs;
}
