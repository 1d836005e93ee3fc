#!/usr/bin/env node
// Runs LTP's syscalls suite (runtest/syscalls) on the reference (this host's
// kernel natively; qemu-aarch64 for aarch64) and/or under syscage, and records
// one result per runtest entry in a JSON file per arch. See README.md.
//
//   node conformance/ltp/run.mjs --arch x86_64 --ltp /work/ltp-build --reference
//   node conformance/ltp/run.mjs --arch x86_64 --ltp /work/ltp-build --syscage --only '^listen0'
//   node conformance/ltp/run.mjs --table          (RESULTS.md + RESULTS.json from the results-*.json)
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const ARCHES = ["x86_64", "i386", "aarch64"];
const TAIL_LINES = 40;

const USAGE = `usage: node conformance/ltp/run.mjs --arch ARCH [options]
       node conformance/ltp/run.mjs --table [table options]   (see table.mjs)

what to run (default --syscage):
  --reference          run on the reference: natively (x86_64; i386 under setarch i686),
                       qemu-aarch64 for aarch64. Tests in host-changing.txt are not run
                       natively: their reference is recorded as "notnative".
  --syscage            run under syscage (node dist/cli.js run ...)
  --both               both
options:
  --arch ARCH          x86_64 | i386 | aarch64 (required)
  --ltp DIR            build output of build.sh (DIR/ARCH/ltp), or an LTP install
                       prefix (holding testcases/bin and runtest/syscalls); default /work/ltp-build
  --only REGEX         only the runtest entries whose name matches REGEX
  --skip REGEX         leave out the entries whose name matches REGEX
  --jobs N             tests run in parallel (default 2)
  --timeout SECS       wall-clock limit per test before the test prints LTP's "Overall
                       timeout per run" line (default 120). Once it does, the limit
                       becomes that timeout + 30 s (each new run of the test restarts it),
                       never more than --max-timeout.
  --max-timeout SECS   hard limit per test (default 1200)
  --timeout-mul X      LTP_TIMEOUT_MUL for syscage runs (default 3); the reference gets
                       --ref-timeout-mul (default 1, 3 under qemu-aarch64)
  --runtime-mul X      LTP_RUNTIME_MUL for both sides (default: unset, i.e. 1)
  --env K=V            extra environment for the tests, both sides (repeatable)
  --out FILE           results JSON (default conformance/ltp/results-ARCH.json). An existing
                       file is updated: a run replaces the side it ran (with --only/--skip
                       only the tests it ran), the other side's results are kept.
  --reuse-reference F  take the reference results from F (another results JSON)
  --syscage-cli FILE   default: ${path.join(REPO, "dist/cli.js")}
  --tmp DIR            where the native runs' temporary directories go (default ${os.tmpdir()})
  --guest-shell FILE   a static busybox to give the guest as /bin (sh, cp, zcat...: LTP's library
                       popen()s and system()s them, as a container image would offer);
                       default /bin/busybox (Debian's busybox-static), "none" for no /bin
  --keep               keep each test's output file and temporary directory
  --no-nss-fix         run the reference without the private mount namespace that gives
                       the static binaries an /etc/nsswitch.conf of "files" only
  --list               print the tests (name, binary present, host-changing) and exit
`;

// ---------------------------------------------------------------------------
// command line

function parseArgs(argv) {
  const o = {
    arch: undefined, ltp: "/work/ltp-build", only: undefined, skip: undefined, jobs: 2, timeout: 120,
    maxTimeout: 1200, timeoutMul: 3, refTimeoutMul: undefined, runtimeMul: undefined, env: [],
    out: undefined, reuseReference: undefined, cli: path.join(REPO, "dist/cli.js"), tmp: os.tmpdir(),
    keep: false, list: false, reference: false, syscage: false, nssFix: true, guestShell: "/bin/busybox",
  };
  const need = (i) => {
    if (i + 1 >= argv.length) die(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--arch": o.arch = need(i); i++; break;
      case "--ltp": o.ltp = need(i); i++; break;
      case "--only": o.only = new RegExp(need(i)); i++; break;
      case "--skip": o.skip = new RegExp(need(i)); i++; break;
      case "--jobs": case "-j": o.jobs = Number(need(i)); i++; break;
      case "--timeout": o.timeout = Number(need(i)); i++; break;
      case "--max-timeout": o.maxTimeout = Number(need(i)); i++; break;
      case "--timeout-mul": o.timeoutMul = Number(need(i)); i++; break;
      case "--ref-timeout-mul": o.refTimeoutMul = Number(need(i)); i++; break;
      case "--runtime-mul": o.runtimeMul = Number(need(i)); i++; break;
      case "--env": o.env.push(need(i)); i++; break;
      case "--out": o.out = need(i); i++; break;
      case "--reuse-reference": o.reuseReference = need(i); i++; break;
      case "--syscage-cli": o.cli = need(i); i++; break;
      case "--tmp": o.tmp = need(i); i++; break;
      case "--guest-shell": o.guestShell = need(i); i++; break;
      case "--keep": o.keep = true; break;
      case "--no-nss-fix": o.nssFix = false; break;
      case "--list": o.list = true; break;
      case "--reference": o.reference = true; break;
      case "--syscage": o.syscage = true; break;
      case "--both": o.reference = o.syscage = true; break;
      case "--help": case "-h": process.stdout.write(USAGE); process.exit(0);
      default: die(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (!ARCHES.includes(o.arch)) die(`--arch must be one of ${ARCHES.join(", ")}\n${USAGE}`);
  if (!o.reference && !o.syscage) o.syscage = true;
  if (!(o.jobs >= 1)) die("--jobs must be >= 1");
  for (const e of o.env) if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) die(`--env ${e}: expected K=V`);
  o.out ??= path.join(HERE, `results-${o.arch}.json`);
  o.refTimeoutMul ??= o.arch === "aarch64" ? 3 : 1;
  return o;
}

function die(msg) {
  process.stderr.write(`run.mjs: ${msg}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// the tests

/** LTPROOT of the arch: DIR/ARCH/ltp as build.sh installs it, or DIR itself. */
function ltpRoot(o) {
  for (const cand of [path.join(o.ltp, o.arch, "ltp"), o.ltp]) {
    if (fs.existsSync(path.join(cand, "testcases/bin")) && fs.existsSync(path.join(cand, "runtest/syscalls"))) {
      return path.resolve(cand);
    }
  }
  die(`no LTP install for ${o.arch} under ${o.ltp} (expected ${path.join(o.ltp, o.arch, "ltp")}/testcases/bin and runtest/syscalls)`);
}

/** runtest/syscalls: one test per line, "NAME COMMAND [ARGS...]". */
function readRuntest(file) {
  const tests = [];
  const seen = new Set();
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [name, ...argv] = line.split(/\s+/);
    if (argv.length === 0 || seen.has(name)) continue;
    seen.add(name);
    tests.push({ name, argv });
  }
  return tests;
}

/** NAME-or-GLOB  text... files (host-changing.txt, known-failures.txt). */
export function readNameList(file) {
  const rules = [];
  if (!fs.existsSync(file)) return rules;
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    const glob = m[1];
    const re = new RegExp("^" + glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
    rules.push({ glob, re, text: m[2] });
  }
  return rules;
}

export function lookupName(rules, name) {
  for (const r of rules) if (r.re.test(name)) return r.text || r.glob;
  return undefined;
}

// ---------------------------------------------------------------------------
// running one test

const SIGNALS = Object.fromEntries(Object.entries(os.constants.signals).map(([k, v]) => [v, k]));

/**
 * Static glibc cannot load the NSS modules a host's nsswitch.conf may name
 * (Debian's "passwd: files systemd"): a getgrnam() that misses in /etc/group
 * dlopen()s libnss_systemd and the static LTP binary dies of SIGSEGV. The
 * reference therefore runs in a private mount namespace whose
 * /etc/nsswitch.conf keeps only the "files" and "dns" sources. Returns the
 * command prefix, or [] when the host's file needs no change.
 */
function nssWrapper(base) {
  let text;
  try { text = fs.readFileSync("/etc/nsswitch.conf", "utf8"); } catch { return { prefix: [], note: "" }; }
  const fixed = text.split("\n").map((line) => {
    const m = /^(\s*[a-z_]+\s*:)(.*)$/.exec(line);
    if (!m) return line;
    const kept = m[2].replace(/\[[^\]]*\]/g, " ").split(/\s+/).filter((w) => w === "files" || w === "dns");
    return `${m[1]} ${kept.length ? kept.join(" ") : "files"}`;
  }).join("\n");
  const norm = (t) => t.split("\n").map((l) => l.replace(/\s+/g, " ").trim()).join("\n");
  if (norm(fixed) === norm(text)) return { prefix: [], note: "" };
  const file = path.join(base, "nsswitch.conf");
  fs.writeFileSync(file, fixed);
  fs.chmodSync(file, 0o644);
  return {
    prefix: ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"', file],
    note: ", in a private mount namespace with /etc/nsswitch.conf reduced to files/dns (static glibc cannot load NSS modules)",
  };
}

/** How the reference runs a binary on this host. */
function referenceLauncher(arch, base, o) {
  const nss = o.nssFix ? nssWrapper(base) : { prefix: [], note: "" };
  const l = referenceLauncherBare(arch);
  return { how: l.how + nss.note, prefix: [...nss.prefix, ...l.prefix] };
}

function referenceLauncherBare(arch) {
  if (arch === "x86_64") return { how: "native", prefix: [] };
  if (arch === "i386") return { how: "native, under setarch i686 (uname says i686, as syscage does)", prefix: ["setarch", "i686"] };
  // aarch64: with qemu-aarch64 registered in binfmt_misc, exec() of aarch64 helpers works too.
  const binfmt = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
  try {
    if (fs.readFileSync(binfmt, "utf8").startsWith("enabled")) return { how: "qemu-aarch64 (binfmt_misc)", prefix: [] };
  } catch { /* not registered */ }
  process.stderr.write(
    "run.mjs: qemu-aarch64 is not registered in binfmt_misc: running each test as `qemu-aarch64 BINARY`;\n" +
    "  tests that exec() other aarch64 binaries will fail on the reference. To register it:\n" +
    "  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; systemd-binfmt (or update-binfmts --enable qemu-aarch64)\n");
  return { how: "qemu-aarch64 (no binfmt_misc: exec of helpers fails)", prefix: ["qemu-aarch64"] };
}

function baseEnv(o, root, bin, tmpdir, timeoutMul) {
  const env = {
    PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    TMPDIR: tmpdir,
    LTPROOT: root,
    LTP_TIMEOUT_MUL: String(timeoutMul),
  };
  if (o.runtimeMul !== undefined) env.LTP_RUNTIME_MUL = String(o.runtimeMul);
  for (const e of o.env) {
    const i = e.indexOf("=");
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  return env;
}

let guestBin; // the guest's /bin under syscage (makeGuestBin), or undefined

/** A directory holding `busybox` and a link to it for each of its applets: the guest's /bin. */
function makeGuestBin(busybox) {
  if (!fs.existsSync(busybox)) die(`${busybox} not found (install busybox-static, or --guest-shell none)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltp-guest-bin-"));
  tempDirs.add(dir);
  fs.copyFileSync(busybox, path.join(dir, "busybox"));
  fs.chmodSync(path.join(dir, "busybox"), 0o755);
  const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
  for (const a of applets) fs.symlinkSync("busybox", path.join(dir, a));
  return dir;
}

const running = new Set(); // { pid } of the live tests (session leaders), killed on exit
const tempDirs = new Set(); // removed on exit unless --keep

/** The pids of the processes in session `sid` (from /proc/PID/stat). */
function sessionMembers(sid) {
  const pids = [];
  let names = [];
  try { names = fs.readdirSync("/proc"); } catch { return pids; }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, "latin1");
      // pid (comm) state ppid pgrp session ...
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[3]) === sid) pids.push(Number(n));
    } catch { /* gone */ }
  }
  return pids;
}

/**
 * Kills what a test started: its process group, and the rest of its session
 * (each test is a session leader: spawn(detached) calls setsid, and LTP moves
 * its test process into a process group of its own).
 */
function killGroup(pid) {
  for (let round = 0; round < 3; round++) {
    try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ }
    const rest = sessionMembers(pid);
    if (!rest.length) break;
    for (const p of rest) {
      try { process.kill(-p, "SIGKILL"); } catch { /* not a group leader */ }
      try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
    }
  }
}

/**
 * Runs argv with stdout+stderr into one file (so their order is kept), in its
 * own process group, and applies the timeout policy. Resolves to
 * { status, signal, timedOut, seconds, outFile }.
 */
function runOne(argv, { cwd, env, o, outFile }) {
  return new Promise((resolve) => {
    const fd = fs.openSync(outFile, "w");
    const t0 = Date.now();
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ["ignore", fd, fd], detached: true });
    } catch (e) {
      fs.writeSync(fd, `run.mjs: cannot start ${argv[0]}: ${e.message}\n`);
      fs.closeSync(fd);
      resolve({ status: 127, signal: null, timedOut: false, seconds: 0, outFile });
      return;
    }
    fs.closeSync(fd);
    const entry = { pid: child.pid };
    running.add(entry);
    let deadline = t0 + o.timeout * 1000;
    const hardDeadline = t0 + o.maxTimeout * 1000;
    let scanned = 0;
    let timedOut = false;
    const tick = setInterval(() => {
      // LTP prints "Overall timeout per run is 0h 05m 30s" at the start of each run:
      // give the test that long (plus a grace period) from that moment.
      try {
        const size = fs.statSync(outFile).size;
        if (size > scanned) {
          const len = Math.min(size - scanned, 1 << 20);
          const buf = Buffer.alloc(len);
          const rfd = fs.openSync(outFile, "r");
          fs.readSync(rfd, buf, 0, len, scanned);
          fs.closeSync(rfd);
          const text = buf.toString("latin1");
          const re = /Overall timeout per run is (\d+)h (\d+)m (\d+)s/g;
          let m, last;
          while ((m = re.exec(text))) last = m;
          if (last) deadline = Math.max(deadline, Date.now() + ((+last[1]) * 3600 + (+last[2]) * 60 + (+last[3]) + 30) * 1000);
          else if (/Test timeout is not limited/.test(text)) deadline = hardDeadline;
          // keep a line that may be cut in half for the next scan
          const nl = text.lastIndexOf("\n");
          scanned += nl >= 0 ? nl + 1 : (len === 1 << 20 ? len : 0);
        }
      } catch { /* file not there yet */ }
      if (Date.now() > Math.min(deadline, hardDeadline)) {
        timedOut = true;
        killGroup(child.pid);
      }
    }, 1000);
    child.on("error", (e) => {
      fs.appendFileSync(outFile, `run.mjs: cannot start ${argv[0]}: ${e.message}\n`);
    });
    child.on("exit", (status, signal) => {
      clearInterval(tick);
      killGroup(child.pid); // whatever the test left behind in its group
      running.delete(entry);
      resolve({ status, signal, timedOut, seconds: (Date.now() - t0) / 1000, outFile });
    });
  });
}

function readOutput(file) {
  try {
    const st = fs.statSync(file);
    const max = 4 << 20;
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(Math.min(st.size, max));
    // head and tail when huge
    if (st.size <= max) fs.readSync(fd, buf, 0, buf.length, 0);
    else {
      fs.readSync(fd, buf, 0, max / 2, 0);
      fs.readSync(fd, buf.subarray(max / 2), 0, max / 2, st.size - max / 2);
    }
    fs.closeSync(fd);
    return buf.toString("utf8");
  } catch {
    return "";
  }
}

/** Counts LTP printed: the new API's Summary block, else the legacy "name N TPASS : ..." lines. */
function parseCounts(text) {
  const m = /Summary:\s*\npassed\s+(\d+)\s*\nfailed\s+(\d+)\s*\nbroken\s+(\d+)\s*\nskipped\s+(\d+)\s*\nwarnings\s+(\d+)/.exec(text);
  if (m) return { passed: +m[1], failed: +m[2], broken: +m[3], skipped: +m[4], warnings: +m[5] };
  const c = { passed: 0, failed: 0, broken: 0, skipped: 0, warnings: 0 };
  let any = false;
  for (const mm of text.matchAll(/^\S+\s+\d+\s+T(PASS|FAIL|BROK|CONF|WARN)\s+:/gm)) {
    any = true;
    c[{ PASS: "passed", FAIL: "failed", BROK: "broken", CONF: "skipped", WARN: "warnings" }[mm[1]]]++;
  }
  return any ? c : undefined;
}

const JS_STACK = /^\s+at (?:.+ \()?(?:node:|file:\/\/|\/).+:\d+:\d+\)?$/m;

/**
 * The outcome of one run:
 *   pass (exit 0), fail (TFAIL bit, or an exit status LTP does not produce, or a
 *   signal), broken (TBROK), warn (TWARN only), conf (TCONF only), timeout (killed by
 *   the runner, or LTP's own "Test timeouted"), crash (syscage itself failed).
 */
function classify(side, r, text) {
  const res = { outcome: "", status: r.status, seconds: Math.round(r.seconds * 10) / 10 };
  if (r.signal) res.signal = r.signal;
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const counts = parseCounts(text);
  if (counts) res.counts = counts;

  let detail;
  if (side === "syscage" && !r.timedOut &&
      (r.status === 70 || /syscage: internal error/.test(text) || (r.signal && r.signal !== "SIGKILL") ||
       JS_STACK.test(text) || ([125, 127].includes(r.status) && /^syscage: /m.test(text)))) {
    res.outcome = "crash";
    detail = lines.find((l) => /syscage: |Error|^\s+at /.test(l)) ?? (r.signal ? `node killed by ${r.signal}` : `syscage exit ${r.status}`);
  } else if (side === "syscage" && r.status === 126 && /^syscage: /m.test(text)) {
    // syscage refused the program in one line (not ELF, a #! script, dynamically linked): not a crash.
    res.outcome = "broken";
    detail = lines.find((l) => /^syscage: /.test(l));
  } else if (r.timedOut || (side === "syscage" && r.status === 124)) {
    res.outcome = "timeout";
    detail = `no result after ${res.seconds} s`;
  } else if (/Test timeouted, sending SIGKILL|Test killed by SIGKILL!/.test(text) && r.status !== 0) {
    res.outcome = "timeout";
    detail = lines.find((l) => /Test timeouted|Test killed by SIGKILL/.test(l));
  } else if (r.signal) {
    res.outcome = "fail";
    detail = `killed by ${r.signal}`;
  } else if (r.status === 0) {
    res.outcome = "pass";
  } else if (r.status > 0 && r.status < 64) {
    res.outcome = r.status & 1 ? "fail" : r.status & 2 ? "broken" : r.status & 4 ? "warn" : r.status & 32 ? "conf" : "fail";
  } else {
    res.outcome = "fail";
    detail = r.status > 128 && r.status < 128 + 65 ? `exit ${r.status}: ${SIGNALS[r.status - 128] ?? "signal " + (r.status - 128)}` : `exit ${r.status}`;
  }
  if (res.outcome !== "pass") {
    const want = { fail: /\bTFAIL\b/, broken: /\bTBROK\b/, conf: /\bTCONF\b/, warn: /\bTWARN\b/ }[res.outcome];
    const first = (want && lines.find((l) => want.test(l))) ?? lines.find((l) => /\bT(FAIL|BROK|CONF)\b/.test(l));
    res.cause = clip(detail ?? first ?? lines[lines.length - 1] ?? "(no output)");
    const flagged = lines.filter((l) => /\bT(FAIL|BROK|WARN|CONF)\b/.test(l));
    if (flagged.length) res.flagged = flagged.slice(0, 10).map(clip); // the first TFAIL/TBROK/TWARN/TCONF lines
    res.tail = lines.slice(-TAIL_LINES).map(clip);
  }
  return res;
}

const clip = (s) => (s.length > 300 ? s.slice(0, 300) + "…" : s);

// ---------------------------------------------------------------------------
// one side of the run

async function runSide(side, o, ctx, tests) {
  const { root, bin, hostChanging } = ctx;
  const base = fs.mkdtempSync(path.join(o.tmp, `ltp-${side}-${o.arch}-`));
  fs.chmodSync(base, 0o755);
  if (!o.keep) tempDirs.add(base);
  const launcher = side === "reference" ? referenceLauncher(o.arch, base, o) : undefined;
  const timeoutMul = side === "reference" ? o.refTimeoutMul : o.timeoutMul;
  const results = {};
  const counts = {};
  let done = 0;
  const t0 = Date.now();
  const active = new Set();
  const isTTY = process.stderr.isTTY;
  let lastPrinted = 0;

  const progress = (final = false) => {
    const el = Math.round((Date.now() - t0) / 1000);
    const hms = `${String(Math.floor(el / 3600))}:${String(Math.floor(el / 60) % 60).padStart(2, "0")}:${String(el % 60).padStart(2, "0")}`;
    const c = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(" ");
    let line = `${side} ${o.arch} [${done}/${tests.length} ${hms}] ${c}${final ? "" : " | " + [...active].join(" ")}`;
    if (isTTY) {
      const w = process.stderr.columns || 120;
      if (line.length > w - 1) line = line.slice(0, w - 2) + "…";
      process.stderr.write(`\r\x1b[K${line}${final ? "\n" : ""}`);
    } else if (final || (done > 0 && done % 25 === 0 && lastPrinted !== done)) {
      lastPrinted = done;
      process.stderr.write(line + "\n");
    }
  };

  const runTest = async (t) => {
    const binPath = path.join(bin, t.argv[0]);
    if (!fs.existsSync(binPath)) return { outcome: "nobinary", cause: `${t.argv[0]} was not built` };
    if (side === "reference" && hostChanging(t.name)) {
      return { outcome: "notnative", cause: `not run natively: ${hostChanging(t.name)}` };
    }
    const safe = t.name.replace(/[^A-Za-z0-9_.-]/g, "_");
    const outFile = path.join(base, `${safe}.out`);
    let argv, cwd, env, work;
    if (side === "reference") {
      work = path.join(base, safe);
      fs.mkdirSync(work, { mode: 0o777 });
      fs.chmodSync(work, 0o777); // tests drop to nobody and must reach TMPDIR
      env = baseEnv(o, root, bin, work, timeoutMul);
      argv = [...launcher.prefix, binPath, ...t.argv.slice(1)];
      cwd = work;
    } else {
      // The guest sees the LTP install read-only at its own path, /tmp is its
      // in-memory tmpfs, and its working directory is a fresh directory there.
      env = baseEnv(o, root, bin, "/tmp", timeoutMul);
      argv = [process.execPath, o.cli, "run", "--timeout", String(o.maxTimeout),
        "--mount", `${root}:${root}`, "--workdir", "/tmp/ltp-cwd"];
      if (guestBin) argv.push("--mount", `${guestBin}:/bin`);
      for (const [k, v] of Object.entries(env)) argv.push("--env", `${k}=${v}`);
      argv.push("--", binPath, ...t.argv.slice(1));
      cwd = base;
      env = { ...process.env }; // node's own environment; the guest's is the --env above
    }
    const r = await runOne(argv, { cwd, env, o, outFile });
    const res = classify(side, r, readOutput(outFile));
    if (!o.keep) {
      fs.rmSync(outFile, { force: true });
      if (work) fs.rmSync(work, { recursive: true, force: true, maxRetries: 2 });
    }
    return res;
  };

  const queue = [...tests];
  const worker = async () => {
    while (queue.length) {
      const t = queue.shift();
      active.add(t.name);
      progress();
      let res;
      try {
        res = await runTest(t);
      } catch (e) {
        res = { outcome: "broken", cause: `run.mjs: ${e.message}` };
      }
      results[t.name] = res;
      counts[res.outcome] = (counts[res.outcome] ?? 0) + 1;
      active.delete(t.name);
      done++;
      progress();
      if (done % 50 === 0) ctx.checkpoint(side, results, t0, launcher);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, tests.length || 1) }, worker));
  progress(true);
  if (!o.keep) fs.rmSync(base, { recursive: true, force: true, maxRetries: 2 });
  else process.stderr.write(`kept outputs in ${base}\n`);
  return { results, t0, launcher, counts };
}

// ---------------------------------------------------------------------------

function syscageVersion(cli) {
  let v = "syscage";
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(cli), "../package.json"), "utf8"));
    v += ` ${pkg.version}`;
  } catch { /* no package.json */ }
  try {
    const sha = execFileSync("git", ["-C", path.dirname(cli), "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["-C", path.dirname(cli), "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    v += ` (git ${sha}${dirty ? ", with uncommitted changes" : ""})`;
  } catch { /* not a git checkout */ }
  return v;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("--table")) {
    const { makeTable } = await import("./table.mjs");
    await makeTable(args.filter((a) => a !== "--table"));
    return;
  }
  const o = parseArgs(args);
  const root = ltpRoot(o);
  const bin = path.join(root, "testcases/bin");
  const version = (() => {
    for (const f of ["Version", "VERSION"]) {
      try { return fs.readFileSync(path.join(root, f), "utf8").trim(); } catch { /* next */ }
    }
    return "unknown";
  })();
  const hcRules = readNameList(path.join(HERE, "host-changing.txt"));
  const hostChanging = (name) => lookupName(hcRules, name);
  let tests = readRuntest(path.join(root, "runtest/syscalls"));
  const allTests = tests;
  if (o.only) tests = tests.filter((t) => o.only.test(t.name));
  if (o.skip) tests = tests.filter((t) => !o.skip.test(t.name));

  if (o.list) {
    for (const t of tests) {
      const built = fs.existsSync(path.join(bin, t.argv[0]));
      process.stdout.write(`${t.name}\t${t.argv.join(" ")}\t${built ? "" : "NOT BUILT"}\t${hostChanging(t.name) ? "host-changing: " + hostChanging(t.name) : ""}\n`);
    }
    process.stderr.write(`${tests.length} tests\n`);
    return;
  }
  if (o.syscage && !fs.existsSync(o.cli)) die(`${o.cli} not found (npm run build)`);
  if (o.syscage && o.guestShell !== "none") guestBin = makeGuestBin(o.guestShell);

  // The results file: kept and updated.
  let doc = {};
  if (fs.existsSync(o.out)) {
    try { doc = JSON.parse(fs.readFileSync(o.out, "utf8")); } catch (e) { die(`${o.out}: ${e.message}`); }
    if (doc.arch && doc.arch !== o.arch) die(`${o.out} holds results for ${doc.arch}, not ${o.arch}`);
  }
  doc.ltp_version = version;
  doc.arch = o.arch;
  doc.suite = "runtest/syscalls";
  doc.ltp_root = root;
  doc.tests = Object.fromEntries(allTests.map((t) => {
    const e = { cmd: t.argv.join(" ") };
    if (!fs.existsSync(path.join(bin, t.argv[0]))) e.built = false;
    const hc = hostChanging(t.name);
    if (hc) e.host_changing = hc;
    return [t.name, e];
  }));
  if (o.reuseReference) {
    const other = JSON.parse(fs.readFileSync(o.reuseReference, "utf8"));
    if (other.arch !== o.arch) die(`${o.reuseReference} holds results for ${other.arch}, not ${o.arch}`);
    if (!other.reference) die(`${o.reuseReference} has no reference results`);
    doc.reference = other.reference;
  }

  const partial = Boolean(o.only || o.skip);
  const sideMeta = (side, t0, launcher, done) => ({
    how: side === "reference" ? launcher.how : syscageVersion(o.cli),
    host_kernel: os.release(),
    started: new Date(t0).toISOString(),
    seconds: Math.round((Date.now() - t0) / 1000),
    complete: done,
    jobs: o.jobs,
    env: { LTP_TIMEOUT_MUL: side === "reference" ? o.refTimeoutMul : o.timeoutMul, ...(o.runtimeMul !== undefined ? { LTP_RUNTIME_MUL: o.runtimeMul } : {}), extra: o.env },
    selection: partial ? { only: o.only?.source, skip: o.skip?.source, tests: tests.length } : undefined,
  });
  const merge = (side, results, t0, launcher, done) => {
    const prev = doc[side]?.results ?? {};
    const meta = sideMeta(side, t0, launcher, done);
    // A partial run updates the tests it ran; a full run replaces the side.
    const merged = partial ? { ...prev, ...results } : results;
    if (partial && doc[side]) {
      meta.runs = [...(doc[side].runs ?? [{ started: doc[side].started, seconds: doc[side].seconds, how: doc[side].how, selection: doc[side].selection }]), { started: meta.started, seconds: meta.seconds, how: meta.how, selection: meta.selection }];
    }
    doc[side] = { ...meta, results: merged };
  };
  const write = () => {
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    const tmp = `${o.out}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(doc, null, 1) + "\n");
    fs.renameSync(tmp, o.out);
  };
  const ctx = {
    root, bin, hostChanging,
    checkpoint: (side, results, t0, launcher) => { merge(side, results, t0, launcher, false); write(); },
  };

  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\nrun.mjs: ${sig}: killing the running tests\n`);
    for (const e of running) killGroup(e.pid);
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => {
    for (const e of running) killGroup(e.pid);
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  process.stderr.write(`LTP ${version} ${o.arch}: ${tests.length} of ${allTests.length} runtest/syscalls entries, ${o.jobs} jobs, ${root}\n`);
  for (const side of ["reference", "syscage"]) {
    if (!o[side]) continue;
    const { results, t0, launcher, counts } = await runSide(side, o, ctx, tests);
    merge(side, results, t0, launcher, true);
    write();
    const secs = Math.round((Date.now() - t0) / 1000);
    process.stderr.write(`${side}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")} in ${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s -> ${o.out}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`run.mjs: ${e.stack ?? e}\n`);
    process.exit(1);
  });
}
