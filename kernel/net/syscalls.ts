/**
 * Socket syscalls (Linux: net/socket.c). Handlers are thin — find the
 * socket, copy arguments in, hand off to the family — and i386's socketcall
 * demultiplexes onto the same handlers. Every export here is a Handler,
 * registered under its Linux name.
 */
import { socketcallNames } from "../../arch/x86/socketcall-numbers";
import { SyscallArgs, type Handler } from "../abi";
import { Errno, EAGAIN, EBADF, ECONNABORTED, EINVAL, EMFILE, ENOSYS, ENOTSOCK, EPERM } from "../errno";
import { Block, refFile, unrefFile, type FileDescription, type SysRet } from "../file";
import { comm, type Task } from "../task";
import { show } from "../vfs/types";
import {
  AF_INET, AF_INET6, AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_WAITFORONE, SCM_CREDENTIALS, SCM_MAX_FD, SCM_RIGHTS,
  SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_SEQPACKET, SOCK_TYPE_MASK, SOCKADDR_STORAGE_SIZE, SOL_SOCKET,
} from "./constants";
import { createSocket } from "./families";
import {
  cmsgSizes, encodeCmsg, gather, iovTotal, MAX_RW_COUNT, mmsghdrSize, msghdrSize, namelenAddr, readCmsgs, readMsghdr,
  scatter, UIO_MAXIOV, writeRecvFields, type Cmsg,
} from "./msghdr";
import { netOf, type ListenEvent } from "./netns";
import { familyOf, ipv6Of, ipv6Text, portOf } from "./sockaddr";
import { SocketFile, type AcceptResult, type Received, type RecvResult, type SendRequest, type SendResult, type Socket } from "./socket";
import { getSocketOption, setSocketOption } from "./sockopt";
// The families register themselves when loaded, and so do the /proc/sys/net files.
import "./inet/create";
import "./unix/unix";
import "./procsys";
import { isPathFile } from "../vfs/file";

/** sockfd_lookup_light: EBADF for a closed or O_PATH descriptor (fdget), ENOTSOCK for one that is not a socket. */
function socketOf(t: Task, fd: number): Socket | Errno {
  const file = socketFileOf(t, fd);
  return file instanceof Errno ? file : file.sock;
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
  const net = netOf(t);
  const backlog = Math.min(a.uint(1), net.sysctl.somaxconn);
  const r = sock.listen(t, backlog); // the family decides EINVAL / EOPNOTSUPP / EADDRINUSE
  if (r === 0 && net.onListen) {
    const name = sock.getname(false);
    if (!(name instanceof Errno)) net.onListen(listenEvent(t, a.int(0), sock, name, backlog));
  }
  return r;
};

/** Where a listening socket is, from its sockaddr bytes. */
function listenEvent(t: Task, fd: number, sock: Socket, name: Uint8Array, backlog: number): ListenEvent {
  const base = {
    pid: t.pid, comm: show(comm(t)), fd, backlog,
    type: sock.type === SOCK_SEQPACKET ? "seqpacket" as const : "stream" as const,
  };
  const family = familyOf(name);
  if (family === AF_INET) return { ...base, family: "inet", address: name.subarray(4, 8).join("."), port: portOf(name) };
  if (family === AF_INET6) return { ...base, family: "inet6", address: ipv6Text(ipv6Of(name)), port: portOf(name) };
  const path = name.subarray(2);
  const text = Buffer.from(path[0] === 0 ? path.subarray(1) : path.subarray(0, path.indexOf(0) < 0 ? path.length : path.indexOf(0))).toString();
  return { ...base, family: "unix", address: path[0] === 0 ? `@${text}` : text };
}

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

// --- connections ---------------------------------------------------------------------

/** The socket file behind `fd` (EBADF, ENOTSOCK). */
function socketFileOf(t: Task, fd: number): SocketFile | Errno {
  const file = t.fds.get(fd);
  if (!file || isPathFile(file)) return EBADF;
  if (!(file instanceof SocketFile)) return ENOTSOCK;
  return file;
}

/** Implements connect(2). Linux: __sys_connect — the descriptor, the address copy, then the family. */
export const connect: Handler = (t, a) => {
  const file = socketFileOf(t, a.int(0));
  if (file instanceof Errno) return file;
  const addrlen = a.int(2);
  const addr = sockaddrIn(t, a.ptr(1), addrlen);
  if (addr instanceof Errno) return addr;
  return file.sock.connect(t, addr, addrlen, file.nonblock);
};

/** The lowest free descriptors, without taking them (get_unused_fd_flags), or EMFILE. */
function freeFds(t: Task, n: number): number[] | Errno {
  const used = new Set(t.fds.fds());
  const out: number[] = [];
  for (let fd = 0; fd < t.fds.limit && out.length < n; fd++) if (!used.has(fd)) out.push(fd);
  return out.length === n ? out : EMFILE;
}

/**
 * Implements accept4(2). Linux: __sys_accept4 / do_accept — flags, the
 * descriptor, a free descriptor (EMFILE before any wait), the family's
 * accept, then the peer's address (a fault loses the connection).
 */
export const accept4: Handler = (t, a) => doAccept(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3));
/** Implements accept(2): accept4 without flags. */
export const accept: Handler = (t, a) => doAccept(t, a.int(0), a.ptr(1), a.ptr(2), 0);

function doAccept(t: Task, fd: number, addr: number, addrlenPtr: number, flags: number): SysRet {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return EINVAL;
  const file = socketFileOf(t, fd);
  if (file instanceof Errno) return file;
  const free = freeFds(t, 1);
  if (free instanceof Errno) return free;
  return finishAccept(t, file.sock.accept(t, file.nonblock), addr, addrlenPtr, flags);
}

function finishAccept(t: Task, r: AcceptResult, addr: number, addrlenPtr: number, flags: number): SysRet {
  if (r instanceof Block) return new Block(r.wait, () => finishAccept(t, r.retry(), addr, addrlenPtr, flags), r.cancel);
  if (r instanceof Errno) return r;
  const newFile = new SocketFile(r, (flags & SOCK_NONBLOCK) !== 0);
  const drop = (): void => {
    refFile(newFile);
    unrefFile(newFile);
  };
  if (addr) {
    const name = r.getname(true, false);
    if (name instanceof Errno) {
      drop();
      return ECONNABORTED;
    }
    let err: SysRet;
    try {
      err = sockaddrOut(t, name, addr, addrlenPtr);
    } catch (e) {
      drop();
      throw e;
    }
    if (err) {
      drop();
      return err;
    }
  }
  const newfd = t.fds.install(newFile, (flags & SOCK_CLOEXEC) !== 0);
  if (newfd instanceof Errno) drop();
  return newfd;
}

/**
 * Implements socketpair(2). Linux: __sys_socketpair — flags, two free
 * descriptors (written to the caller before the sockets exist), the two
 * sockets, then the family's socketpair (EOPNOTSUPP for inet).
 */
export const socketpair: Handler = (t, a) => {
  const family = a.int(0), typeAndFlags = a.int(1), protocol = a.int(2), sv = a.ptr(3);
  const flags = typeAndFlags & ~SOCK_TYPE_MASK;
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return EINVAL;
  const fds = freeFds(t, 2);
  if (fds instanceof Errno) return fds;
  t.mm.setU32(sv, fds[0]);
  t.mm.setU32(sv + 4, fds[1]);
  const type = typeAndFlags & SOCK_TYPE_MASK;
  const s1 = createSocket(t, family, type, protocol);
  if (s1 instanceof Errno) return s1;
  const s2 = createSocket(t, family, type, protocol);
  if (s2 instanceof Errno) {
    s1.release();
    return s2;
  }
  const err = s1.socketpair(s2);
  if (err) {
    s2.release();
    s1.release();
    return err;
  }
  const nonblock = (flags & SOCK_NONBLOCK) !== 0, cloexec = (flags & SOCK_CLOEXEC) !== 0;
  t.fds.install(new SocketFile(s1, nonblock), cloexec, fds[0]);
  t.fds.install(new SocketFile(s2, nonblock), cloexec, fds[1]);
  return 0;
};

// --- data ----------------------------------------------------------------------------------

/** Flags the send calls pass on (MSG_INTERNAL_SENDMSG_FLAGS are the kernel's own). */
const nonblocking = (file: SocketFile, flags: number): boolean => file.nonblock || (flags & MSG_DONTWAIT) !== 0;

/**
 * Control messages a sendmsg carries, checked as __scm_send (AF_UNIX) or
 * sock_cmsg_send (inet) check them: SCM_RIGHTS files are held for the
 * flight; anything else at SOL_SOCKET that the family does not take is EINVAL.
 */
function scmSend(t: Task, sock: Socket, cmsgs: Cmsg[]): FileDescription[] | undefined | Errno {
  const files: FileDescription[] = [];
  if (sock.family !== AF_UNIX) return undefined; // inet checks its own, later (SendRequest.cmsgError)
  for (const c of cmsgs) {
    if (c.level !== SOL_SOCKET) continue;
    if (c.type === SCM_RIGHTS) {
      const n = Math.floor(c.data.length / 4);
      if (n <= 0) continue;
      if (files.length + n > SCM_MAX_FD) return EINVAL;
      const d = new DataView(c.data.buffer, c.data.byteOffset);
      for (let i = 0; i < n; i++) {
        const f = t.fds.get(d.getInt32(4 * i, true));
        if (!f) return EBADF;
        files.push(f);
      }
    } else if (c.type === SCM_CREDENTIALS) {
      // struct ucred, which must be the sender's own unless it is privileged.
      if (c.data.length !== 12) return EINVAL;
      const d = new DataView(c.data.buffer, c.data.byteOffset);
      const root = t.proc.euid === 0;
      if (!root && (d.getInt32(0, true) !== t.pid || d.getUint32(4, true) !== t.proc.uid || d.getUint32(8, true) !== t.proc.gid)) {
        return EPERM;
      }
    } else {
      return EINVAL;
    }
  }
  if (!files.length) return undefined;
  for (const f of files) refFile(f);
  return files;
}

/**
 * What recvmsg puts in msg_control: SCM_CREDENTIALS when SO_PASSCRED is on,
 * then the passed files installed as descriptors (scm_detach_fds) — as
 * many as fit, the rest closed and MSG_CTRUNC set.
 */
function scmRecv(t: Task, sock: Socket, r: Received, control: number, controllen: number, flags: number): { used: number; ctrunc: boolean } {
  let used = 0, ctrunc = false;
  const put = (type: number, data: Uint8Array): void => {
    const room = control ? controllen - used : 0;
    const { bytes, truncated } = encodeCmsg(t, SOL_SOCKET, type, data, room);
    if (bytes.length) t.mm.write(control + used, bytes);
    used += bytes.length;
    ctrunc ||= truncated;
  };
  if (sock.passcred && sock.family === AF_UNIX) {
    const c = r.cred ?? { pid: 0, uid: 65534, gid: 65534 };
    const b = new Uint8Array(12), d = new DataView(b.buffer);
    d.setInt32(0, c.pid, true);
    d.setUint32(4, c.uid, true);
    d.setUint32(8, c.gid, true);
    put(SCM_CREDENTIALS, b);
  }
  const rights = r.rights ?? [];
  if (rights.length) {
    const { header, align } = cmsgSizes(t);
    const room = control ? controllen - used : 0;
    const fdmax = room > header ? Math.min(Math.floor((room - header) / 4), rights.length) : 0;
    const fds: number[] = [];
    for (let i = 0; i < fdmax; i++) {
      const fd = t.fds.install(rights[i], (flags & MSG_CMSG_CLOEXEC) !== 0);
      if (fd instanceof Errno) break;
      fds.push(fd);
    }
    if (fds.length) {
      const cmlen = header + 4 * fds.length;
      const b = new Uint8Array(4 * fds.length), d = new DataView(b.buffer);
      fds.forEach((fd, i) => d.setInt32(4 * i, fd, true));
      const { bytes } = encodeCmsg(t, SOL_SOCKET, SCM_RIGHTS, b, room);
      t.mm.write(control + used, bytes.subarray(0, Math.min(cmlen, bytes.length)));
      used += Math.min(Math.ceil(cmlen / align) * align, room);
    }
    if (fds.length < rights.length) ctrunc = true;
    // The in-flight references go: installed files are held by their descriptors now.
    for (const f of rights) unrefFile(f);
  }
  return { used, ctrunc };
}

/** Send `req` on the socket (sock_sendmsg), choosing blocking from the file and flags. */
function sendOn(t: Task, file: SocketFile, req: SendRequest): SendResult {
  return file.sock.sendmsg(t, req, nonblocking(file, req.flags));
}

/**
 * Implements sendto(2). Linux: __sys_sendto — the descriptor, the address
 * (if any), then the family's sendmsg.
 */
export const sendto: Handler = (t, a) => doSendto(t, a.int(0), a.ptr(1), a.ulong(2), a.int(3), a.ptr(4), a.int(5));
/** Implements send(2) (socketcall only): sendto without an address. */
export const send: Handler = (t, a) => doSendto(t, a.int(0), a.ptr(1), a.ulong(2), a.int(3), 0, 0);

function doSendto(t: Task, fd: number, buf: number, len: number, flags: number, uaddr: number, addrlen: number): SysRet {
  const file = socketFileOf(t, fd);
  if (file instanceof Errno) return file;
  let addr: Uint8Array | undefined;
  if (uaddr) {
    const a = sockaddrIn(t, uaddr, addrlen);
    if (a instanceof Errno) return a;
    addr = a;
  }
  const data = len ? t.mm.read(buf, Math.min(len, MAX_RW_COUNT)) : new Uint8Array(0);
  return sendOn(t, file, { data, addr, addrlen: addr ? addrlen : 0, flags });
}

/** One sendmsg: the msghdr, its address, its control messages, its data. Linux: ____sys_sendmsg. */
function sendmsgOne(t: Task, file: SocketFile, msgp: number, flags: number): SendResult {
  const m = readMsghdr(t, msgp);
  if (m instanceof Errno) return m;
  const cmsgs = readCmsgs(t, m.control, m.controllen);
  if (cmsgs instanceof Errno) return cmsgs;
  let addr: Uint8Array | undefined;
  if (m.namelen) {
    const a = sockaddrIn(t, m.name, m.namelen);
    if (a instanceof Errno) return a;
    addr = a;
  }
  const data = gather(t, m.iov);
  const rights = scmSend(t, file.sock, cmsgs);
  if (rights instanceof Errno) return rights;
  // sock_cmsg_send: an inet socket takes no SOL_SOCKET message syscage knows of; the protocol says so in its turn.
  const cmsgError = file.sock.family !== AF_UNIX && cmsgs.some((c) => c.level === SOL_SOCKET) ? EINVAL : undefined;
  return sendOn(t, file, { data, addr, addrlen: addr ? m.namelen : 0, flags, rights, cmsgError });
}

/** Implements sendmsg(2). */
export const sendmsg: Handler = (t, a) => {
  const file = socketFileOf(t, a.int(0));
  if (file instanceof Errno) return file;
  return sendmsgOne(t, file, a.ptr(1), a.int(2));
};

/**
 * Implements sendmmsg(2). Linux: __sys_sendmmsg — up to UIO_MAXIOV
 * messages, each one's count stored in msg_len; stops at an error or a
 * partial send; an error is only returned when nothing was sent.
 */
export const sendmmsg: Handler = (t, a) => {
  const file = socketFileOf(t, a.int(0));
  if (file instanceof Errno) return file;
  const vec = a.ptr(1), vlen = Math.min(a.uint(2), UIO_MAXIOV), flags = a.int(3);
  const size = mmsghdrSize(t);
  const step = (i: number, done: number): SysRet => {
    if (i >= vlen) return done;
    const entry = vec + i * size;
    const after = (r: SendResult): SysRet => {
      if (r instanceof Block) return new Block(r.wait, () => after(r.retry() as SendResult), r.cancel);
      if (r instanceof Errno) return done ? done : r;
      t.mm.setU32(entry + msghdrSize(t), Number(r));
      const m = readMsghdr(t, entry);
      if (!(m instanceof Errno) && Number(r) < iovTotal(m.iov)) return done + 1;
      return step(i + 1, done + 1);
    };
    return after(sendmsgOne(t, file, entry, flags));
  };
  return step(0, 0);
};

/** Receive on the socket (sock_recvmsg). */
function recvOn(t: Task, file: SocketFile, len: number, flags: number): RecvResult {
  return file.sock.recvmsg(t, len, flags, nonblocking(file, flags));
}

function thenRecv(r: RecvResult, then: (r: Received) => SysRet): SysRet {
  if (r instanceof Block) return new Block(r.wait, () => thenRecv(r.retry(), then), r.cancel);
  if (r instanceof Errno) return r;
  return then(r);
}

/**
 * Implements recvfrom(2). Linux: __sys_recvfrom — the family's recvmsg,
 * then the sender's address if asked (a protocol that names none, like
 * TCP, reports length 0).
 */
export const recvfrom: Handler = (t, a) => doRecvfrom(t, a.int(0), a.ptr(1), a.ulong(2), a.int(3), a.ptr(4), a.ptr(5));
/** Implements recv(2) (socketcall only). */
export const recv: Handler = (t, a) => doRecvfrom(t, a.int(0), a.ptr(1), a.ulong(2), a.int(3), 0, 0);

function doRecvfrom(t: Task, fd: number, buf: number, len: number, flags: number, uaddr: number, addrlenPtr: number): SysRet {
  const file = socketFileOf(t, fd);
  if (file instanceof Errno) return file;
  return thenRecv(recvOn(t, file, Math.min(len, MAX_RW_COUNT), flags), (r) => {
    if (r.data.length) t.mm.write(buf, r.data);
    if (uaddr) {
      const err = sockaddrOut(t, r.addr ?? new Uint8Array(0), uaddr, addrlenPtr);
      if (err) return err;
    }
    return r.result;
  });
}

/** One recvmsg into the msghdr at `msgp`. Linux: ____sys_recvmsg. */
function recvmsgOne(t: Task, file: SocketFile, msgp: number, flags: number): SysRet {
  const m = readMsghdr(t, msgp);
  if (m instanceof Errno) return m;
  return thenRecv(recvOn(t, file, iovTotal(m.iov), flags), (r) => {
    scatter(t, m.iov, r.data);
    if (m.name) {
      const err = sockaddrOut(t, r.addr ?? new Uint8Array(0), m.name, namelenAddr(t, msgp));
      if (err) return err;
    } else {
      t.mm.setU32(namelenAddr(t, msgp), 0);
    }
    const { used, ctrunc } = scmRecv(t, file.sock, r, m.control, m.controllen, flags);
    writeRecvFields(t, msgp, used, (flags & MSG_CMSG_CLOEXEC) | r.flags | (ctrunc ? MSG_CTRUNC : 0));
    return r.result;
  });
}

/** Implements recvmsg(2). */
export const recvmsg: Handler = (t, a) => {
  const file = socketFileOf(t, a.int(0));
  if (file instanceof Errno) return file;
  return recvmsgOne(t, file, a.ptr(1), a.int(2));
};

/**
 * recvmmsg(2). Linux: do_recvmmsg — a pending socket error first; then
 * messages until vlen, an error (kept for the next call unless EAGAIN, when
 * something was received) or the timeout, which is only looked at between
 * messages; MSG_WAITFORONE stops blocking after the first.
 */
function doRecvmmsg(t: Task, a: SyscallArgs, wideTime: boolean): SysRet {
  const fd = a.int(0), vec = a.ptr(1), vlen = Math.min(a.uint(2), UIO_MAXIOV), tp = a.ptr(4);
  let flags = a.int(3);
  let deadline: number | undefined;
  if (tp) {
    const wide = wideTime || t.arch.wordSize === 8;
    const sec = wide ? Number(BigInt.asIntN(64, t.mm.u64(tp))) : t.mm.i32(tp);
    const nsec = wide ? Number(BigInt.asIntN(64, t.mm.u64(tp + 8))) : t.mm.i32(tp + 4);
    if (sec < 0 || nsec < 0 || nsec >= 1e9) return EINVAL;
    deadline = performance.now() + sec * 1000 + nsec / 1e6;
  }
  const file = socketFileOf(t, fd);
  if (file instanceof Errno) return file;
  if (!(flags & MSG_ERRQUEUE)) {
    const e = file.sock.takeError();
    if (e) return e;
  }
  const size = mmsghdrSize(t);
  const finish = (done: number, err: Errno | undefined): SysRet => {
    if (!err) return done;
    if (done === 0) return err;
    if (err !== EAGAIN) file.sock.err = err;
    return done;
  };
  const step = (i: number): SysRet => {
    if (i >= vlen) return i;
    const entry = vec + i * size;
    const after = (r: SysRet): SysRet => {
      if (r instanceof Block) return new Block(r.wait, () => after(r.retry()), r.cancel);
      if (r instanceof Errno) return finish(i, r);
      t.mm.setU32(entry + msghdrSize(t), Number(r));
      if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
      if (deadline !== undefined && performance.now() >= deadline) return i + 1;
      return step(i + 1);
    };
    return after(recvmsgOne(t, file, entry, flags & ~MSG_WAITFORONE));
  };
  return step(0);
}

/** Implements recvmmsg(2) (the arch's timespec) and recvmmsg_time64 (i386). */
export const recvmmsg: Handler = (t, a) => doRecvmmsg(t, a, false);
export const recvmmsg_time64: Handler = (t, a) => doRecvmmsg(t, a, true);

/** Every socketcall sub-call, by the name of the syscall it stands for. */
const socketcallHandlers: Readonly<Record<string, Handler>> = {
  socket, bind, connect, listen, accept, getsockname, getpeername, socketpair, send, recv, sendto, recvfrom, shutdown,
  setsockopt, getsockopt, sendmsg, recvmsg, accept4, recvmmsg, sendmmsg,
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
