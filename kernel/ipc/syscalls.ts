/** The System V IPC syscalls by name, and i386's ipc(2) multiplexer over them. Linux: ipc/syscall.c. */
import type { Handler } from "../abi";
import { EINVAL, ENOSYS } from "../errno";
import { IPC_64 } from "./namespace";
import { doMsgctl, doMsgget, doMsgrcv, doMsgsnd } from "./msg";
import { doSemctl, doSemget, doSemtimedop } from "./sem";
import { doShmat, doShmctl, doShmdt, doShmget } from "./shm";
import type { Version } from "./layout";

export { msgget, msgsnd, msgrcv, msgctl } from "./msg";
export { semget, semop, semtimedop, semtimedop_time64, semctl } from "./sem";
export { shmget, shmat, shmdt, shmctl } from "./shm";

/** ipc(2) call numbers (include/linux/ipc.h's SEMOP...SHMCTL). */
const SEMOP = 1, SEMGET = 2, SEMCTL = 3, SEMTIMEDOP = 4, MSGSND = 11, MSGRCV = 12, MSGGET = 13, MSGCTL = 14;
const SHMAT = 21, SHMDT = 22, SHMGET = 23, SHMCTL = 24;

/** ipc_parse_version: the IPC_64 bit picks the 64-bit structs and leaves the command. */
function parse(cmd: number): [number, Version] {
  return [cmd & ~IPC_64, cmd & IPC_64 ? "64" : "old"];
}

/**
 * Implements ipc(2), i386's one entry to System V IPC (call, first, second,
 * third, ptr, fifth). Linux: compat_ksys_ipc, as an i386 program meets it on
 * a 64-bit kernel: the top 16 bits of `call` are a version; version 0 of
 * MSGRCV reads the message pointer and type from a struct ipc_kludge at ptr.
 */
export const ipc: Handler = (t, a) => {
  const call = a.uint(0) & 0xffff, version = a.uint(0) >>> 16;
  const first = a.int(1), second = a.int(2), third = a.uint(3), ptr = a.ptr(4), fifth = a.uint(5);
  switch (call) {
    case SEMOP: return doSemtimedop(t, first, ptr, second >>> 0, 0, false);
    case SEMTIMEDOP: return doSemtimedop(t, first, ptr, second >>> 0, fifth, false);
    case SEMGET: return doSemget(t, first, second, third | 0);
    case SEMCTL: {
      if (!ptr) return EINVAL;
      const [cmd, v] = parse(third | 0);
      return doSemctl(t, first, second, cmd, t.mm.u32(ptr), v);
    }
    case MSGSND: return doMsgsnd(t, first, ptr, second, third | 0);
    case MSGRCV:
      if (first < 0 || second < 0) return EINVAL;
      if (version === 0) {
        if (!ptr) return EINVAL;
        return doMsgrcv(t, first, t.mm.u32(ptr), second, t.mm.i32(ptr + 4), third | 0);
      }
      return doMsgrcv(t, first, ptr, second, fifth | 0, third | 0);
    case MSGGET: return doMsgget(t, first, second);
    case MSGCTL: {
      const [cmd, v] = parse(second);
      return doMsgctl(t, first, cmd, ptr, v);
    }
    case SHMAT: {
      if (version === 1) return EINVAL;
      const r = doShmat(t, first, ptr, second);
      if (typeof r !== "number") return r;
      t.mm.setU32(third, r);
      return 0;
    }
    case SHMDT: return doShmdt(t, ptr);
    case SHMGET: return doShmget(t, first, second >>> 0, third | 0);
    case SHMCTL: {
      const [cmd, v] = parse(second);
      return doShmctl(t, first, cmd, ptr, v);
    }
    default: return ENOSYS;
  }
};
