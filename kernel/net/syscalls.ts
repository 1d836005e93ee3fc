/**
 * Socket syscalls (Linux: net/socket.c). Handlers are thin — find the
 * socket, copy arguments in, hand off to the family — and i386's socketcall
 * demultiplexes onto the same handlers. Every export here is a Handler,
 * registered under its Linux name.
 */
import { socketcallNames } from "../../arch/x86/socketcall-numbers";
import { SyscallArgs, type Handler } from "../abi";
import { Errno, EBADF, EINVAL, ENOSYS, ENOTSOCK } from "../errno";
import type { SysRet } from "../file";
import type { Task } from "../task";
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_TYPE_MASK, SOCKADDR_STORAGE_SIZE, SOL_SOCKET } from "./constants";
import { createSocket } from "./families";
import { netOf } from "./netns";
import { SocketFile, type Socket } from "./socket";
import { getSocketOption, setSocketOption } from "./sockopt";
// The families register themselves when loaded.
import "./inet/create";
import "./unix/unix";

/** sockfd_lookup_light: EBADF for a closed descriptor, ENOTSOCK for one that is not a socket. */
function socketOf(t: Task, fd: number): Socket | Errno {
  const file = t.fds.get(fd);
  if (!file) return EBADF;
  if (!(file instanceof SocketFile)) return ENOTSOCK;
  return file.sock;
}

/**
 * A caller's sockaddr in a zeroed sockaddr_storage. Linux:
 * move_addr_to_kernel — the length must fit the storage; zero copies nothing.
 */
function sockaddrIn(t: Task, ptr: number, len: number): Uint8Array | Errno {
  if (len < 0 || len > SOCKADDR_STORAGE_SIZE) return EINVAL;
  const storage = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  if (len > 0) storage.set(t.mm.read(ptr, len));
  return storage;
}

/**
 * Hand a sockaddr back. Linux: move_addr_to_user — copy at most *ulen bytes
 * (negative: EINVAL) and store the full length, "the value before truncation".
 */
function sockaddrOut(t: Task, addr: Uint8Array, uaddr: number, ulenPtr: number): SysRet {
  const len = Math.min(t.mm.i32(ulenPtr), addr.length);
  if (len < 0) return EINVAL;
  if (len) t.mm.write(uaddr, addr.subarray(0, len));
  t.mm.setU32(ulenPtr, addr.length);
  return 0;
}

/**
 * Implements socket(2). Linux: __sys_socket_create — only SOCK_NONBLOCK and
 * SOCK_CLOEXEC may ride on the type — then __sock_create.
 */
export const socket: Handler = (t, a) => {
  const family = a.int(0), typeAndFlags = a.int(1), protocol = a.int(2);
  const flags = typeAndFlags & ~SOCK_TYPE_MASK;
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return EINVAL;
  const sock = createSocket(t, family, typeAndFlags & SOCK_TYPE_MASK, protocol);
  if (sock instanceof Errno) return sock;
  const fd = t.fds.install(new SocketFile(sock, (flags & SOCK_NONBLOCK) !== 0), (flags & SOCK_CLOEXEC) !== 0);
  if (fd instanceof Errno) sock.release();
  return fd;
};

/** Implements bind(2). Linux: __sys_bind — the descriptor, then the address copy, then the family. */
export const bind: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  const addrlen = a.int(2);
  const addr = sockaddrIn(t, a.ptr(1), addrlen);
  if (addr instanceof Errno) return addr;
  return sock.bind(t, addr, addrlen);
};

/** Implements listen(2). Linux: net/socket.c __sys_listen_socket. */
export const listen: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  // Linux compares (unsigned int)backlog > somaxconn, so a negative backlog clamps too.
  const backlog = Math.min(a.uint(1), netOf(t).sysctl.somaxconn);
  return sock.listen(t, backlog); // the family decides EINVAL / EOPNOTSUPP / EADDRINUSE
};

/** Implements getsockname(2). Linux: __sys_getsockname — the name is taken before *addrlen is read. */
export const getsockname: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  const name = sock.getname(false);
  if (name instanceof Errno) return name;
  return sockaddrOut(t, name, a.ptr(1), a.ptr(2));
};

/** Implements getpeername(2): ENOTCONN until connections exist. Linux: __sys_getpeername. */
export const getpeername: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  const name = sock.getname(true);
  if (name instanceof Errno) return name;
  return sockaddrOut(t, name, a.ptr(1), a.ptr(2));
};

/**
 * Implements setsockopt(2). Linux: do_sock_setsockopt — a negative optlen is
 * EINVAL; SOL_SOCKET is generic, every other level belongs to the family.
 */
export const setsockopt: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  const level = a.int(1), optname = a.int(2), optval = a.ptr(3), optlen = a.int(4);
  if (optlen < 0) return EINVAL;
  if (level === SOL_SOCKET) return setSocketOption(t, sock, optname, optval, optlen);
  return sock.setsockopt(t, level, optname, optval, optlen);
};

/** Implements getsockopt(2). Linux: do_sock_getsockopt; each level reads *optlen its own way. */
export const getsockopt: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  const level = a.int(1), optname = a.int(2), optval = a.ptr(3), optlenPtr = a.ptr(4);
  if (level === SOL_SOCKET) return getSocketOption(t, sock, optname, optval, optlenPtr);
  return sock.getsockopt(t, level, optname, optval, optlenPtr);
};

/** Implements shutdown(2). Linux: __sys_shutdown_sock; the family checks `how`. */
export const shutdown: Handler = (t, a) => {
  const sock = socketOf(t, a.int(0));
  if (sock instanceof Errno) return sock;
  return sock.shutdown(a.int(1));
};

/** The socketcall sub-calls served so far; the rest warn and answer ENOSYS, as unimplemented syscalls do. */
const socketcallHandlers: Readonly<Record<string, Handler>> = {
  socket, bind, listen, getsockname, getpeername, setsockopt, getsockopt, shutdown,
};

/** How many argument words each sub-call reads. Linux: net/socket.c nargs[] (AL(n)). */
const socketcallArgc: Readonly<Record<string, number>> = {
  socket: 3, bind: 3, connect: 3, listen: 2, accept: 3, getsockname: 3, getpeername: 3, socketpair: 4, send: 4,
  recv: 4, sendto: 6, recvfrom: 6, shutdown: 2, setsockopt: 5, getsockopt: 5, sendmsg: 3, recvmsg: 3, accept4: 4,
  recvmmsg: 5, sendmmsg: 4,
};

/**
 * Implements socketcall(2), i386's single entry to the socket calls.
 * Linux: compat_sys_socketcall — EINVAL for a call outside SYS_SOCKET..
 * SYS_SENDMMSG, then exactly that call's argument words are copied in (so
 * EFAULT only when those are unreadable) and handed to the same handlers.
 */
export const socketcall: Handler = (t, a) => {
  const name = socketcallNames[a.int(0)];
  if (name === undefined) return EINVAL;
  const argc = socketcallArgc[name];
  const words = t.mm.read(a.ptr(1), argc * 4);
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  // Laid out as the engine's io words: a (lo, hi) pair per argument, hi unused for 32-bit words.
  const io = new Uint32Array(12);
  for (let i = 0; i < argc; i++) io[2 * i] = view.getUint32(4 * i, true);
  const handler = socketcallHandlers[name];
  if (!handler) {
    netOf(t).warnOnce(t, `socketcall ${name}`);
    return ENOSYS;
  }
  return handler(t, new SyscallArgs(io, 0, 4));
};
