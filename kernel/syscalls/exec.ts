/**
 * execve(2) and execveat(2): find the program through the VFS, then let the
 * machine replace the process image (a new CPU, maybe of another arch).
 * Linux: fs/exec.c, fs/binfmt_script.c.
 */
import type { Handler } from "../abi";
import { E2BIG, EACCES, EFAULT, EINVAL, ELOOP, ENOENT, ENOEXEC, Errno } from "../errno";
import { Block, type SysRet } from "../file";
import { openPath, lookupAt } from "../vfs/ops";
import { credOf, pathOf, permission } from "../vfs/namei";
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, MAY_EXEC, O_RDONLY, S_IFLNK, S_IFMT, S_IFREG } from "../vfs/types";
import type { Task } from "../task";
import type { VfsPath } from "../vfs/inode";
import { ExeImage } from "../vfs/synth";

/** MAX_ARG_STRLEN (32 pages) and the total Linux allows by default (a quarter of an 8 MiB stack). */
const MAX_ARG_STRLEN = 32 * 4096, MAX_ARGS_TOTAL = 2 * 1024 * 1024;
/** Nested #! interpreters Linux follows (fs/exec.c: bprm->interp_depth < 5). */
const MAX_INTERP_DEPTH = 4;
/** BINPRM_BUF_SIZE: how much of a script's first line is read. */
const BINPRM_BUF_SIZE = 256;

/** A NULL-terminated array of string pointers in the guest's word size. */
function readStrings(t: Task, p: number): string[] | Errno {
  if (!p) return [];
  const out: string[] = [];
  let total = 0;
  for (let i = 0; ; i++) {
    const w = t.arch.wordSize;
    const sp = w === 8 ? t.mm.u64n(p + 8 * i) : t.mm.u32(p + 4 * i);
    if (!sp) return out;
    const s = t.mm.cstring(sp, MAX_ARG_STRLEN);
    if (s === undefined) return E2BIG;
    total += Buffer.byteLength(s) + 1 + w;
    if (total > MAX_ARGS_TOTAL) return E2BIG;
    out.push(s);
  }
}

/** The whole file behind `path` if the caller may execute it. */
function readExecutable(t: Task, dirfd: number, path: string, flags: number): { data: Uint8Array; abs: string; exe: VfsPath | Uint8Array } | Errno {
  const p = lookupAt(t, dirfd, path, flags);
  if (p instanceof Errno) return p;
  if (!("d" in p)) return EACCES;
  const inode = p.d.inode;
  // AT_SYMLINK_NOFOLLOW on a symlink: the open with O_NOFOLLOW fails (do_open_execat).
  if ((inode.mode & S_IFMT) === S_IFLNK) return ELOOP;
  if ((inode.mode & S_IFMT) !== S_IFREG) return EACCES;
  const denied = permission(credOf(t), inode, MAY_EXEC);
  if (denied) return denied;
  // /proc/self/exe of a program from outside the tree: the same image under the same name.
  if (inode instanceof ExeImage) return { data: inode.image, abs: inode.exePath, exe: inode.image };
  const f = openPath(t, p, O_RDONLY);
  if (f instanceof Errno) return f;
  if (f instanceof Block) return EACCES;
  try {
    const chunks: Uint8Array[] = [];
    let off = 0;
    for (;;) {
      const r = f.pread(t, 1 << 20, off);
      if (r instanceof Errno) return r;
      if (r.length === 0) break;
      chunks.push(r);
      off += r.length;
    }
    return { data: Buffer.concat(chunks), abs: pathOf(t, p) ?? path, exe: p };
  } finally {
    f.release();
  }
}

function doExec(t: Task, dirfd: number, pathPtr: number, argvPtr: number, envpPtr: number, flags: number): SysRet {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return EINVAL;
  let path = t.mm.cstring(pathPtr);
  if (path === undefined) return EFAULT;
  if (path === "" && !(flags & AT_EMPTY_PATH)) return ENOENT;
  let argv = readStrings(t, argvPtr);
  if (argv instanceof Errno) return argv;
  const envp = readStrings(t, envpPtr);
  if (envp instanceof Errno) return envp;
  const execfn = path;
  for (let depth = 0; ; depth++) {
    const file = readExecutable(t, depth ? AT_FDCWD : dirfd, path, depth ? 0 : flags);
    if (file instanceof Errno) return file;
    const { data } = file;
    // A script: run its interpreter with the script's path in place of argv[0] (binfmt_script).
    if (data[0] === 0x23 && data[1] === 0x21) {
      if (depth >= MAX_INTERP_DEPTH) return ELOOP;
      const line = Buffer.from(data.subarray(2, BINPRM_BUF_SIZE)).toString("latin1").split("\n")[0].trim();
      const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) return ENOEXEC;
      argv = [m[1], ...(m[2] ? [m[2]] : []), path, ...argv.slice(1)];
      path = m[1];
      continue;
    }
    if (argv.length === 0) argv = [""]; // Linux 5.18+: an empty argv gets an empty argv[0]
    const r = t.kernel.machine.execImage(t, data, argv, envp, execfn, file.abs);
    if (r === 0) t.proc.exe = file.exe;
    return r;
  }
}

/** Implements execve(2). On success the old image is gone and nothing returns to it. */
export const execve: Handler = (t, a) => doExec(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.ptr(2), 0);

/** Implements execveat(2). */
export const execveat: Handler = (t, a) => doExec(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), a.int(4));
