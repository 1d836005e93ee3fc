#!/usr/bin/env node
/** The syscage command line: a thin shell over the Sandbox API. */
import * as fs from "fs";
import * as path from "path";
import { compatibility, formatCompatibility } from "./compat";
import { HostExhausted, installInterruptGuard, interruptHandled } from "./engine";
import { formatListen, NetSetupError, parsePublish } from "./kernel/net/setup";
import { applySysctl, NetSysctl } from "./kernel/net/sysctl";
import type { SeccompProfile } from "./kernel/seccomp";
import { compileSeccompProfile, LoadError, Sandbox, type MountSpec, type SandboxOptions } from "./sandbox";

const HELP = `usage: syscage run [options] [--] BINARY [ARG...]
       syscage syscalls      the compatibility table: each syscall's number per arch, and whether it is served

Run an unmodified static Linux binary (i386, x86_64 or aarch64) with every
syscall served by syscage's in-process kernel. stdin, stdout and stderr pass
through; the exit status is the guest's (128+N when signal N ends it).

options:
  --env K=V        add K=V to the guest environment (repeatable; default: empty)
  --root DIR       use host directory DIR as / (read-only; writes go to memory)
  --mount HOST:GUEST[:ro|rw|strict]
                   bind host directory HOST at GUEST (repeatable). ro (default):
                   read-only, writes go to memory and vanish at exit; rw: writes
                   reach the host; strict: read-only, writes fail with EROFS.
                   Without --root or --mount, the current directory is mounted
                   ro at its own path and is the working directory.
  --workdir PATH   the guest's working directory
  --user UID:GID   the guest's identity (default: the invoking user's)
  --strace         print each syscall on stderr as strace(1) does: listen(3, 1) = 0
  --log-listen     say on stderr whenever a guest socket starts listening, and where:
                   syscage: pid 1000 (server) listens on tcp 0.0.0.0:80, fd 3, backlog 128
  --seccomp FILE   apply a seccomp profile in Docker's JSON format to the guest, as
                   a container runtime does (examples/seccomp-no-listen.json)
  --timeout SECS   end the whole guest after SECS seconds (exit status 124, as timeout(1))
  --sysctl NAME=VALUE
                   set a network sysctl the guest sees read-only, docker's spelling
                   (repeatable): net.core.somaxconn, net.ipv4.tcp_max_syn_backlog,
                   net.ipv4.tcp_syncookies, net.ipv4.tcp_abort_on_overflow,
                   net.ipv4.tcp_fastopen, net.ipv4.ip_local_port_range="LOW HIGH", ...
  --publish [HOST_IP:]HOSTPORT:GUESTPORT
                   listen on the host (default 127.0.0.1; loopback addresses only)
                   and deliver each connection to the guest's listener on
                   GUESTPORT (repeatable)
  --help           show this help
  --version        print the version

exit status 125: the sandbox could not be set up (a --publish host port is taken,
no host address space for the guest);
126: the binary cannot be run (not ELF, bad headers, unsupported
machine, dynamically linked); 127: syscage was used wrongly.`;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

function usage(message: string): never {
  process.stderr.write(`syscage: ${message}\nTry 'syscage --help'.\n`);
  process.exit(127);
}

/** A host directory named on the command line, which must exist. */
function hostDir(dir: string | undefined, option: string): string {
  if (!dir) usage(`${option} needs a directory`);
  let ok = false;
  try { ok = fs.statSync(dir).isDirectory(); } catch { ok = false; }
  if (!ok) usage(`${option}: ${dir} is not a directory`);
  return dir;
}

/** HOST:GUEST[:ro|rw|strict]. */
function parseMount(spec: string | undefined): MountSpec {
  const parts = (spec ?? "").split(":");
  const last = parts[parts.length - 1];
  const mode = parts.length >= 3 && (last === "ro" || last === "rw" || last === "strict") ? parts.pop() as MountSpec["mode"] : "ro";
  if (parts.length !== 2 || !parts[1].startsWith("/")) usage("--mount needs HOST:GUEST[:ro|rw|strict] with an absolute GUEST path");
  return { host: hostDir(parts[0], "--mount"), guest: parts[1], mode };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(HELP + "\n");
    return argv.length === 0 ? 127 : 0;
  }
  if (argv[0] === "--version") {
    process.stdout.write(`syscage ${version()}\n`);
    return 0;
  }
  if (argv[0] === "syscalls") {
    process.stdout.write(formatCompatibility(compatibility()));
    return 0;
  }
  if (argv[0] !== "run") usage(`unknown command '${argv[0]}'`);

  const env: string[] = [];
  const options: SandboxOptions = { env };
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { i++; break; }
    if (!a.startsWith("-")) break;
    if (a === "--help" || a === "-h") { process.stdout.write(HELP + "\n"); return 0; }
    else if (a === "--version") { process.stdout.write(`syscage ${version()}\n`); return 0; }
    else if (a === "--strace") options.strace = (line) => process.stderr.write(line + "\n");
    else if (a === "--log-listen") options.onListen = (e) => process.stderr.write(`syscage: ${formatListen(e)}\n`);
    else if (a === "--timeout" || a.startsWith("--timeout=")) {
      const v = a === "--timeout" ? argv[++i] : a.slice("--timeout=".length);
      const secs = Number(v);
      if (v === undefined || !Number.isFinite(secs) || secs <= 0) usage("--timeout needs a positive number of seconds");
      options.timeout = secs;
    }
    else if (a === "--env" || a.startsWith("--env=")) {
      const kv = a === "--env" ? argv[++i] : a.slice("--env=".length);
      if (kv === undefined || !kv.includes("=")) usage("--env needs K=V");
      env.push(kv);
    } else if (a === "--root" || a.startsWith("--root=")) {
      options.root = hostDir(a === "--root" ? argv[++i] : a.slice("--root=".length), "--root");
    } else if (a === "--mount" || a.startsWith("--mount=")) {
      (options.mounts ??= []).push(parseMount(a === "--mount" ? argv[++i] : a.slice("--mount=".length)));
    } else if (a === "--workdir" || a.startsWith("--workdir=")) {
      const w = a === "--workdir" ? argv[++i] : a.slice("--workdir=".length);
      if (!w?.startsWith("/")) usage("--workdir needs an absolute path");
      options.workdir = w;
    } else if (a === "--user" || a.startsWith("--user=")) {
      const m = /^(\d+):(\d+)$/.exec((a === "--user" ? argv[++i] : a.slice("--user=".length)) ?? "");
      if (!m) usage("--user needs UID:GID");
      options.user = { uid: Number(m[1]), gid: Number(m[2]) };
    } else if (a === "--sysctl" || a.startsWith("--sysctl=")) {
      const kv = a === "--sysctl" ? argv[++i] : a.slice("--sysctl=".length);
      const err = kv === undefined ? "--sysctl needs NAME=VALUE" : applySysctl(new NetSysctl(), kv);
      if (err) usage(err);
      (options.sysctl ??= []).push(kv!);
    } else if (a === "--seccomp" || a.startsWith("--seccomp=")) {
      const file = a === "--seccomp" ? argv[++i] : a.slice("--seccomp=".length);
      if (!file) usage("--seccomp needs a profile file (Docker's JSON format)");
      let profile: SeccompProfile;
      try {
        profile = JSON.parse(fs.readFileSync(file, "utf8")) as SeccompProfile;
        compileSeccompProfile(profile);
      } catch (e) {
        usage(`--seccomp ${file}: ${(e as Error).message.split("\n")[0]}`);
      }
      options.seccomp = profile;
    } else if (a === "--publish" || a.startsWith("--publish=") || a === "-p") {
      const spec = a === "--publish" || a === "-p" ? argv[++i] : a.slice("--publish=".length);
      const parsed = spec === undefined ? "--publish needs [HOST_IP:]HOSTPORT:GUESTPORT" : parsePublish(spec);
      if (typeof parsed === "string") usage(parsed);
      (options.publish ??= []).push(parsed);
    } else usage(`unknown option '${a}'`);
  }
  const file = argv[i];
  if (file === undefined) usage("no binary given");
  options.user ??= { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

  try {
    const sandbox = new Sandbox(options);
    // Ctrl-C and friends go to the guest's foreground processes, which decide what they mean.
    const forward = (name: NodeJS.Signals, sig: number) => process.on(name, () => {
      sandbox.kill(sig);
      interruptHandled();
    });
    forward("SIGINT", 2);
    forward("SIGTERM", 15);
    forward("SIGHUP", 1);
    installInterruptGuard();
    const result = await sandbox.run(file, argv.slice(i + 1));
    return result.status;
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`syscage: ${e.message}\n`);
      return 126;
    }
    if (e instanceof HostExhausted) {
      process.stderr.write(`syscage: ${e.message}\n`);
      return 125;
    }
    if (e instanceof NetSetupError) {
      process.stderr.write(`syscage: ${e.message}\n`);
      return 125;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (e: unknown) => {
    // Only a syscage bug lands here: say so in one line, with the detail for a report.
    process.stderr.write(`syscage: internal error: ${(e as Error).message}\n`);
    if (process.env.SYSCAGE_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(70);
  },
);
