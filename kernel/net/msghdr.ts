/**
 * struct msghdr, struct mmsghdr and control messages in guest memory, in the
 * caller's ABI: 64-bit tasks use the native layouts (56-byte msghdr, 16-byte
 * cmsghdr aligned to 8), i386 tasks the compat ones (28 and 12, aligned to 4).
 * Linux: net/socket.c copy_msghdr_from_user, net/compat.c, net/core/scm.c.
 */
import { EINVAL, EMSGSIZE, ENOBUFS, Errno } from "../errno";
import type { Task } from "../task";

/** UIO_MAXIOV, include/uapi/linux/uio.h. */
export const UIO_MAXIOV = 1024;
/** Linux caps one transfer at MAX_RW_COUNT (INT_MAX & PAGE_MASK). */
export const MAX_RW_COUNT = 0x7ffff000;
const INT_MAX = 0x7fffffff;

export interface MsgHdr {
  name: number;
  namelen: number;
  iov: Array<[base: number, len: number]>;
  control: number;
  controllen: number;
  flags: number;
}

/** Byte offsets of a msghdr's fields for the task's ABI. */
function layout(t: Task): { size: number; namelen: number; iov: number; iovlen: number; control: number; controllen: number; flags: number } {
  return t.arch.wordSize === 8
    ? { size: 56, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48 }
    : { size: 28, namelen: 4, iov: 8, iovlen: 12, control: 16, controllen: 20, flags: 24 };
}

export const msghdrSize = (t: Task): number => layout(t).size;
/** struct mmsghdr: a msghdr and an unsigned msg_len, padded to the word size. */
export const mmsghdrSize = (t: Task): number => (t.arch.wordSize === 8 ? 64 : 32);

function word(t: Task, p: number): number {
  return t.arch.wordSize === 8 ? t.mm.u64n(p) : t.mm.u32(p);
}

/**
 * Linux: __copy_msghdr + import_iovec — msg_namelen is clamped to a
 * sockaddr_storage (negative: EINVAL), more than UIO_MAXIOV vectors is
 * EMSGSIZE, a vector length that does not fit ssize_t is EINVAL.
 */
export function readMsghdr(t: Task, p: number): MsgHdr | Errno {
  const l = layout(t);
  const name = word(t, p);
  let namelen = t.mm.i32(p + l.namelen);
  const iovp = word(t, p + l.iov);
  const iovlen = word(t, p + l.iovlen);
  const control = word(t, p + l.control);
  const controllen = word(t, p + l.controllen);
  const flags = t.mm.u32(p + l.flags);
  if (!name) namelen = 0;
  if (namelen < 0) return EINVAL;
  if (namelen > 128) namelen = 128;
  if (iovlen > UIO_MAXIOV) return EMSGSIZE;
  const iov: Array<[number, number]> = [];
  const w = t.arch.wordSize;
  let total = 0;
  for (let i = 0; i < iovlen; i++) {
    const base = word(t, iovp + 2 * w * i);
    const len = word(t, iovp + 2 * w * i + w);
    if ((w === 4 && len > INT_MAX) || len >= 2 ** 53) return EINVAL;
    const n = Math.min(len, MAX_RW_COUNT - total);
    total += n;
    iov.push([base, n]);
  }
  return { name, namelen, iov, control, controllen, flags };
}

/** Gather the bytes a msghdr's vectors describe. */
export function gather(t: Task, iov: Array<[number, number]>): Uint8Array {
  const parts = iov.filter(([, len]) => len > 0).map(([base, len]) => t.mm.read(base, len));
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** Scatter received bytes over the vectors. */
export function scatter(t: Task, iov: Array<[number, number]>, data: Uint8Array): void {
  let off = 0;
  for (const [base, len] of iov) {
    if (off >= data.length) break;
    const n = Math.min(len, data.length - off);
    if (n) t.mm.write(base, data.subarray(off, off + n));
    off += n;
  }
}

export const iovTotal = (iov: Array<[number, number]>): number => iov.reduce((n, [, l]) => n + l, 0);

/** Write the fields recvmsg returns: msg_namelen (done by the caller), msg_controllen, msg_flags. */
export function writeRecvFields(t: Task, p: number, controllen: number, flags: number): void {
  const l = layout(t);
  if (t.arch.wordSize === 8) t.mm.setU64(p + l.controllen, controllen);
  else t.mm.setU32(p + l.controllen, controllen);
  t.mm.setU32(p + l.flags, flags >>> 0);
}

export const namelenAddr = (t: Task, p: number): number => p + layout(t).namelen;

// --- control messages ------------------------------------------------------------------

export interface Cmsg { level: number; type: number; data: Uint8Array }

/** sizeof(struct cmsghdr) and CMSG_ALIGN's unit for the task's ABI. */
function cmsgHeader(t: Task): { size: number; align: number } {
  return t.arch.wordSize === 8 ? { size: 16, align: 8 } : { size: 12, align: 4 };
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * The control messages of a sendmsg (for_each_cmsghdr with CMSG_OK):
 * each must hold at least its header and fit in what is left; a control
 * length past INT_MAX is ENOBUFS.
 */
export function readCmsgs(t: Task, control: number, controllen: number): Cmsg[] | Errno {
  if (controllen > INT_MAX) return ENOBUFS;
  const { size, align } = cmsgHeader(t);
  const out: Cmsg[] = [];
  if (!controllen || controllen < size) return out;
  const buf = t.mm.read(control, controllen);
  const d = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + size <= controllen) {
    const len = size === 16 ? Number(d.getBigUint64(off, true)) : d.getUint32(off, true);
    if (len < size || len > controllen - off) return EINVAL;
    out.push({ level: d.getInt32(off + size - 8, true), type: d.getInt32(off + size - 4, true), data: buf.slice(off + size, off + len) });
    off += alignUp(len, align);
  }
  return out;
}

/**
 * Lay out control messages for recvmsg into at most `room` bytes
 * (put_cmsg): a message that does not fit whole is cut and MSG_CTRUNC set.
 */
export function encodeCmsg(t: Task, level: number, type: number, data: Uint8Array, room: number): { bytes: Uint8Array; truncated: boolean } {
  const { size, align } = cmsgHeader(t);
  const len = size + data.length;
  if (room < size) return { bytes: new Uint8Array(0), truncated: true };
  const cmlen = Math.min(len, room);
  const space = Math.min(alignUp(len, align), room);
  const out = new Uint8Array(space), d = new DataView(out.buffer);
  if (size === 16) d.setBigUint64(0, BigInt(cmlen), true);
  else d.setUint32(0, cmlen, true);
  d.setInt32(size - 8, level, true);
  d.setInt32(size - 4, type, true);
  out.set(data.subarray(0, cmlen - size), size);
  return { bytes: out, truncated: cmlen < len };
}

/** CMSG_LEN / CMSG_SPACE and the header size, for scm_detach_fds. */
export function cmsgSizes(t: Task): { header: number; align: number } {
  const { size, align } = cmsgHeader(t);
  return { header: size, align };
}
