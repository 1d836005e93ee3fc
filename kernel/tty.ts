/**
 * The host terminal the user handed the guest through its stdio. It is the
 * controlling terminal of the guest's first session: /dev/tty opens it,
 * tcgetpgrp/tcsetpgrp name its foreground process group (which Ctrl-C
 * reaches), and its line discipline is the host terminal's own (termios
 * ioctls pass through a short allow-list in the engine).
 */
import * as fs from "fs";
import { Errno, EINVAL, EIO, ENOTTY, EPERM, errnoByCode } from "./errno";
import { O_ACCMODE, O_RDONLY, O_WRONLY, type FileDescription, type SysRet } from "./file";
import { HostFdFile, type HostIo } from "./stdio";
import type { Task } from "./task";

/** Terminal ioctls (include/uapi/asm-generic/ioctls.h; the same numbers on the three arches). */
export const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCFLSH = 0x540b,
  TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCGWINSZ = 0x5413, FIONREAD = 0x541b;
/** struct termios of <asm-generic/termbits.h>, struct winsize, an int. */
const SIZES = new Map([[TCGETS, 36], [TCSETS, 36], [TCSETSW, 36], [TCSETSF, 36], [TIOCGWINSZ, 8], [FIONREAD, 4]]);
const OUT = new Set([TCGETS, TIOCGWINSZ, FIONREAD]);

/** The host's side of a terminal: an allow-listed ioctl (0 or -errno) that reads and writes `buf`. */
export type HostTtyIoctl = (fd: number, request: number, buf: Uint8Array) => number;

export class Terminal {
  /** The foreground process group (tcsetpgrp); Ctrl-C on the host goes to it. */
  foreground: number;

  constructor(readonly hostFd: number, readonly sid: number, private readonly host: HostIo) {
    this.foreground = sid;
  }

  /** /dev/tty: a new host open of the terminal (its own file status flags), or the errno the host gives. */
  open(flags: number): FileDescription | Errno {
    const acc = flags & O_ACCMODE;
    const mode = (acc === O_RDONLY ? fs.constants.O_RDONLY : acc === O_WRONLY ? fs.constants.O_WRONLY : fs.constants.O_RDWR)
      | fs.constants.O_NOCTTY;
    try {
      return new HostFdFile(fs.openSync(`/proc/self/fd/${this.hostFd}`, mode), flags, this.host, this, true);
    } catch (e) {
      return errnoByCode.get(-((e as NodeJS.ErrnoException).errno ?? -5)) ?? EIO;
    }
  }

  /** ioctl(2) on a descriptor of this terminal (host descriptor `fd`). */
  ioctl(t: Task, fd: number, request: number, arg: number): SysRet {
    switch (request) {
      case TIOCGPGRP:
        if (t.proc.ctty !== this) return ENOTTY;
        t.mm.setU32(arg, this.foreground);
        return 0;
      case TIOCSPGRP: {
        if (t.proc.ctty !== this || t.group.sid !== this.sid) return ENOTTY;
        const pgid = t.mm.i32(arg);
        if (pgid < 0) return EINVAL;
        const groups = [...t.kernel.processes.groups.values()];
        if (!groups.some((g) => g.pgid === pgid && g.sid === this.sid && !g.exit)) return EPERM;
        this.foreground = pgid;
        return 0;
      }
      case TCFLSH: {
        const buf = new Uint8Array(4);
        new DataView(buf.buffer).setInt32(0, arg, true);
        const r = this.host.ttyIoctl(fd, request, buf);
        return r < 0 ? errnoByCode.get(-r) ?? EIO : 0;
      }
    }
    const size = SIZES.get(request);
    if (size === undefined) return ENOTTY;
    const buf = OUT.has(request) ? new Uint8Array(size) : t.mm.read(arg, size).slice();
    const r = this.host.ttyIoctl(fd, request, buf);
    if (r < 0) return errnoByCode.get(-r) ?? EIO;
    if (OUT.has(request)) t.mm.write(arg, buf);
    return 0;
  }
}
