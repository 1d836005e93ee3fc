/** Directory listing: getdents64(2) and the old getdents(2). Linux: fs/readdir.c. */
import type { Handler } from "../abi";
import { EBADF, EINVAL, ENOTDIR, EOVERFLOW, Errno } from "../errno";
import type { SysRet } from "../file";
import type { Task } from "../task";
import { DirFile, isPathFile, type ListedEntry } from "../vfs/file";
import { bytes } from "../vfs/types";

/** One record as the guest sees it, or undefined when it cannot be represented. */
type Encode = (e: ListedEntry, name: Buffer) => Uint8Array | undefined;

/** struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name, NUL, padded to 8. */
const dirent64: Encode = (e, name) => {
  const reclen = (19 + name.length + 1 + 7) & ~7;
  const rec = new Uint8Array(reclen);
  const dv = new DataView(rec.buffer);
  dv.setBigUint64(0, BigInt(e.ino), true);
  dv.setBigInt64(8, BigInt(e.next), true);
  dv.setUint16(16, reclen, true);
  rec[18] = e.type;
  rec.set(name, 19);
  return rec;
};

/** struct linux_dirent: long ino, long off, u16 reclen, name, NUL, padding, type in the last byte. */
const direntOld = (w: 4 | 8): Encode => (e, name) => {
  if (w === 4 && e.ino > 0xffffffff) return undefined;
  const head = 2 * w + 2;
  const reclen = (head + name.length + 2 + w - 1) & ~(w - 1);
  const rec = new Uint8Array(reclen);
  const dv = new DataView(rec.buffer);
  if (w === 8) {
    dv.setBigUint64(0, BigInt(e.ino), true);
    dv.setBigUint64(8, BigInt(e.next), true);
  } else {
    dv.setUint32(0, e.ino, true);
    dv.setUint32(4, e.next, true);
  }
  dv.setUint16(2 * w, reclen, true);
  rec.set(name, head);
  rec[reclen - 1] = e.type;
  return rec;
};

function getdentsWith(t: Task, fd: number, buf: number, count: number, encode: Encode): SysRet {
  const f = t.fds.get(fd);
  if (!f || isPathFile(f)) return EBADF;
  if (!(f instanceof DirFile)) return ENOTDIR;
  const entries = f.entries(t);
  if (entries instanceof Errno) return entries;
  const out: Uint8Array[] = [];
  let used = 0;
  let pos = f.pos;
  for (const e of entries) {
    const rec = encode(e, bytes(e.name));
    if (!rec) {
      if (used === 0) return EOVERFLOW;
      break;
    }
    if (used + rec.length > count) {
      // Not even one entry fits: the buffer is too small (filldir's EINVAL).
      if (used === 0) return EINVAL;
      break;
    }
    out.push(rec);
    used += rec.length;
    pos = e.next;
  }
  if (used) t.mm.write(buf, Buffer.concat(out));
  f.advance(pos);
  return used;
}

/** Implements getdents64(2). */
export const getdents64: Handler = (t, a) => getdentsWith(t, a.int(0), a.ptr(1), a.uint(2), dirent64);
/** Implements getdents(2). */
export const getdents: Handler = (t, a) => getdentsWith(t, a.int(0), a.ptr(1), a.uint(2), direntOld(t.arch.wordSize));
