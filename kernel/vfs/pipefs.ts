/**
 * Anonymous pipes (pipe(2)): a fifo inode on an internal filesystem mounted
 * nowhere (Linux: pipefs), opened once for each end. /proc/self/fd shows
 * them as "pipe:[INO]".
 */
import { Dentry } from "./inode";
import { Fifo, FifoFile } from "./fifo";
import { Mount } from "./mount";
import { TmpFs, TmpNode } from "./tmpfs";
import { O_LARGEFILE, O_RDONLY, O_WRONLY, S_IFIFO } from "./types";

/** statfs f_type of pipes: PIPEFS_MAGIC. */
const pipeFs = new TmpFs({ type: "pipefs", mode: 0o600, size: 0 });
const pipeMount = new Mount(pipeFs, {}, "pipefs", undefined);

/** A new pipe's read and write ends; `flags` carries O_NONBLOCK (and O_LARGEFILE on 64-bit). */
export function makePipe(uid: number, gid: number, flags: number, wordSize: number): [FifoFile, FifoFile] {
  const inode = new TmpNode(pipeFs, S_IFIFO | 0o600, uid, gid);
  inode.nlinks = 1;
  const fifo = (inode.fifo = new Fifo());
  const path = { mnt: pipeMount, d: new Dentry(`pipe:[${inode.ino}]`, undefined, inode) };
  const extra = flags | (wordSize === 8 ? O_LARGEFILE : 0);
  return [new FifoFile(O_RDONLY | extra, path, fifo), new FifoFile(O_WRONLY | extra, path, fifo)];
}
