/**
 * /proc/sysvipc/{msg,sem,shm}: a header, then one line per object by index,
 * with the column widths of a 64-bit kernel (an i386 guest is a compat task
 * of one). Linux: ipc/util.c sysvipc_proc_show; sysvipc_msg_proc_show,
 * sysvipc_sem_proc_show, sysvipc_shm_proc_show.
 */
import { PAGE_SIZE } from "../memory";
import type { Task } from "../task";
import { ipcOf, type IpcPerm } from "./namespace";
import { nattch, reap } from "./shm";

/** printf's %Nd / %Nu / %No: right-aligned in `width` columns. */
const col = (v: number | bigint, width: number, radix = 10): string => v.toString(radix).padStart(width);

/** key, id and mode: "%10d %10d  %4o". */
const ident = (p: IpcPerm): string => `${col(p.key | 0, 10)} ${col(p.id, 10)}  ${col(p.mode, 4, 8)}`;
/** uid, gid, cuid, cgid: "%5u %5u %5u %5u". */
const owners = (p: IpcPerm): string => [p.uid, p.gid, p.cuid, p.cgid].map((id) => col(id, 5)).join(" ");

function sysvipcMsg(t: Task): string {
  let out = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n";
  for (const q of ipcOf(t).msg.all()) {
    out += `${ident(q.perm)}  ${col(q.cbytes, 10)} ${col(q.messages.length, 10)} ${col(q.lspid, 5)} ${col(q.lrpid, 5)} ` +
      `${owners(q.perm)} ${col(q.stime, 10)} ${col(q.rtime, 10)} ${col(q.ctime, 10)}\n`;
  }
  return out;
}

function sysvipcSem(t: Task): string {
  let out = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n";
  for (const sma of ipcOf(t).sem.all()) {
    out += `${ident(sma.perm)} ${col(sma.sems.length, 10)} ${owners(sma.perm)} ${col(sma.otime, 10)} ${col(sma.ctime, 10)}\n`;
  }
  return out;
}

function sysvipcShm(t: Task): string {
  const ns = ipcOf(t);
  reap(t, ns);
  let out = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n";
  for (const seg of ns.shm.all()) {
    out += `${ident(seg.perm)} ${col(seg.size, 21)} ${col(seg.cpid, 5)} ${col(seg.lpid, 5)}  ${col(nattch(t, seg), 5)} ` +
      `${owners(seg.perm)} ${col(seg.atime, 10)} ${col(seg.dtime, 10)} ${col(seg.ctime, 10)} ${col(seg.rssPages * PAGE_SIZE, 21)} ${col(0, 21)}\n`;
  }
  return out;
}

/** The files of /proc/sysvipc, by name. */
export const SYSVIPC_FILES: ReadonlyArray<readonly [string, (t: Task) => string]> = [["msg", sysvipcMsg], ["sem", sysvipcSem], ["shm", sysvipcShm]];
