#!/usr/bin/env node
// syscage benchmark: native vs qemu-user vs syscage, side by side, in one run.
//
//   node bench/run.mjs [--runs N] [--arch x86_64,aarch64] [--iters N] [--rounds N] [--json FILE]
//                      [--syscage DIR]   (another syscage checkout to measure, default: this one)
//                      [--keep-node-env] (keep NODE_OPTIONS / NODE_EXTRA_CA_CERTS for the children)
//
// Builds bench/src/*.c statically into bench/build/<arch>/, runs every
// (arch, runner, program) combination N times (interleaved), keeps the best
// wall time of each, and prints a markdown report on stdout (progress goes to
// stderr). Exit status: 0 when everything ran (whatever the bars say), 1 when
// a tool is missing or a build fails, 2 when a benchmark run failed or printed
// the wrong thing. See bench/README.md.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const SRC = path.join(BENCH, "src");
const BUILD = path.join(BENCH, "build");
const GNU_TIME = "/usr/bin/time";
// The syscage under test: this checkout unless --syscage DIR names another (for A/B runs).
let SYSCAGE_ROOT = ROOT;
let CLI = path.join(ROOT, "dist", "cli.js");
let ADDON = path.join(ROOT, "build", "Release", "syscage_engine.node");

const ARCHES = {
  x86_64: { cc: "gcc", qemu: "qemu-x86_64", hostArch: "x64" },
  aarch64: { cc: "aarch64-linux-gnu-gcc", qemu: "qemu-aarch64", hostArch: "arm64" },
};
const PROGRAMS = ["getpid_loop", "compute_loop", "store_loop", "hello"];
const CFLAGS = ["-O2", "-Wall", "-Werror", "-static", "-fno-pie", "-no-pie"];

// The bars the report checks (x86_64 against qemu-x86_64).
const BAR_SYSCALL = 1.5; // syscage ns/syscall <= 1.5 x qemu
const BAR_COMPUTE = 1.3; // syscage compute seconds <= 1.3 x qemu
const BAR_HELLO_MS = 150; // syscage hello <= node -e 0 + 150 ms

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = { runs: 3, arches: Object.keys(ARCHES), iters: 1_000_000, rounds: undefined, json: undefined, keepNodeEnv: false };
  const int = (flag, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) die(`${flag} needs a positive integer, got '${v}'`, 1);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes("=") ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--runs": o.runs = int(flag, value()); break;
      case "--iters": o.iters = int(flag, value()); break;
      case "--rounds": o.rounds = int(flag, value()); break;
      case "--json": o.json = value(); break;
      case "--keep-node-env": o.keepNodeEnv = true; break;
      case "--syscage": {
        SYSCAGE_ROOT = path.resolve(String(value()));
        CLI = path.join(SYSCAGE_ROOT, "dist", "cli.js");
        ADDON = path.join(SYSCAGE_ROOT, "build", "Release", "syscage_engine.node");
        break;
      }
      case "--arch": {
        o.arches = String(value()).split(",").filter(Boolean);
        for (const a of o.arches) if (!ARCHES[a]) die(`unknown arch '${a}' (known: ${Object.keys(ARCHES).join(", ")})`, 1);
        break;
      }
      case "-h": case "--help":
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 13)
          .map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
        process.exit(0);
      default: die(`unknown option '${argv[i]}' (try --help)`, 1);
    }
  }
  return o;
}

function die(message, status) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(status);
}

const progress = (s) => process.stderr.write(s);

// ---------------------------------------------------------------- preflight

function which(cmd) {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = path.join(dir || ".", cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

function preflight(opts) {
  const problems = [];
  let gnuTime = false;
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    const r = spawnSync(GNU_TIME, ["-f", "%M", "true"], { encoding: "utf8" });
    gnuTime = r.status === 0 && /^\d+\s*$/.test(r.stderr);
  } catch { /* missing */ }
  if (!gnuTime) problems.push(`GNU time is missing at ${GNU_TIME} (it measures peak RSS): apt-get install -y time`);
  for (const a of opts.arches) {
    const { cc, qemu } = ARCHES[a];
    if (!which(cc)) problems.push(`${cc} not found (needed to build the ${a} programs; or pass --arch to skip ${a})`);
    if (!which(qemu)) problems.push(`${qemu} not found (apt-get install -y qemu-user; or pass --arch to skip ${a})`);
  }
  if (!fs.existsSync(CLI)) problems.push(`${CLI} is missing: build syscage first (npx tsc -p .)`);
  if (!fs.existsSync(ADDON)) problems.push(`${ADDON} is missing: build the engine first (npm run install)`);
  if (problems.length) {
    for (const p of problems) process.stderr.write(`bench: ${p}\n`);
    process.exit(1);
  }
  const stale = newestTs(SYSCAGE_ROOT, ["bench", "node_modules", "dist", "build", "tests", "fixtures", "scripts", "examples"]);
  if (stale && stale.mtimeMs > fs.statSync(CLI).mtimeMs) {
    progress(`bench: warning: ${path.relative(SYSCAGE_ROOT, stale.file)} is newer than dist/cli.js; run 'npx tsc -p .' to measure the current code\n`);
  }
  const engineSrc = path.join(SYSCAGE_ROOT, "engine", "engine.c");
  if (fs.existsSync(engineSrc) && fs.statSync(engineSrc).mtimeMs > fs.statSync(ADDON).mtimeMs) {
    progress(`bench: warning: engine/engine.c is newer than the built addon; run 'npm run install' to measure the current engine\n`);
  }
}

/** The most recently modified .ts source outside `skip` (for a stale-build warning). */
function newestTs(dir, skip, depth = 0) {
  let best;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    if (ent.name.startsWith(".") || (depth === 0 && skip.includes(ent.name))) continue;
    const p = path.join(dir, ent.name);
    const cand = ent.isDirectory() ? newestTs(p, skip, depth + 1)
      : ent.name.endsWith(".ts") && !ent.name.endsWith(".d.ts") ? { file: p, mtimeMs: fs.statSync(p).mtimeMs } : undefined;
    if (cand && (!best || cand.mtimeMs > best.mtimeMs)) best = cand;
  }
  return best;
}

/** A path inside the repo relative to it, anything else as it is. */
function shortPath(p) {
  if (!path.isAbsolute(p)) return p;
  const rel = path.relative(ROOT, p);
  return rel && !rel.startsWith("..") ? rel : p;
}

// ---------------------------------------------------------------- build

function build(opts) {
  fs.mkdirSync(BUILD, { recursive: true });
  for (const a of opts.arches) {
    const dir = path.join(BUILD, a);
    fs.mkdirSync(dir, { recursive: true });
    for (const prog of PROGRAMS) {
      const src = path.join(SRC, `${prog}.c`);
      const out = path.join(dir, prog);
      if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs) continue;
      const args = [...CFLAGS, "-o", out, src];
      progress(`bench: ${ARCHES[a].cc} ${args.map(shortPath).join(" ")}\n`);
      const r = spawnSync(ARCHES[a].cc, args, { stdio: ["ignore", "inherit", "inherit"] });
      if (r.status !== 0) die(`building ${path.relative(ROOT, out)} failed`, 1);
    }
  }
}

// ---------------------------------------------------------------- measuring

const timeOut = path.join(os.tmpdir(), `syscage-bench-${process.pid}.time`);

/**
 * The children's environment: ours, less the variables that change what every
 * Node start-up costs on this host (NODE_EXTRA_CA_CERTS makes Node parse a CA
 * bundle before running anything: ~45 ms here), unless --keep-node-env.
 * Both `node -e 0` and syscage get the same environment either way.
 */
const NODE_ENV_VARS = ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS"];
let childEnv = process.env;
let strippedEnv = [];
function setChildEnv(opts) {
  if (opts.keepNodeEnv) return;
  childEnv = { ...process.env };
  strippedEnv = NODE_ENV_VARS.filter((k) => childEnv[k] !== undefined && childEnv[k] !== "");
  for (const k of NODE_ENV_VARS) delete childEnv[k];
}

/**
 * Run argv once under GNU time. Wall time is taken here with hrtime around the
 * spawn (GNU time's %e has only 10 ms resolution); peak RSS is GNU time's %M
 * (the child's ru_maxrss, KiB). stdout/stderr are pipes, captured.
 */
function measure(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME, ["-f", "%M", "-o", timeOut, ...argv], {
    stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, encoding: "utf8", env: childEnv,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let rssKiB = NaN;
  try {
    const lines = fs.readFileSync(timeOut, "utf8").trim().split("\n");
    rssKiB = Number(lines[lines.length - 1]);
  } catch { /* time did not run */ }
  return { wall, rssKiB, status: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

function runnersFor(arch) {
  const bin = (prog) => path.join(BUILD, arch, prog);
  const list = [];
  if (ARCHES[arch].hostArch === process.arch) list.push({ name: "native", cmd: (prog, args) => [bin(prog), ...args] });
  list.push({ name: "qemu-user", cmd: (prog, args) => [which(ARCHES[arch].qemu), bin(prog), ...args] });
  list.push({ name: "syscage", cmd: (prog, args) => [process.execPath, CLI, "run", bin(prog), ...args] });
  return list;
}

/** Every measurement of one run, as { key, argv, check(stdout) -> error | undefined }. */
function plan(opts) {
  const cases = [];
  const line = (want) => (out) => out === want ? undefined : `expected ${JSON.stringify(want)}, got ${JSON.stringify(out.slice(0, 200))}`;
  const hashLine = (rounds, word = "hash") => (out) => new RegExp(`^rounds ${rounds ?? "\\d+"} ${word} [0-9a-f]{16}\\n$`).test(out) ? undefined : `unexpected output ${JSON.stringify(out.slice(0, 200))}`;
  const roundsArg = opts.rounds ? [String(opts.rounds)] : [];
  for (const arch of opts.arches) {
    for (const runner of runnersFor(arch)) {
      const add = (bench, prog, args, check) =>
        cases.push({ key: `${arch}/${runner.name}/${bench}`, arch, runner: runner.name, bench, argv: runner.cmd(prog, args), check });
      add("hello", "hello", [], line("hello, world\n"));
      add("getpid0", "getpid_loop", ["0"], line("0 getpid calls, pid stable\n"));
      add("getpid", "getpid_loop", [String(opts.iters)], line(`${opts.iters} getpid calls, pid stable\n`));
      add("compute0", "compute_loop", ["0"], hashLine(0));
      add("compute", "compute_loop", roundsArg, hashLine(opts.rounds));
      add("store0", "store_loop", ["0"], hashLine(0, "sum"));
      add("store", "store_loop", [], hashLine(undefined, "sum"));
    }
  }
  cases.push({ key: "host/node/node-e0", arch: "host", runner: "node", bench: "node-e0", argv: [process.execPath, "-e", "0"], check: line("") });
  return cases;
}

/** The line of a child's stderr that says what went wrong (a JS error, a syscage message), else its last line. */
function errorLine(stderr) {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /^(syscage:|bench:|\w*Error\b)/.test(l)) ?? lines[lines.length - 1] ?? "").slice(0, 300);
}

function runAll(opts) {
  const cases = plan(opts);
  const results = new Map(cases.map((c) => [c.key, { ...c, walls: [], rss: [], errors: [], stdout: undefined }]));
  for (let run = 1; run <= opts.runs; run++) {
    progress(`bench: run ${run}/${opts.runs} `);
    for (const c of cases) {
      const res = results.get(c.key);
      if (res.errors.length) continue; // failed once: do not insist
      const m = measure(c.argv);
      const why = m.error ? m.error.message
        : m.signal ? `killed by ${m.signal}`
        : m.status !== 0 ? `exit status ${m.status}${m.stderr ? `: ${errorLine(m.stderr)}` : ""}`
        : c.check(m.stdout);
      if (why) {
        res.errors.push(why);
        progress("x");
        continue;
      }
      res.walls.push(m.wall);
      res.rss.push(m.rssKiB);
      res.stdout = m.stdout;
      progress(".");
    }
    progress("\n");
  }
  return results;
}

// ---------------------------------------------------------------- analysis

const best = (res) => res && !res.errors.length && res.walls.length ? Math.min(...res.walls) : undefined;
const peakMiB = (res) => res && !res.errors.length && res.rss.length ? Math.max(...res.rss) / 1024 : undefined;

function analyse(opts, results) {
  const get = (arch, runner, bench) => results.get(`${arch}/${runner}/${bench}`);
  const rows = [];
  const problems = [];
  for (const res of results.values()) {
    if (res.errors.length) problems.push(`${res.key}: ${res.argv.map(shortPath).join(" ")}: ${res.errors[0]}`);
  }
  // Every runner of every arch must have computed the same hash (and the same sum).
  for (const bench of ["compute", "store"]) {
    const outs = new Map();
    for (const res of results.values()) {
      if (res.bench === bench && res.stdout) outs.set(res.key, res.stdout.trim());
    }
    if (new Set(outs.values()).size > 1) {
      problems.push(`${bench}_loop results differ: ${[...outs].map(([k, v]) => `${k} -> ${v}`).join("; ")}`);
    }
  }
  for (const arch of opts.arches) {
    const runners = ["native", "qemu-user", "syscage"];
    const cell = (f) => Object.fromEntries(runners.map((r) => [r, f(r)]));
    const net = (r, bench, base) => {
      const w = best(get(arch, r, bench)), b = best(get(arch, r, base));
      return w === undefined || b === undefined ? undefined : w - b;
    };
    rows.push({
      arch, bench: "getpid round trip", unit: "ns/syscall", id: "syscall",
      value: cell((r) => { const n = net(r, "getpid", "getpid0"); return n === undefined ? undefined : (n / opts.iters) * 1e9; }),
      rss: cell((r) => peakMiB(get(arch, r, "getpid"))),
    });
    rows.push({
      arch, bench: "compute_loop", unit: "s (net)", id: "compute",
      value: cell((r) => net(r, "compute", "compute0")),
      wall: cell((r) => best(get(arch, r, "compute"))),
      rss: cell((r) => peakMiB(get(arch, r, "compute"))),
    });
    rows.push({
      arch, bench: "store_loop (no bar)", unit: "s (net)", id: "store",
      value: cell((r) => net(r, "store", "store0")),
      wall: cell((r) => best(get(arch, r, "store"))),
      rss: cell((r) => peakMiB(get(arch, r, "store"))),
    });
    rows.push({
      arch, bench: "hello (start-up)", unit: "ms wall", id: "hello",
      value: cell((r) => { const w = best(get(arch, r, "hello")); return w === undefined ? undefined : w * 1000; }),
      rss: cell((r) => peakMiB(get(arch, r, "hello"))),
    });
  }
  const node = results.get("host/node/node-e0");
  return { rows, problems, nodeMs: best(node) === undefined ? undefined : best(node) * 1000, nodeRss: peakMiB(node) };
}

// ---------------------------------------------------------------- report

function fmt(v, unit) {
  if (v === undefined || Number.isNaN(v)) return "—";
  // A loop shorter than the start-up jitter: more iterations are needed to see it.
  if (v <= 0) return "< noise";
  if (unit.startsWith("ns")) return v.toFixed(0);
  if (unit.startsWith("ms")) return v.toFixed(0);
  return v.toFixed(2);
}
const fmtMiB = (v) => v === undefined || Number.isNaN(v) ? "—" : v.toFixed(1);
const ratio = (a, b) => a === undefined || b === undefined || a <= 0 || b <= 0 ? undefined : a / b;
/** A measured value a bar can use: a positive number (a net time at or below zero is noise). */
const usable = (v) => v !== undefined && !Number.isNaN(v) && v > 0 ? v : undefined;
const fmtRatio = (r) => r === undefined ? "—" : `${r.toFixed(2)}×`;

function capture(cmd, args) {
  try {
    const r = spawnSync(cmd, args, { encoding: "utf8", cwd: ROOT });
    return r.status === 0 ? r.stdout.trim() : undefined;
  } catch { return undefined; }
}

function report(opts, a) {
  const out = [];
  const p = (s = "") => out.push(s);
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? os.cpus()[0]?.model ?? "?";
  const rev = capture("git", ["-C", SYSCAGE_ROOT, "rev-parse", "--short", "HEAD"]);
  const dirty = capture("git", ["-C", SYSCAGE_ROOT, "status", "--porcelain", "--untracked-files=no"]);
  const unicorn = (capture("ldd", [ADDON]) ?? "").match(/libunicorn\S*\s+=>\s+(\S+)/)?.[1];
  const qemuVer = (capture(which(ARCHES[opts.arches[0]].qemu), ["--version"]) ?? "").split("\n")[0].replace(/^.*version\s+/, "");
  p(`# syscage benchmark`);
  p();
  p(`${new Date().toISOString()} · ${cpu} × ${os.cpus().length} · Linux ${os.release()} · node ${process.version} · qemu ${qemuVer || "?"} · syscage ${rev ?? "?"}${dirty ? " (uncommitted changes)" : ""}${SYSCAGE_ROOT !== ROOT ? ` at ${SYSCAGE_ROOT}` : ""} · unicorn ${unicorn ?? "?"}`);
  p();
  p(`Method: every program is run ${opts.runs}× per runner (runs interleaved), the best wall time is kept; wall time is`);
  p(`measured around the spawn, peak RSS is GNU time's %M (ru_maxrss of the child: node for syscage, qemu for qemu-user),`);
  p(`highest over the runs. syscage runs as \`node dist/cli.js run <bin>\`, so its times include Node's own start-up.`);
  p(`- getpid round trip = (wall(getpid_loop ${opts.iters}) − wall(getpid_loop 0)) / ${opts.iters}: the same static binary with zero`);
  p(`  iterations is the baseline, so process/emulator start-up and exit cancel out; each iteration is one raw syscall(SYS_getpid).`);
  p(`- compute_loop = wall(compute_loop) − wall(compute_loop 0): FNV-1a over a 64 KiB xorshift buffer, ~1 s natively;`);
  p(`  all runners must print the same hash.`);
  p(`- store_loop = wall(store_loop) − wall(store_loop 0): 8-byte stores of xorshift64 over a 64 KiB buffer, ~0.1 s natively;`);
  p(`  informational (no bar): compute_loop's hot loop only loads, this one shows what guest stores cost.`);
  p(`- hello = plain wall time of a static hello world, start-up included (compare: \`node -e 0\`).`);
  if (strippedEnv.length) p(`- children run without ${strippedEnv.join(", ")} (set in this environment; they slow every Node start-up; --keep-node-env keeps them).`);
  p();
  p(`| arch | benchmark | unit | native | qemu-user | syscage | syscage/qemu | RSS MiB native | RSS MiB qemu | RSS MiB syscage |`);
  p(`|---|---|---|--:|--:|--:|--:|--:|--:|--:|`);
  for (const r of a.rows) {
    const v = r.value;
    p(`| ${r.arch} | ${r.bench} | ${r.unit} | ${fmt(v.native, r.unit)} | ${fmt(v["qemu-user"], r.unit)} | ${fmt(v.syscage, r.unit)} | ${fmtRatio(ratio(v.syscage, v["qemu-user"]))} | ${fmtMiB(r.rss.native)} | ${fmtMiB(r.rss["qemu-user"])} | ${fmtMiB(r.rss.syscage)} |`);
  }
  p(`| host | \`node -e 0\` | ms wall | ${fmt(a.nodeMs, "ms")} | | | | ${fmtMiB(a.nodeRss)} | | |`);
  p();

  const bars = [];
  const row = (arch, id) => a.rows.find((r) => r.arch === arch && r.id === id);
  const barLines = (arch, label) => {
    const lines = [];
    const verdict = (ok) => ok === undefined ? "N/A " : ok ? "PASS" : "FAIL";
    const s = row(arch, "syscall"), c = row(arch, "compute"), h = row(arch, "hello");
    if (!s) return lines;
    const sv = usable(s.value.syscage), sq = usable(s.value["qemu-user"]);
    const sOk = sv === undefined || sq === undefined ? undefined : sv <= BAR_SYSCALL * sq;
    lines.push({ ok: sOk, text: `${verdict(sOk)}  syscall round trip ≤ ${BAR_SYSCALL}× ${label}: syscage ${fmt(sv, "ns")} ns vs limit ${fmt(sq === undefined ? undefined : BAR_SYSCALL * sq, "ns")} ns (qemu ${fmt(sq, "ns")} ns; ratio ${fmtRatio(ratio(sv, sq))})` });
    const cv = usable(c.value.syscage), cq = usable(c.value["qemu-user"]);
    const cOk = cv === undefined || cq === undefined ? undefined : cv <= BAR_COMPUTE * cq;
    lines.push({ ok: cOk, text: `${verdict(cOk)}  compute ≤ ${BAR_COMPUTE}× ${label}: syscage ${fmt(cv, "s")} s vs limit ${fmt(cq === undefined ? undefined : BAR_COMPUTE * cq, "s")} s (qemu ${fmt(cq, "s")} s; ratio ${fmtRatio(ratio(cv, cq))}; wall incl. start-up: ${fmt(c.wall.syscage, "s")} s vs ${fmt(c.wall["qemu-user"], "s")} s)` });
    const hv = usable(h.value.syscage);
    const hOk = hv === undefined || a.nodeMs === undefined ? undefined : hv <= a.nodeMs + BAR_HELLO_MS;
    lines.push({ ok: hOk, text: `${verdict(hOk)}  hello ≤ node -e 0 + ${BAR_HELLO_MS} ms: syscage ${fmt(hv, "ms")} ms vs limit ${fmt(a.nodeMs === undefined ? undefined : a.nodeMs + BAR_HELLO_MS, "ms")} ms (node -e 0 ${fmt(a.nodeMs, "ms")} ms; syscage − node = ${fmt(hv === undefined || a.nodeMs === undefined ? undefined : hv - a.nodeMs, "ms")} ms)` });
    return lines;
  };
  if (opts.arches.includes("x86_64")) {
    p(`## Bars (x86_64 vs qemu-x86_64)`);
    p();
    p("```");
    for (const l of barLines("x86_64", "qemu-x86_64")) { p(l.text); bars.push(l); }
    p("```");
    p();
  }
  for (const arch of opts.arches.filter((x) => x !== "x86_64")) {
    p(`Same bars for ${arch} vs ${ARCHES[arch].qemu}, for reference only:`);
    p();
    p("```");
    for (const l of barLines(arch, ARCHES[arch].qemu)) p(l.text);
    p("```");
    p();
  }
  if (a.problems.length) {
    p(`## Could not run`);
    p();
    for (const pr of a.problems) p(`- ${pr}`);
    p();
  }
  return out.join("\n");
}

// ---------------------------------------------------------------- main

const opts = parseArgs(process.argv.slice(2));
preflight(opts);
setChildEnv(opts);
build(opts);
let results;
try {
  results = runAll(opts);
} finally {
  fs.rmSync(timeOut, { force: true });
}
const analysis = analyse(opts, results);
process.stdout.write(report(opts, analysis) + "\n");
if (opts.json) {
  const raw = [...results.values()].map(({ check, ...r }) => r);
  fs.writeFileSync(opts.json, JSON.stringify({ opts, rows: analysis.rows, nodeMs: analysis.nodeMs, problems: analysis.problems, raw }, null, 2) + "\n");
}
process.exit(analysis.problems.length ? 2 : 0);
