/** Every syscall handler, by Linux name. One handler serves every arch whose table has the name. */
import type { Handler } from "../abi";
import * as fs from "./fs";
import * as info from "./info";
import * as memory from "./memory";
import * as process from "./process";
import * as signal from "./signal";
import * as time from "./time";
import * as tls from "./tls";

const { oldMmap, ...memoryByName } = memory;

export const handlers: Readonly<Record<string, Handler>> = {
  ...fs,
  fcntl64: fs.fcntl,
  ...info,
  ...memoryByName,
  ...process,
  ...signal,
  ...time,
  ...tls,
};

/** Names whose handler differs by arch because the ABI does (i386's old mmap takes a struct). */
export const archOverrides: Readonly<Record<string, Readonly<Record<string, Handler>>>> = {
  i386: { mmap: oldMmap },
};
