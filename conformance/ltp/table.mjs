#!/usr/bin/env node
// Makes conformance/ltp/RESULTS.md and RESULTS.json from the results-ARCH.json
// files run.mjs writes.
//
//   node conformance/ltp/table.mjs [--in FILE...] [--out-dir DIR]
//   node conformance/ltp/run.mjs --table [same options]
//
// Per arch: the tests, how many were built, passed on the reference, and of
// those how many pass under syscage, TCONF under syscage, fail, time out or
// crash syscage. The percentage is syscage passes among reference passes.
// Tests in host-changing.txt have no reference (they are not run natively):
// they are left out of the percentage and counted on a line of their own.
// Then one line per test that passes on the reference and not under syscage,
// with a cause from known-failures.txt or else the first TFAIL/TBROK/TCONF
// line of its output.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readNameList, lookupName } from "./run.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARCHES = ["x86_64", "i386", "aarch64"];
const FAILING = new Set(["fail", "broken", "warn"]);

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(1)}%` : "–");
const md = (s) => String(s ?? "").replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/`/g, "'").replace(/</g, "&lt;");

function summarize(doc, known, hostChanging) {
  const tests = Object.keys(doc.tests);
  const ref = doc.reference?.results ?? {};
  const sc = doc.syscage?.results ?? {};
  const s = {
    tests: tests.length,
    built: tests.filter((t) => doc.tests[t].built !== false).length,
    reference_run: Boolean(doc.reference),
    syscage_run: Boolean(doc.syscage),
    reference_outcomes: {},
    syscage_outcomes: {},
    reference_pass: 0,
    syscage_pass: 0,
    syscage_tconf: 0,
    syscage_failing: 0,
    syscage_timeout: 0,
    syscage_crash: 0,
    syscage_not_run: 0,
    percent: null,
    host_changing: 0,
    host_changing_syscage_pass: 0,
    syscage_pass_reference_not: 0,
    regressions: [],
  };
  for (const t of tests) {
    const r = ref[t]?.outcome ?? "no result";
    const c = sc[t]?.outcome ?? "no result";
    s.reference_outcomes[r] = (s.reference_outcomes[r] ?? 0) + 1;
    s.syscage_outcomes[c] = (s.syscage_outcomes[c] ?? 0) + 1;
    // the current host-changing.txt decides (the results file keeps the list of its run)
    if (lookupName(hostChanging, t) ?? (r === "notnative" ? doc.tests[t].host_changing : undefined)) {
      s.host_changing++;
      if (c === "pass") s.host_changing_syscage_pass++;
      continue;
    }
    if (r !== "pass") {
      if (c === "pass") s.syscage_pass_reference_not++;
      continue;
    }
    s.reference_pass++;
    if (c === "pass") { s.syscage_pass++; continue; }
    if (c === "conf") s.syscage_tconf++;
    else if (FAILING.has(c)) s.syscage_failing++;
    else if (c === "timeout") s.syscage_timeout++;
    else if (c === "crash") s.syscage_crash++;
    else { s.syscage_not_run++; continue; }
    const knownCause = lookupName(known, t);
    s.regressions.push({
      test: t,
      cmd: doc.tests[t].cmd,
      outcome: c,
      cause: knownCause ?? sc[t]?.cause ?? "",
      cause_from: knownCause ? "known-failures.txt" : "output",
    });
  }
  if (s.syscage_run) s.percent = s.reference_pass ? Math.round((1000 * s.syscage_pass) / s.reference_pass) / 10 : null;
  return s;
}

export async function makeTable(argv = process.argv.slice(2)) {
  let inputs = [];
  let outDir = HERE;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--in") { while (argv[i + 1] && !argv[i + 1].startsWith("--")) inputs.push(argv[++i]); }
    else if (argv[i] === "--out-dir") outDir = argv[++i];
    else throw new Error(`table: unknown option ${argv[i]}`);
  }
  if (!inputs.length) inputs = ARCHES.map((a) => path.join(HERE, `results-${a}.json`)).filter((f) => fs.existsSync(f));
  if (!inputs.length) throw new Error("table: no results-ARCH.json to read (run run.mjs first)");
  const known = readNameList(path.join(HERE, "known-failures.txt"));
  const hostChanging = readNameList(path.join(HERE, "host-changing.txt"));
  const docs = inputs.map((f) => JSON.parse(fs.readFileSync(f, "utf8")))
    .sort((a, b) => ARCHES.indexOf(a.arch) - ARCHES.indexOf(b.arch));
  const versions = [...new Set(docs.map((d) => d.ltp_version))];
  const out = { ltp_version: versions.join(", "), suite: "runtest/syscalls", generated: new Date().toISOString(), arches: {} };
  for (const d of docs) {
    out.arches[d.arch] = {
      reference: d.reference ? { how: d.reference.how, host_kernel: d.reference.host_kernel, started: d.reference.started, seconds: d.reference.seconds, complete: d.reference.complete } : null,
      syscage: d.syscage ? { how: d.syscage.how, started: d.syscage.started, seconds: d.syscage.seconds, complete: d.syscage.complete, selection: d.syscage.selection } : null,
      ...summarize(d, known, hostChanging),
    };
  }

  const L = [];
  L.push(`# LTP ${out.ltp_version} syscalls under syscage`, "");
  L.push("Generated by `node conformance/ltp/run.mjs --table` from `conformance/ltp/results-ARCH.json`; see README.md.",
    `Tests are the entries of LTP's \`runtest/syscalls\`. The reference is the host kernel (natively; qemu-aarch64 for aarch64).`,
    `Tests listed in \`host-changing.txt\` are not run natively: they have no reference, are left out of the percentage`,
    `and are counted on their own row. Percentage = passing under syscage / passing on the reference.`, "");
  const A = Object.keys(out.arches);
  const row = (label, f) => `| ${label} | ${A.map((a) => f(out.arches[a])).join(" | ")} |`;
  L.push(`| | ${A.join(" | ")} |`, `|---|${A.map(() => "---:").join("|")}|`);
  L.push(row("tests (runtest/syscalls)", (s) => s.tests));
  L.push(row("built", (s) => s.built));
  L.push(row("passing on the reference", (s) => (s.reference_run ? s.reference_pass : "not run")));
  L.push(row("… and under syscage", (s) => (s.syscage_run ? `**${s.syscage_pass}**` : "not run")));
  L.push(row("… TCONF under syscage", (s) => (s.syscage_run ? s.syscage_tconf : "")));
  L.push(row("… failing under syscage (TFAIL/TBROK/TWARN)", (s) => (s.syscage_run ? s.syscage_failing : "")));
  L.push(row("… timing out under syscage", (s) => (s.syscage_run ? s.syscage_timeout : "")));
  L.push(row("… crashing syscage", (s) => (s.syscage_run ? s.syscage_crash : "")));
  if (A.some((a) => out.arches[a].syscage_not_run)) L.push(row("… not run under syscage yet", (s) => s.syscage_not_run || ""));
  L.push(row("**syscage / reference**", (s) => (s.percent === null ? "–" : `**${s.percent}%**` +
    (s.syscage_not_run ? ` (${pct(s.syscage_pass, s.reference_pass - s.syscage_not_run)} of the ${s.reference_pass - s.syscage_not_run} run)` : ""))));
  L.push(row("host-changing (no reference): passing under syscage", (s) => `${s.host_changing_syscage_pass} of ${s.host_changing}`));
  L.push(row("passing under syscage, not on the reference", (s) => s.syscage_pass_reference_not));
  L.push(row("reference outcomes", (s) => Object.entries(s.reference_outcomes).map(([k, v]) => `${k} ${v}`).join(", ")));
  L.push(row("syscage outcomes", (s) => Object.entries(s.syscage_outcomes).map(([k, v]) => `${k} ${v}`).join(", ")));
  L.push("");
  for (const a of A) {
    const s = out.arches[a];
    L.push(`- ${a}: reference ${s.reference ? `${s.reference.how}, kernel ${s.reference.host_kernel}, ${s.reference.started}` : "not run"}; ` +
      `syscage ${s.syscage ? `${s.syscage.how}, ${s.syscage.started}${s.syscage.selection ? " (partial: " + JSON.stringify(s.syscage.selection) + ")" : ""}` : "not run"}`);
  }
  L.push("");
  for (const a of A) {
    const s = out.arches[a];
    if (!s.syscage_run || !s.reference_run) continue;
    L.push(`## ${a}: passing on the reference, not under syscage (${s.regressions.length})`, "");
    if (s.syscage_not_run) L.push(`(${s.syscage_not_run} more that pass on the reference have no syscage result yet.)`, "");
    if (!s.regressions.length) { L.push("None.", ""); continue; }
    L.push("Cause: **bold** from `known-failures.txt`, otherwise the first TFAIL/TBROK/TCONF line of the test's output under syscage.", "");
    L.push("| test | syscage | cause |", "|---|---|---|");
    for (const r of s.regressions) L.push(`| ${md(r.test)} | ${r.outcome} | ${r.cause_from === "known-failures.txt" ? "**" + md(r.cause) + "**" : md(r.cause)} |`);
    L.push("");
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "RESULTS.md"), L.join("\n"));
  fs.writeFileSync(path.join(outDir, "RESULTS.json"), JSON.stringify(out, null, 1) + "\n");
  process.stderr.write(`wrote ${path.join(outDir, "RESULTS.md")} and RESULTS.json (${A.map((a) => `${a} ${out.arches[a].percent ?? "–"}%`).join(", ")})\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  makeTable().catch((e) => {
    process.stderr.write(`table.mjs: ${e.message}\n`);
    process.exit(2);
  });
}
