// A fake task with a filesystem, and a tiny syscall caller by Linux name with string arguments
// placed in guest memory, for the VFS unit tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeStatX64 } from "../../arch/stat";
import { Errno } from "../../kernel/errno";
import { Block } from "../../kernel/file";
import { handlers } from "../../kernel/syscalls";
import { buildFs, type FsOptions } from "../../kernel/vfs/setup";
import { fakeTask, Scratch, type FakeTask } from "./fake-task";

export type Arg = number | bigint | string | Uint8Array;

export interface VfsTask extends FakeTask {
  scratch: Scratch;
  /** Call a handler by name; strings become NUL-terminated guest strings; the result as an errno name or a number. */
  sys(name: string, ...args: Arg[]): string | number;
  /** Guest bytes at addr. */
  mem(addr: number, len: number): Buffer;
  /** A guest buffer of `len` zero bytes. */
  buf(len: number): number;
  /** read(2) the whole of an open fd as text. */
  slurp(fd: number): string;
  /** Write `text` to a path (created 0644), via open/write/close. */
  put(p: string, text: string): void;
  /** The names getdents64 lists for a directory path, sorted, without . and .. */
  list(p: string): string[];
  /** readlink(2) of a path, or the errno name. */
  link(p: string): string;
  /** getcwd(2). */
  cwd(): string;
}

export function vfsTask(o: FsOptions = {}, uid = 0): VfsTask {
  const ft = fakeTask({ uid });
  const t = ft.t;
  t.arch = { ...t.arch, writeStat: (m, a, st) => writeStatX64(m, a, st) };
  t.proc.vfs = buildFs(o);
  const scratch = new Scratch(t);
  const place = (a: Arg): number | bigint => {
    if (typeof a === "string") return scratch.bytes(Buffer.concat([Buffer.from(a, "latin1"), Buffer.of(0)]));
    if (a instanceof Uint8Array) return scratch.bytes(a);
    return a;
  };
  const sys = (name: string, ...args: Arg[]): string | number => {
    const h = handlers[name];
    if (!h) throw new Error(`no handler ${name}`);
    const r = ft.call(h, ...args.map(place));
    if (r instanceof Errno) return r.name;
    if (r instanceof Block) throw new Error(`${name} blocked`);
    return Number(r);
  };
  const mem = (addr: number, len: number) => Buffer.from(t.mm.read(addr, len));
  const buf = (len: number) => scratch.alloc(len);
  let rbuf = 0, dbuf = 0, pbuf = 0;
  const slurp = (fd: number): string => {
    const b = rbuf || (rbuf = buf(65536));
    const parts: Buffer[] = [];
    for (;;) {
      const n = sys("read", fd, b, 65536);
      if (typeof n !== "number") throw new Error(`read: ${n}`);
      if (n === 0) break;
      parts.push(mem(b, n));
    }
    return Buffer.concat(parts).toString("latin1");
  };
  const O_WRONLY = 1, O_CREAT = 0o100, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000;
  const put = (p: string, text: string) => {
    const fd = sys("open", p, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
    if (typeof fd !== "number") throw new Error(`open ${p}: ${fd}`);
    sys("write", fd, Buffer.from(text), text.length);
    sys("close", fd);
  };
  const list = (p: string): string[] => {
    const fd = sys("open", p, O_DIRECTORY);
    if (typeof fd !== "number") throw new Error(`open ${p}: ${fd}`);
    const names: string[] = [];
    const b = dbuf || (dbuf = buf(4096));
    for (;;) {
      const n = sys("getdents64", fd, b, 4096);
      if (typeof n !== "number") throw new Error(`getdents64: ${n}`);
      if (n === 0) break;
      const data = mem(b, n);
      for (let off = 0; off < n;) {
        const reclen = data.readUInt16LE(off + 16);
        const name = data.subarray(off + 19, off + reclen).toString("latin1").replace(/\0.*$/s, "");
        if (name !== "." && name !== "..") names.push(name);
        off += reclen;
      }
    }
    sys("close", fd);
    return names.sort();
  };
  const link = (p: string): string => {
    const b = pbuf || (pbuf = buf(4096));
    const n = sys("readlink", p, b, 4096);
    return typeof n === "number" ? mem(b, n).toString("latin1") : n;
  };
  const cwd = (): string => {
    const b = pbuf || (pbuf = buf(4096));
    const n = sys("getcwd", b, 4096);
    return typeof n === "number" ? mem(b, n - 1).toString("latin1") : n;
  };
  return { ...ft, scratch, sys, mem, buf, slurp, put, list, link, cwd };
}

/** A fresh host scratch directory (removed by the caller with rmHost). */
export function hostScratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "syscage-vfs-"));
}

export function rmHost(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
