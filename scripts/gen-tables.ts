/**
 * Generates the syscall, errno and socketcall tables from the Linux uapi headers Debian installs.
 *
 *   node dist/scripts/gen-tables.js           write the tables
 *   node dist/scripts/gen-tables.js --check   exit 1 if any committed table is stale (CI)
 *
 * Run from the repo root. The headers are never parsed by hand: each target's own compiler
 * preprocesses them, so #ifdef branches and aliases (aarch64's `__NR_fcntl __NR3264_fcntl`)
 * resolve exactly as they do when that compiler builds a guest program.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ArchName } from "../kernel/syscall-table";

interface Target {
  readonly arch: ArchName;
  readonly dir: string; // arch/<dir>/syscalls.ts
  readonly cc: string;
}

const TARGETS: readonly Target[] = [
  { arch: "i386", dir: "x86", cc: "i686-linux-gnu-gcc" },
  { arch: "x86_64", dir: "x64", cc: "gcc" },
  { arch: "aarch64", dir: "arm64", cc: "aarch64-linux-gnu-gcc" },
];

/** The compiler that builds and runs the strerror() probe, and whose glibc headers supply ENOTSUP. */
const HOST_CC = "gcc";

/** `__NR_` macros that are bookkeeping, not syscalls (aarch64's 244 marks the start of a range). */
const NOT_SYSCALLS = new Set(["__NR_syscalls", "__NR_arch_specific_syscall"]);

/** x86_64 numbers from 512 up belong to the x32 ABI, which syscage does not run. */
const X32_FIRST = 512;

const GENERATOR = "scripts/gen-tables.ts";

// ---------------------------------------------------------------------------------------------
// The preprocessor as header interpreter

function run(cmd: string, args: readonly string[], input = ""): string {
  try {
    return execFileSync(cmd, args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(err.stderr ?? "").trim() || err.message}`);
  }
}

function preprocess(cc: string, source: string, extraArgs: readonly string[] = []): string {
  return run(cc, ["-E", ...extraArgs, "-x", "c", "-"], source);
}

/** Object-like macros (name → body) visible after including `header`; function-like ones are skipped. */
function macroBodies(cc: string, header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of preprocess(cc, `#include <${header}>\n`, ["-dM"]).split("\n")) {
    const m = /^#define ([A-Za-z_]\w*)(?: (.*))?$/.exec(line);
    if (m) out.set(m[1]!, (m[2] ?? "").trim());
  }
  return out;
}

/** The header files in which the compiler saw `names` defined, in order (for provenance). */
function definingHeaders(cc: string, header: string, names: Iterable<string>): string[] {
  const wanted = new Set(names);
  const files: string[] = [];
  let current = "";
  for (const line of preprocess(cc, `#include <${header}>\n`, ["-dD"]).split("\n")) {
    const marker = /^# \d+ "([^"]+)"/.exec(line);
    if (marker) current = marker[1]!;
    const def = /^#define (\w+)/.exec(line);
    if (def && wanted.has(def[1]!) && !files.includes(current)) files.push(current);
  }
  return files;
}

/**
 * Expands each macro in `names` after including `header` and evaluates the result.
 * Names are emitted as string literals so that a name which happens to be a macro itself
 * (gnu dialects define `linux`, `unix`, `i386`) cannot be expanded.
 */
function macroValues(cc: string, header: string, names: readonly string[]): Map<string, number> {
  const source = [`#include <${header}>`, ...names.map((n) => `@@ "${n}" ${n}`)].join("\n") + "\n";
  const values = new Map<string, number>();
  for (const line of preprocess(cc, source, ["-P"]).split("\n")) {
    const m = /^@@ "(\w+)" (.*)$/.exec(line);
    if (m) values.set(m[1]!, evalSum(m[2]!, m[1]!));
  }
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) throw new Error(`${cc}: no expansion for ${missing.join(", ")}`);
  return values;
}

/**
 * Evaluates an expanded macro such as `(__NR_SYSCALL_BASE + 5)` → `(0 + 5)` or `(223)`.
 * Only decimal integers, `+` and parentheses are accepted: anything else means the headers
 * changed shape and a human should look, rather than us guessing (or eval()ing) it.
 */
function evalSum(expr: string, what: string): number {
  const fail = (): never => {
    throw new Error(`cannot evaluate ${what} = ${JSON.stringify(expr)}`);
  };
  if (!/^[0-9()+\s]+$/.test(expr)) fail();
  const tokens = expr.match(/\d+|[()+]/g) ?? [];
  let pos = 0;
  const sum = (): number => {
    let v = operand();
    while (tokens[pos] === "+") {
      pos++;
      v += operand();
    }
    return v;
  };
  const operand = (): number => {
    const t = tokens[pos++];
    if (t === "(") {
      const v = sum();
      if (tokens[pos++] !== ")") fail();
      return v;
    }
    // A leading zero would be octal in C; no uapi number is written that way, so refuse it.
    if (t === undefined || !/^(0|[1-9]\d*)$/.test(t)) return fail();
    return Number(t);
  };
  const v = sum();
  if (pos !== tokens.length || !Number.isSafeInteger(v)) fail();
  return v;
}

// ---------------------------------------------------------------------------------------------
// Tables

interface SyscallData {
  readonly headers: string[];
  readonly names: Map<number, string>;
}

function syscallData(t: Target): SyscallData {
  // `__NR3264_*` (asm-generic's 32/64 indirection) never matches `__NR_`, so it drops out here.
  const macros = [...macroBodies(t.cc, "asm/unistd.h").keys()].filter(
    (m) => m.startsWith("__NR_") && !NOT_SYSCALLS.has(m),
  );
  const values = macroValues(t.cc, "asm/unistd.h", macros);
  const names = new Map<number, string>();
  for (const [macro, nr] of values) {
    if (t.arch === "x86_64" && nr >= X32_FIRST) continue;
    const name = macro.slice("__NR_".length);
    const other = names.get(nr);
    if (other !== undefined) throw new Error(`${t.arch}: ${other} and ${name} both have number ${nr}`);
    names.set(nr, name);
  }
  if (names.size === 0) throw new Error(`${t.arch}: no syscalls found in <asm/unistd.h>`);
  return { headers: definingHeaders(t.cc, "asm/unistd.h", macros), names: sortByKey(names) };
}

interface ErrnoData {
  readonly headers: string[];
  /** Distinct errnos by code. */
  readonly byCode: Map<number, { name: string; message: string }>;
  /** alias → canonical name (EWOULDBLOCK → EAGAIN), sorted by alias. */
  readonly aliases: Map<string, string>;
  /** The aliases only glibc defines (ENOTSUP). */
  readonly glibcAliases: string[];
}

/** The E* macros of one compiler's <asm/errno.h>, split into numbered ones and aliases. */
function kernelErrnos(cc: string): { values: Map<string, number>; aliases: Map<string, string> } {
  const bodies = new Map([...macroBodies(cc, "asm/errno.h")].filter(([n]) => /^E[A-Z0-9]+$/.test(n)));
  const aliases = new Map([...bodies].filter(([, body]) => bodies.has(body)));
  const numbered = [...bodies.keys()].filter((n) => !aliases.has(n));
  return { values: macroValues(cc, "asm/errno.h", numbered), aliases };
}

function errnoData(): ErrnoData {
  // Linux uses asm-generic's numbers on all three arches; prove it rather than assume it.
  const perArch = TARGETS.map((t) => ({ cc: t.cc, ...kernelErrnos(t.cc) }));
  const canon = (e: (typeof perArch)[number]): string =>
    JSON.stringify([[...e.values].sort(), [...e.aliases].sort()]);
  for (const e of perArch.slice(1)) {
    if (canon(e) !== canon(perArch[0]!)) {
      throw new Error(`<asm/errno.h> differs between ${perArch[0]!.cc} and ${e.cc}`);
    }
  }
  const { values, aliases } = perArch[0]!;

  const names = new Map<number, string>();
  for (const [name, code] of values) {
    const other = names.get(code);
    if (other !== undefined) throw new Error(`errno ${code} is both ${other} and ${name} (not an alias)`);
    names.set(code, name);
  }

  // glibc adds aliases of its own (ENOTSUP); any genuinely new number would need a human.
  const glibc = [...macroBodies(HOST_CC, "errno.h")].filter(([n]) => /^E[A-Z0-9]+$/.test(n));
  const glibcAliases: string[] = [];
  for (const [name, body] of glibc) {
    if (values.has(name) || aliases.has(name)) continue;
    if (!values.has(body)) throw new Error(`glibc <errno.h> defines ${name} as ${body}, not a kernel errno`);
    aliases.set(name, body);
    glibcAliases.push(name);
  }

  const messages = strerrorMessages([...names.keys()]);
  const byCode = new Map<number, { name: string; message: string }>();
  for (const [code, name] of sortByKey(names)) byCode.set(code, { name, message: messages.get(code)! });
  const sortedAliases = new Map([...aliases].sort(([a], [b]) => compare(a, b)));
  const headers = definingHeaders(HOST_CC, "errno.h", [...values.keys(), ...aliases.keys()]);
  return { headers, byCode, aliases: sortedAliases, glibcAliases: glibcAliases.sort(compare) };
}

/** strerror() of each code, from a probe compiled and run against the host C library. */
function strerrorMessages(codes: readonly number[]): Map<number, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gen-tables-"));
  try {
    const src = path.join(dir, "strerror.c");
    const exe = path.join(dir, "strerror");
    // No setlocale() call, so the C locale (English messages) applies whatever the environment says.
    fs.writeFileSync(
      src,
      [
        "#include <stdio.h>",
        "#include <string.h>",
        `static const int codes[] = { ${codes.join(", ")} };`,
        "int main(void) {",
        "  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)",
        '    printf("%d\\t%s\\n", codes[i], strerror(codes[i]));',
        "  return 0;",
        "}",
        "",
      ].join("\n"),
    );
    run(HOST_CC, ["-O0", "-o", exe, src]);
    const messages = new Map<number, string>();
    for (const line of run(exe, []).split("\n")) {
      const m = /^(\d+)\t(.*)$/.exec(line);
      if (m) messages.set(Number(m[1]), m[2]!);
    }
    for (const code of codes) {
      const msg = messages.get(code);
      if (msg === undefined || msg.startsWith("Unknown error")) {
        throw new Error(`host strerror(${code}) has no message (${JSON.stringify(msg)})`);
      }
    }
    return messages;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface SocketcallData {
  readonly headers: string[];
  readonly names: Map<number, string>;
}

/** i386 socketcall(2) sub-calls; SYS_LISTEN → "listen" etc. match the syscall names. */
function socketcallData(): SocketcallData {
  const cc = TARGETS.find((t) => t.arch === "i386")!.cc;
  const macros = [...macroBodies(cc, "linux/net.h").keys()].filter((m) => /^SYS_[A-Z0-9]+$/.test(m));
  const names = new Map<number, string>();
  for (const [macro, nr] of macroValues(cc, "linux/net.h", macros)) {
    const name = macro.slice("SYS_".length).toLowerCase();
    const other = names.get(nr);
    if (other !== undefined) throw new Error(`socketcall ${nr} is both ${other} and ${name}`);
    names.set(nr, name);
  }
  if (names.size === 0) throw new Error("no SYS_* sub-calls found in <linux/net.h>");
  return { headers: definingHeaders(cc, "linux/net.h", macros), names: sortByKey(names) };
}

// ---------------------------------------------------------------------------------------------
// Rendering

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortByKey<V>(m: Map<number, V>): Map<number, V> {
  return new Map([...m].sort(([a], [b]) => a - b));
}

function banner(source: string, headers: readonly string[], notes: readonly string[] = []): string {
  return [
    `// Generated by ${GENERATOR} from ${source}; do not edit.`,
    ...notes.map((n) => `// ${n}`),
    ...headers.map((h, i) => (i === 0 ? `// Defined in: ${h}` : `//             ${h}`)),
    "",
  ].join("\n");
}

function renderSyscalls(t: Target, d: SyscallData): string {
  return (
    banner(`<asm/unistd.h> via ${t.cc}`, d.headers) +
    [
      `import type { SyscallTable } from "../../kernel/syscall-table";`,
      `export const syscalls: SyscallTable = {`,
      `  arch: ${JSON.stringify(t.arch)},`,
      `  names: {`,
      ...[...d.names].map(([nr, name]) => `    ${nr}: ${JSON.stringify(name)},`),
      `  },`,
      `};`,
      ``,
    ].join("\n")
  );
}

function renderErrno(d: ErrnoData): string {
  const ccs = TARGETS.map((t) => t.cc);
  const notes = [
    `Numbers checked identical via ${ccs.slice(0, -1).join(", ")} and ${ccs[ccs.length - 1]};`,
    `${d.glibcAliases.join(", ") || "No alias"} from glibc's <errno.h>; messages from the host glibc's strerror().`,
  ];
  return (
    banner("<asm/errno.h>", d.headers, notes) +
    [
      ``,
      `/** A Linux error number. Handlers return these; only the dispatcher negates them. */`,
      `export class Errno {`,
      `  constructor(`,
      `    readonly code: number,`,
      `    readonly name: string,`,
      `    readonly message: string,`,
      `  ) {}`,
      ``,
      `  toString(): string {`,
      `    return this.name;`,
      `  }`,
      `}`,
      ``,
      ...[...d.byCode].map(
        ([code, e]) => `export const ${e.name} = new Errno(${code}, ${JSON.stringify(e.name)}, ${JSON.stringify(e.message)});`,
      ),
      ``,
      `// Aliases are the same objects, so identity comparisons (err === EAGAIN) see through them.`,
      ...[...d.aliases].map(([alias, name]) => `export const ${alias} = ${name};`),
      ``,
      `export const errnoByCode: ReadonlyMap<number, Errno> = new Map([`,
      ...[...d.byCode].map(([code, e]) => `  [${code}, ${e.name}],`),
      `]);`,
      ``,
    ].join("\n")
  );
}

function renderSocketcall(d: SocketcallData): string {
  return (
    banner(`<linux/net.h> via ${TARGETS.find((t) => t.arch === "i386")!.cc}`, d.headers) +
    [
      ``,
      `/** i386 socketcall(2) sub-call number → the name of the syscall it stands for. */`,
      `export const socketcallNames: Readonly<Record<number, string>> = {`,
      ...[...d.names].map(([nr, name]) => `  ${nr}: ${JSON.stringify(name)},`),
      `};`,
      ``,
    ].join("\n")
  );
}

// ---------------------------------------------------------------------------------------------

function generate(): Map<string, string> {
  const files = new Map<string, string>();
  for (const t of TARGETS) files.set(`arch/${t.dir}/syscalls.ts`, renderSyscalls(t, syscallData(t)));
  files.set("kernel/errno.ts", renderErrno(errnoData()));
  files.set("arch/x86/socketcall-numbers.ts", renderSocketcall(socketcallData()));
  return files;
}

function main(argv: readonly string[]): number {
  const check = argv.includes("--check");
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) throw new Error(`unknown argument(s): ${unknown.join(" ")}; usage: gen-tables [--check]`);

  // Paths are repo-relative; refuse to scatter files if started from elsewhere.
  const root = process.cwd();
  const pkg = path.join(root, "package.json");
  if (!fs.existsSync(pkg) || (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name !== "syscage") {
    throw new Error(`run from the syscage repo root (cwd is ${root})`);
  }

  const files = generate();
  if (check) {
    const stale = [...files].filter(([rel, text]) => {
      const abs = path.join(root, rel);
      return !fs.existsSync(abs) || fs.readFileSync(abs, "utf8") !== text;
    });
    if (stale.length > 0) {
      const list = stale.map(([rel]) => rel).join(", ");
      console.error(`gen-tables: out of date: ${list} (regenerate with: node dist/scripts/gen-tables.js)`);
      return 1;
    }
    return 0;
  }
  for (const [rel, text] of files) {
    fs.writeFileSync(path.join(root, rel), text);
    console.log(`wrote ${rel}`);
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`gen-tables: ${(e as Error).message}`);
  process.exitCode = 2;
}
