/**
 * AF_UNIX pathname addresses (Linux: net/unix/af_unix.c unix_bind_bsd and
 * unix_find_bsd): bind makes a socket inode (S_IFSOCK) through mknod, so the
 * checks, the umask and the filesystem's answer are mknod's (a tmpfs or an
 * overlay's in-memory upper layer takes it; a host directory refuses with
 * EPERM, a strictly read-only one with EROFS); connect finds the socket by the
 * inode a path leads to. The inode outlives its socket and the socket its
 * name: unlink removes only the name, close only the socket.
 */
import { EACCES, EADDRINUSE, ECONNREFUSED, EEXIST, EINVAL, Errno } from "../errno";
import { setUnixPathHooks, type UnixSocket } from "../net/unix/unix";
import type { Task } from "../task";
import type { Inode } from "./inode";
import { credOf, permission } from "./namei";
import { lookupAt, makeNode, unlinkAt } from "./ops";
import { OvlInode } from "./overlay";
import { AT_FDCWD, MAY_WRITE, S_IFMT, S_IFSOCK } from "./types";

/** SOCK_INODE(sock)->i_mode's permissions: a socket file starts as 0777 less the umask. */
const SOCKET_INODE_PERMS = 0o777;

/** unix_socket_table's bsd hash: the socket bound to each socket inode (by the inode that stores it). */
const byInode = new WeakMap<Inode, UnixSocket>();
const inodeOf = new WeakMap<UnixSocket, Inode>();

/** d_backing_inode: an overlay file is its upper (or lower) layer's inode. */
function backing(inode: Inode): Inode {
  return inode instanceof OvlInode ? backing(inode.upper ?? inode.lower ?? inode) : inode;
}

/** Linux: unix_bind_bsd — mknod first (EEXIST → EADDRINUSE), then an already bound socket undoes it: EINVAL. */
function bind(t: Task, path: string, sock: UnixSocket): 0 | Errno {
  const inode = makeNode(t, AT_FDCWD, path, S_IFSOCK | SOCKET_INODE_PERMS, 0);
  if (inode === EEXIST) return EADDRINUSE;
  if (inode instanceof Errno) return inode;
  if (sock.addr) {
    unlinkAt(t, AT_FDCWD, path);
    return EINVAL;
  }
  byInode.set(backing(inode), sock);
  inodeOf.set(sock, backing(inode));
  return 0;
}

/**
 * Linux: unix_find_bsd — follow the path; write permission on the socket file
 * (EACCES); anything but a socket inode with a live socket is ECONNREFUSED.
 */
function lookup(t: Task, path: string): UnixSocket | Errno {
  const p = lookupAt(t, AT_FDCWD, path, 0);
  if (p instanceof Errno) return p;
  if (!("d" in p)) return ECONNREFUSED;
  const inode = p.d.inode;
  if (permission(credOf(t), inode, MAY_WRITE)) return EACCES;
  if ((inode.mode & S_IFMT) !== S_IFSOCK) return ECONNREFUSED;
  const sock = byInode.get(backing(inode));
  return sock && !sock.dead ? sock : ECONNREFUSED;
}

/** unix_remove_bsd_socket: the inode stays, nothing answers at it any more. */
function unbind(sock: UnixSocket): void {
  const inode = inodeOf.get(sock);
  if (inode && byInode.get(inode) === sock) byInode.delete(inode);
  inodeOf.delete(sock);
}

setUnixPathHooks({ bind, lookup, unbind });
