/** System V message queues: msgget, msgsnd, msgrcv, msgctl. Linux: ipc/msg.c. */
import type { Handler } from "../abi";
import { E2BIG, EIDRM, EINVAL, ENOMSG, EPERM, EAGAIN, EACCES, Errno } from "../errno";
import { Block, type SysRet } from "../file";
import { capable } from "../capability";
import type { Task } from "../task";
import {
  CAP_SYS_RESOURCE, ctlAllowed, IPC_64, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, ipcget, ipcOf, ipcperms,
  IpcPerm, now, S_IRUGO, S_IWUGO, updatePerm, type IpcNamespace,
} from "./namespace";
import { msginfoBytes, msqidBytes, readLong, readMsqSet, writeLong, type Version } from "./layout";

/** include/uapi/linux/msg.h. */
const MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;
export const MSG_NOERROR = 0o10000, MSG_EXCEPT = 0o20000, MSG_COPY = 0o40000;
/** IPC_INFO's fixed values: MSGPOOL is MSGMNI * MSGMNB / 1024; MSGMAP and MSGTQL are MSGMNB. */
const MSGSSZ = 16, MSGSEG = 0xffff, MSGPOOL = 512000, MSGMAP = 16384, MSGTQL = 16384;
const INT_MAX = 0x7fffffff;

interface Message { type: number; text: Uint8Array }

/** How a receiver picks messages (convert_mode): SEARCH_ANY... SEARCH_NUMBER for MSG_COPY. */
const enum Search { Any, Equal, NotEqual, LessEqual, Number }

/** A sleeping msgrcv: pipelined_send hands it a message (or an error) directly. */
interface Receiver { type: number; mode: Search; maxsize: number; t: Task; result?: Message | Errno; wake(): void }
/** A sleeping msgsnd, woken when its message may fit. */
interface Sender { size: number; removed?: boolean; wake(): void }

export class MsgQueue {
  readonly messages: Message[] = [];
  readonly receivers: Receiver[] = [];
  readonly senders: Sender[] = [];
  stime = 0; rtime = 0; ctime = now();
  cbytes = 0; lspid = 0; lrpid = 0;
  constructor(readonly perm: IpcPerm, public qbytes: number) {}

  fits(size: number): boolean {
    return size + this.cbytes <= this.qbytes && 1 + this.messages.length <= this.qbytes;
  }

  /** ss_wakeup: senders whose message now fits try again; on removal all of them do. */
  wakeSenders(kill: boolean): void {
    for (const s of [...this.senders]) {
      if (!kill && !this.fits(s.size)) continue;
      this.senders.splice(this.senders.indexOf(s), 1);
      s.wake();
    }
  }

  /** expunge_all: every sleeping receiver returns `err` (EIDRM on removal, EAGAIN to re-check after IPC_SET). */
  expunge(err: Errno): void {
    for (const r of this.receivers.splice(0)) {
      r.result = err;
      r.wake();
    }
  }
}

function testmsg(m: Message, type: number, mode: Search): boolean {
  switch (mode) {
    case Search.Any: case Search.Number: return true;
    case Search.LessEqual: return m.type <= type;
    case Search.Equal: return m.type === type;
    case Search.NotEqual: return m.type !== type;
  }
}

/** Implements msgget(2). Linux: ksys_msgget → ipcget with newque. */
export const msgget: Handler = (t, a) => doMsgget(t, a.int(0), a.int(1));

export function doMsgget(t: Task, key: number, flg: number): SysRet {
  const ns = ipcOf(t);
  return ipcget(t, ns.msg, key, flg, () => {
    const q = new MsgQueue(new IpcPerm(key, flg & 0o777, t), ns.msgMnb);
    return ns.msg.add(q, ns.msgMni);
  });
}

/** pipelined_send: the first sleeping receiver that wants `m` takes it without queueing; too-small buffers get E2BIG. */
function pipelinedSend(q: MsgQueue, m: Message): boolean {
  for (const r of [...q.receivers]) {
    if (!testmsg(m, r.type, r.mode)) continue;
    q.receivers.splice(q.receivers.indexOf(r), 1);
    if (r.maxsize < m.text.length) {
      r.result = E2BIG;
      r.wake();
      continue;
    }
    q.lrpid = r.t.pid;
    q.rtime = now();
    r.result = m;
    r.wake();
    return true;
  }
  return false;
}

function enqueue(ns: IpcNamespace, q: MsgQueue, m: Message, front = false): void {
  if (front) q.messages.unshift(m);
  else q.messages.push(m);
  q.cbytes += m.text.length;
  ns.msgHdrs++;
  ns.msgBytes += m.text.length;
}

/** do_msgsnd: the message is copied in first, then the queue is looked up and, while full, slept on. */
export function doMsgsnd(t: Task, msqid: number, msgp: number, size: number, flg: number): SysRet {
  const ns = ipcOf(t);
  if (size > ns.msgMax || size < 0 || msqid < 0) return EINVAL;
  const type = readLong(t, msgp);
  if (type < 1) return EINVAL;
  const m: Message = { type, text: t.mm.read(msgp + t.arch.wordSize, size) };
  const q = ns.msg.get(msqid);
  if (q instanceof Errno) return q;
  const attempt = (): SysRet => {
    if (!ipcperms(t, q.perm, S_IWUGO)) return EACCES;
    if (q.perm.removed) return EIDRM;
    if (!q.fits(size)) {
      if (flg & IPC_NOWAIT) return EAGAIN;
      let sender!: Sender;
      const woken = new Promise<void>((resolve) => { sender = { size, wake: resolve }; });
      q.senders.push(sender);
      return new Block(woken, attempt, () => {
        const i = q.senders.indexOf(sender);
        if (i >= 0) q.senders.splice(i, 1);
      });
    }
    q.lspid = t.pid;
    q.stime = now();
    if (!pipelinedSend(q, m)) enqueue(ns, q, m);
    return 0;
  };
  return attempt();
}

/** do_msg_fill: mtype, then at most bufsz bytes of the text; returns the bytes copied. */
function fill(t: Task, msgp: number, m: Message, bufsz: number): number {
  writeLong(t, msgp, m.type);
  const n = Math.min(bufsz, m.text.length);
  t.mm.write(msgp + t.arch.wordSize, m.text.subarray(0, n));
  return n;
}

/** do_msgrcv, with MSG_COPY's index search and the receiver handed messages while it sleeps. */
export function doMsgrcv(t: Task, msqid: number, msgp: number, bufsz: number, msgtyp: number, flg: number): SysRet {
  const ns = ipcOf(t);
  if (msqid < 0 || bufsz < 0) return EINVAL;
  if (flg & MSG_COPY) {
    if (flg & MSG_EXCEPT || !(flg & IPC_NOWAIT)) return EINVAL;
    // prepare_copy loads the buffer's first min(bufsz, msgmax) bytes before anything else.
    t.mm.read(msgp, t.arch.wordSize + Math.min(bufsz, ns.msgMax));
  }
  let type = msgtyp;
  let mode: Search;
  if (flg & MSG_COPY) mode = Search.Number;
  else if (type === 0) mode = Search.Any;
  else if (type < 0) {
    type = -type;
    mode = Search.LessEqual;
  } else mode = flg & MSG_EXCEPT ? Search.NotEqual : Search.Equal;
  const q = ns.msg.get(msqid);
  if (q instanceof Errno) return q;

  const take = (m: Message): SysRet => fill(t, msgp, m, bufsz);
  const attempt = (): SysRet => {
    if (!ipcperms(t, q.perm, S_IRUGO)) return EACCES;
    if (q.perm.removed) return EIDRM;
    const i = findMsg(q, type, mode);
    if (i >= 0) {
      const m = q.messages[i];
      if (bufsz < m.text.length && !(flg & MSG_NOERROR)) return E2BIG;
      if (flg & MSG_COPY) return take(m);
      q.messages.splice(i, 1);
      q.cbytes -= m.text.length;
      ns.msgHdrs--;
      ns.msgBytes -= m.text.length;
      q.rtime = now();
      q.lrpid = t.pid;
      q.wakeSenders(false);
      return take(m);
    }
    if (flg & IPC_NOWAIT) return ENOMSG;
    let r!: Receiver;
    const woken = new Promise<void>((resolve) => {
      r = { type, mode, maxsize: flg & MSG_NOERROR ? INT_MAX : bufsz, t, wake: resolve };
    });
    q.receivers.push(r);
    const after = (): SysRet => {
      const got = r.result;
      if (got === EAGAIN) return attempt();
      return got instanceof Errno ? got : take(got!);
    };
    return new Block(woken, after, () => {
      const k = q.receivers.indexOf(r);
      if (k >= 0) q.receivers.splice(k, 1);
      // A message handed over just before the signal goes back to the head of the queue rather than being lost.
      else if (r.result && !(r.result instanceof Errno) && !q.perm.removed) enqueue(ns, q, r.result, true);
    });
  };
  return attempt();
}

/** find_msg: the first match; for msgtyp < 0 the lowest type not above |msgtyp|; for MSG_COPY the msgtyp-th message. */
function findMsg(q: MsgQueue, type: number, mode: Search): number {
  let found = -1, count = 0;
  for (let i = 0; i < q.messages.length; i++) {
    const m = q.messages[i];
    if (!testmsg(m, type, mode)) continue;
    if (mode === Search.LessEqual && m.type !== 1) {
      type = m.type - 1;
      found = i;
    } else if (mode === Search.Number) {
      if (type === count) return i;
    } else return i;
    count++;
  }
  return found;
}

/** Implements msgsnd(2). */
export const msgsnd: Handler = (t, a) => doMsgsnd(t, a.int(0), a.ptr(1), a.long(2), a.int(3));

/** Implements msgrcv(2). */
export const msgrcv: Handler = (t, a) => doMsgrcv(t, a.int(0), a.ptr(1), a.long(2), a.long(3), a.int(4));

/** ksys_msgctl (and the compat version's IPC_64-tolerant switch): `v` picks the struct layout. */
export function doMsgctl(t: Task, msqid: number, cmd: number, buf: number, v: Version): SysRet {
  const ns = ipcOf(t);
  if (msqid < 0 || cmd < 0) return EINVAL;
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
      const info = cmd === MSG_INFO
        ? { pool: ns.msg.inUse, map: Math.min(ns.msgHdrs, INT_MAX), tql: Math.min(ns.msgBytes, INT_MAX) }
        : { pool: MSGPOOL, map: MSGMAP, tql: MSGTQL };
      t.mm.write(buf, msginfoBytes({ ...info, max: ns.msgMax, mnb: ns.msgMnb, mni: ns.msgMni, ssz: MSGSSZ, seg: MSGSEG }));
      return Math.max(ns.msg.maxIdx(), 0);
    }
    case MSG_STAT:
    case MSG_STAT_ANY:
    case IPC_STAT: {
      const q = cmd === IPC_STAT ? ns.msg.get(msqid) : ns.msg.byIndex(msqid);
      if (q instanceof Errno) return q;
      if (cmd !== MSG_STAT_ANY && !ipcperms(t, q.perm, S_IRUGO)) return EACCES;
      t.mm.write(buf, msqidBytes(t, { ...q, qnum: q.messages.length }, v));
      return cmd === IPC_STAT ? 0 : q.perm.id;
    }
    case IPC_SET:
    case IPC_RMID: {
      const req = cmd === IPC_SET ? readMsqSet(t, buf, v) : undefined;
      const q = ns.msg.get(msqid);
      if (q instanceof Errno) return q;
      const denied = ctlAllowed(t, q.perm);
      if (denied) return denied;
      if (!req) {
        freeque(ns, q);
        return 0;
      }
      if (req.qbytes > ns.msgMnb && !capable(t.proc, CAP_SYS_RESOURCE)) return EPERM;
      const bad = updatePerm(q.perm, req.uid, req.gid, req.mode);
      if (bad) return bad;
      q.qbytes = req.qbytes;
      q.ctime = now();
      // Sleeping receivers might be excluded by the new permissions; senders might fit in a larger queue.
      q.expunge(EAGAIN);
      q.wakeSenders(false);
      return 0;
    }
    default:
      return EINVAL;
  }
}

/** freeque: sleepers wake with EIDRM, the id goes, the messages with it. */
function freeque(ns: IpcNamespace, q: MsgQueue): void {
  ns.msg.remove(q);
  q.expunge(EIDRM);
  q.wakeSenders(true);
  ns.msgHdrs -= q.messages.length;
  ns.msgBytes -= q.cbytes;
}

/** Implements msgctl(2): the 64-bit layouts; i386's compat entry ignores the IPC_64 bit. */
export const msgctl: Handler = (t, a) => {
  const cmd = a.int(1);
  return doMsgctl(t, a.int(0), t.arch.wordSize === 4 && cmd >= 0 ? cmd & ~IPC_64 : cmd, a.ptr(2), "64");
};
