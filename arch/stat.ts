/** Struct stat layouts that differ by arch (include/uapi/asm-generic/stat.h, arch/x86/include/uapi/asm/stat.h). */
import type { StatInfo } from "../kernel/file";
import type { AddressSpace } from "../kernel/memory";

const sec = (ms: number): bigint => BigInt(Math.floor(ms / 1000));
const nsec = (ms: number): number => Math.floor((ms % 1000) * 1e6);

/** x86_64 struct stat: 144 bytes. */
export function writeStatX64(mem: AddressSpace, addr: number, st: StatInfo): void {
  const b = new Uint8Array(144), d = new DataView(b.buffer);
  d.setBigUint64(0, BigInt(st.dev), true);
  d.setBigUint64(8, BigInt(st.ino), true);
  d.setBigUint64(16, BigInt(st.nlink), true);
  d.setUint32(24, st.mode, true);
  d.setUint32(28, st.uid, true);
  d.setUint32(32, st.gid, true);
  d.setBigUint64(40, BigInt(st.rdev), true);
  d.setBigInt64(48, BigInt(st.size), true);
  d.setBigInt64(56, BigInt(st.blksize), true);
  d.setBigInt64(64, BigInt(st.blocks), true);
  [st.atimeMs, st.mtimeMs, st.ctimeMs].forEach((ms, i) => {
    d.setBigInt64(72 + 16 * i, sec(ms), true);
    d.setBigUint64(80 + 16 * i, BigInt(nsec(ms)), true);
  });
  mem.write(addr, b);
}

/** The generic struct stat (aarch64): 128 bytes. */
export function writeStatGeneric(mem: AddressSpace, addr: number, st: StatInfo): void {
  const b = new Uint8Array(128), d = new DataView(b.buffer);
  d.setBigUint64(0, BigInt(st.dev), true);
  d.setBigUint64(8, BigInt(st.ino), true);
  d.setUint32(16, st.mode, true);
  d.setUint32(20, st.nlink, true);
  d.setUint32(24, st.uid, true);
  d.setUint32(28, st.gid, true);
  d.setBigUint64(32, BigInt(st.rdev), true);
  d.setBigInt64(48, BigInt(st.size), true);
  d.setInt32(56, st.blksize, true);
  d.setBigInt64(64, BigInt(st.blocks), true);
  [st.atimeMs, st.mtimeMs, st.ctimeMs].forEach((ms, i) => {
    d.setBigInt64(72 + 16 * i, sec(ms), true);
    d.setBigUint64(80 + 16 * i, BigInt(nsec(ms)), true);
  });
  mem.write(addr, b);
}

/** i386 struct stat64: 96 bytes, with the 32-bit inode copy at 12 and the full one at 88. */
export function writeStat64I386(mem: AddressSpace, addr: number, st: StatInfo): void {
  const b = new Uint8Array(96), d = new DataView(b.buffer);
  d.setBigUint64(0, BigInt(st.dev), true);
  d.setUint32(12, st.ino >>> 0, true);
  d.setUint32(16, st.mode, true);
  d.setUint32(20, st.nlink, true);
  d.setUint32(24, st.uid, true);
  d.setUint32(28, st.gid, true);
  d.setBigUint64(32, BigInt(st.rdev), true);
  d.setBigInt64(44, BigInt(st.size), true);
  d.setUint32(52, st.blksize, true);
  d.setBigUint64(56, BigInt(st.blocks), true);
  [st.atimeMs, st.mtimeMs, st.ctimeMs].forEach((ms, i) => {
    d.setUint32(64 + 8 * i, Number(sec(ms)) >>> 0, true);
    d.setUint32(68 + 8 * i, nsec(ms), true);
  });
  d.setBigUint64(88, BigInt(st.ino), true);
  mem.write(addr, b);
}

/** i386's old struct stat (fstat/stat/lstat): 64 bytes with 16/32-bit fields; EOVERFLOW checks are the caller's. */
export function writeStatI386(mem: AddressSpace, addr: number, st: StatInfo): void {
  const b = new Uint8Array(64), d = new DataView(b.buffer);
  d.setUint32(0, st.dev >>> 0, true);
  d.setUint32(4, st.ino >>> 0, true);
  d.setUint16(8, st.mode, true);
  d.setUint16(10, st.nlink, true);
  d.setUint16(12, st.uid & 0xffff, true);
  d.setUint16(14, st.gid & 0xffff, true);
  d.setUint32(16, st.rdev >>> 0, true);
  d.setUint32(20, st.size >>> 0, true);
  d.setUint32(24, st.blksize, true);
  d.setUint32(28, st.blocks >>> 0, true);
  [st.atimeMs, st.mtimeMs, st.ctimeMs].forEach((ms, i) => {
    d.setUint32(32 + 8 * i, Number(sec(ms)) >>> 0, true);
    d.setUint32(36 + 8 * i, nsec(ms), true);
  });
  mem.write(addr, b);
}
