/**
 * memfd_create(2): an anonymous tmpfs file (Linux: mm/memfd.c). It lives in
 * an internal tmpfs mounted nowhere, so no path reaches it except its
 * descriptor and /proc/self/fd; /proc shows it as "/memfd:NAME (deleted)".
 * Seals are recorded and the write seals enforced on the data.
 */
import { EINVAL, EPERM, type Errno } from "../errno";
import type { FileData, RegularFile } from "./file";
import { Dentry } from "./inode";
import { Mount } from "./mount";
import { TmpFs, TmpFile } from "./tmpfs";
import { RegularFile as Regular } from "./file";
import { O_LARGEFILE, O_RDWR, S_IFREG } from "./types";

export const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8, F_SEAL_FUTURE_WRITE = 16, F_SEAL_EXEC = 32;
const ALL_SEALS = 63;

const memfdFs = new TmpFs({ mode: 0o1777, size: 1 << 30 });
const memfdMount = new Mount(memfdFs, {}, "memfd", undefined);

/** Seals by file; files made without MFD_ALLOW_SEALING start sealed with F_SEAL_SEAL. */
const seals = new WeakMap<object, number>();

/** File data that refuses what the seals forbid. */
class SealedData implements FileData {
  constructor(private readonly file: TmpFile) {}
  private get s(): number { return seals.get(this.file) ?? 0; }
  read(pos: number, len: number) { return this.file.read(pos, len); }
  write(pos: number, data: Uint8Array): number | Errno {
    if (this.s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return EPERM;
    if (this.s & F_SEAL_GROW && pos + data.length > this.file.size()) return EPERM;
    return this.file.write(pos, data);
  }
  size() { return this.file.size(); }
  truncate(len: number): 0 | Errno {
    if (this.s & F_SEAL_SHRINK && len < this.file.size()) return EPERM;
    if (this.s & F_SEAL_GROW && len > this.file.size()) return EPERM;
    return this.file.truncate(len);
  }
  sync(): 0 { return 0; }
  close(): void {}
}

/** A new memfd description named `name`, mode 0777 & ~0 like Linux's (owner = the caller). */
export function createMemfd(name: string, allowSealing: boolean, uid: number, gid: number, wordSize: number): RegularFile {
  const file = new TmpFile(memfdFs, S_IFREG | 0o777, uid, gid);
  file.nlinks = 0;
  seals.set(file, allowSealing ? 0 : F_SEAL_SEAL);
  const path = { mnt: memfdMount, d: new Dentry(`/memfd:${name}`, undefined, file) };
  return new Regular(O_RDWR | (wordSize === 8 ? O_LARGEFILE : 0), path, new SealedData(file));
}

export function memfdSeals(f: RegularFile): number {
  return seals.get(f.inode) ?? 0;
}

/** F_ADD_SEALS: EPERM once F_SEAL_SEAL is set; EINVAL for unknown bits. */
export function addMemfdSeals(f: RegularFile, add: number): 0 | Errno {
  if (add & ~ALL_SEALS) return EINVAL;
  const cur = seals.get(f.inode) ?? 0;
  if (cur & F_SEAL_SEAL) return EPERM;
  if (!f.writable) return EPERM;
  seals.set(f.inode, cur | add);
  return 0;
}
