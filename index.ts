/** syscage's library API. */
export { Sandbox, LoadError, Errno, ElfError } from "./sandbox";
export { HostExhausted } from "./engine";
export type { SeccompProfile } from "./kernel/seccomp";
export type { ListenEvent } from "./kernel/net/netns";
export type { SandboxOptions, RunResult, SyscallHook, SyscallEvent, StdinSpec, OutputSpec } from "./sandbox";
export type { ExitStatus } from "./kernel/task";
/** Every Linux errno as a value hooks can return (`errno.EPERM`). */
export * as errno from "./kernel/errno";
