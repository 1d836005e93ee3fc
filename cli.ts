#!/usr/bin/env node
/** The syscage command line: a thin shell over the Sandbox API. */
import * as fs from "fs";
import * as path from "path";
import { LoadError, Sandbox, type SandboxOptions } from "./sandbox";

const HELP = `usage: syscage run [options] [--] BINARY [ARG...]

Run an unmodified static Linux binary (i386, x86_64 or aarch64) with every
syscall served by syscage's in-process kernel. stdin, stdout and stderr pass
through; the exit status is the guest's (128+N when signal N ends it).

options:
  --env K=V        add K=V to the guest environment (repeatable; default: empty)
  --strace         print each syscall (arch, number, raw arguments, result) on stderr
  --help           show this help
  --version        print the version

exit status 126: the binary cannot be run (not ELF, bad headers, unsupported
machine, dynamically linked); 127: syscage was used wrongly.`;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

function usage(message: string): never {
  process.stderr.write(`syscage: ${message}\nTry 'syscage --help'.\n`);
  process.exit(127);
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
    else if (a === "--env" || a.startsWith("--env=")) {
      const kv = a === "--env" ? argv[++i] : a.slice("--env=".length);
      if (kv === undefined || !kv.includes("=")) usage("--env needs K=V");
      env.push(kv);
    } else usage(`unknown option '${a}'`);
  }
  const file = argv[i];
  if (file === undefined) usage("no binary given");

  try {
    const result = await new Sandbox(options).run(file, argv.slice(i + 1));
    return result.status;
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`syscage: ${e.message}\n`);
      return 126;
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
