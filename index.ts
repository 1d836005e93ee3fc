/** syscage's library API. */
export { Sandbox, LoadError, Errno, ElfError } from "./sandbox";
export type { SandboxOptions, RunResult, SyscallHook, SyscallEvent, StdinSpec, OutputSpec } from "./sandbox";
export type { ExitStatus } from "./kernel/task";
