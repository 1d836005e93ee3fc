/**
 * Constants and small types shared by the VFS and the path syscalls.
 *
 * Names are byte strings: every character of a VFS name or path is one byte
 * (a latin1 string), so names that are not valid UTF-8 survive a round trip
 * between guest memory, the VFS and the host. `bytes()` and `text()` convert.
 */
import { S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG, S_IFSOCK } from "../file";

export { S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG, S_IFSOCK };
/** The rest of include/uapi/linux/stat.h. */
export const S_IFMT = 0o170000, S_IFLNK = 0o120000, S_IFBLK = 0o060000;
export const S_ISUID = 0o4000, S_ISGID = 0o2000, S_ISVTX = 0o1000;

/** Directory entry types (d_type), include/linux/fs_types.h. */
export const DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

/** PATH_MAX and NAME_MAX, include/uapi/linux/limits.h. */
export const PATH_MAX = 4096, NAME_MAX = 255;
/** Linux follows at most this many symlinks in one lookup (include/linux/namei.h MAXSYMLINKS). */
export const MAXSYMLINKS = 40;

/** *at() conventions, include/uapi/linux/fcntl.h. */
export const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400,
  AT_NO_AUTOMOUNT = 0x800, AT_EMPTY_PATH = 0x1000, AT_EACCESS = 0x200;

/**
 * Open flags as the VFS keeps them: the asm-generic values (x86 and i386 use
 * them too). aarch64 numbers four of them differently; `openFlagsFromGuest`
 * translates at the syscall boundary.
 */
export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000, O_APPEND = 0o2000,
  O_NONBLOCK = 0o4000, O_DSYNC = 0o10000, O_ASYNC = 0o20000, O_DIRECT = 0o40000, O_LARGEFILE = 0o100000,
  O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_NOATIME = 0o1000000, O_CLOEXEC = 0o2000000,
  O_SYNC = 0o4010000, O_PATH = 0o10000000, O_TMPFILE_BIT = 0o20000000;
export const O_TMPFILE = O_TMPFILE_BIT | O_DIRECTORY;

/** aarch64's own numbers (arch/arm64/include/uapi/asm/fcntl.h). */
const ARM64_O_DIRECTORY = 0o40000, ARM64_O_NOFOLLOW = 0o100000, ARM64_O_DIRECT = 0o200000, ARM64_O_LARGEFILE = 0o400000;
const ARCH_SPECIFIC = O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW;
const ARM64_SPECIFIC = ARM64_O_DIRECTORY | ARM64_O_NOFOLLOW | ARM64_O_DIRECT | ARM64_O_LARGEFILE;

function remap(flags: number, from: number[], to: number[]): number {
  let out = flags & ~from.reduce((a, b) => a | b, 0);
  from.forEach((bit, i) => { if (flags & bit) out |= to[i]; });
  return out;
}

const GENERIC_ORDER = [O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE];
const ARM64_ORDER = [ARM64_O_DIRECTORY, ARM64_O_NOFOLLOW, ARM64_O_DIRECT, ARM64_O_LARGEFILE];

/** Guest open flags → the VFS's (asm-generic) numbering. */
export function openFlagsFromGuest(arch: string, flags: number): number {
  if (arch !== "aarch64" || !(flags & ARM64_SPECIFIC)) return flags;
  return remap(flags, ARM64_ORDER, GENERIC_ORDER);
}

/** The VFS's open flags → the guest's numbering (F_GETFL, /proc/self/fdinfo). */
export function openFlagsToGuest(arch: string, flags: number): number {
  if (arch !== "aarch64" || !(flags & ARCH_SPECIFIC)) return flags;
  return remap(flags, GENERIC_ORDER, ARM64_ORDER);
}

/** Access checks, include/linux/fs.h MAY_*. */
export const MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;

/** Who is asking: the filesystem ids of the calling task. */
export interface Cred {
  uid: number;
  gid: number;
  groups?: readonly number[];
}

export interface DirEntry {
  name: string;
  ino: number;
  /** A DT_* value. */
  type: number;
}

/** Attribute changes (chmod, chown, utimensat, truncate); absent fields stay. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeMs?: number;
  mtimeMs?: number;
}

export function dtype(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

export const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR;
export const isReg = (mode: number): boolean => (mode & S_IFMT) === S_IFREG;
export const isLnk = (mode: number): boolean => (mode & S_IFMT) === S_IFLNK;

/** A device number as userspace sees it in st_dev/st_rdev (glibc's gnu_dev_makedev). */
export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) + (minor & 0xff) + ((minor & ~0xff) << 12) + (major & ~0xfff) * 2 ** 32;
}
export const major = (dev: number): number => ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
export const minor = (dev: number): number => (dev & 0xff) | ((dev >>> 12) & ~0xff);

/** A byte string (one char per byte) as bytes. */
export const bytes = (s: string): Buffer => Buffer.from(s, "latin1");
/** UTF-8 text (configuration, host paths) as a byte string. */
export const text = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
/** A byte string shown as UTF-8 text (messages). */
export const show = (s: string): string => Buffer.from(s, "latin1").toString("utf8");
