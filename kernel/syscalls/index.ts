/** Every syscall handler, by Linux name. One handler serves every arch whose table has the name. */
import type { Handler } from "../abi";
import * as clone from "./clone";
import * as cred from "./cred";
import * as attr from "./attr";
import * as dirent from "./dirent";
import * as fileops from "./fileops";
import * as exec from "./exec";
import * as fs from "./fs";
import * as futex from "./futex";
import * as info from "./info";
import * as ipc from "../ipc/syscalls";
import * as memory from "./memory";
import * as net from "../net/syscalls";
import * as process from "./process";
import * as path from "./path";
import * as pipe from "./pipe";
import * as poll from "./poll";
import * as signal from "./signal";
import * as signalfd from "./signalfd";
import * as sched from "./sched";
import * as stat from "./stat";
import * as sysmisc from "./sysmisc";
import * as time from "./time";
import * as timers from "./timers";
import * as wait from "./wait";
import * as tls from "./tls";
import * as mqueue from "./mqueue";
import * as misc from "./misc";
import * as pidfd from "./pidfd";
import * as inotify from "./inotify";
import * as splice from "./splice";
import * as xattr from "./xattr";
import { seccomp } from "./seccomp";
import { refusedHandlers } from "./refused";
import { uid16Overrides } from "./uid16";

const { oldMmap, ...memoryByName } = memory;
const { oldSelect, ...pollByName } = poll;

export const handlers: Readonly<Record<string, Handler>> = {
  ...refusedHandlers,
  ...clone,
  ...cred,
  ...attr,
  ...dirent,
  ...fileops,
  ...exec,
  ...fs,
  ...futex,
  ...info,
  ...ipc,
  ...memoryByName,
  ...net,
  ...process,
  ...path,
  ...pipe,
  ...pollByName,
  ...signal,
  ...signalfd,
  ...sched,
  ...stat,
  ...sysmisc,
  ...time,
  ...timers,
  ...wait,
  ...tls,
  ...mqueue,
  ...misc,
  ...pidfd,
  ...inotify,
  ...splice,
  ...xattr,
  seccomp,
};

/** Names whose handler differs by arch because the ABI does (i386's old mmap takes a struct). */
export const archOverrides: Readonly<Record<string, Readonly<Record<string, Handler>>>> = {
  i386: { mmap: oldMmap, select: oldSelect, ...uid16Overrides },
};
