/**
 * --strace against the real strace(1): the same fixture traced natively
 * (x86_64) and under syscage (each arch; i386's socketcall shows as the call
 * it carries) gives the same lines for the socket calls. Values that differ
 * between any two runs — ephemeral ports, stack addresses, autobound names —
 * are masked on both sides.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");
const CLI = path.join(ROOT, "dist", "cli.js");
const fixture = (arch: string, name: string) => path.join(ROOT, "fixtures", "build", arch, name);
const CALLS = ["socket", "socketpair", "bind", "listen", "connect", "accept", "accept4", "getsockname", "getpeername",
  "setsockopt", "getsockopt", "shutdown"];

function mask(trace: string): string[] {
  const call = new RegExp(`^(${CALLS.join("|")})\\(`);
  return trace.split("\n")
    // strace pads the result to column 40; syscage writes one space, as the reference card does.
    .map((l) => l.replace(/\) {2,}= /, ") = "))
    .filter((l) => call.test(l))
    .map((l) => l.replace(/htons\([1-9]\d*\)/g, "htons(PORT)").replace(/0x[0-9a-f]+/g, "0xADDR")
      .replace(/sun_path=@"[0-9a-f]{5}"/g, "sun_path=@\"AUTOBIND\"").replace(/pid=\d+/g, "pid=PID"));
}

let scratch: string;
beforeAll(() => { scratch = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-strace-")); });
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Both sides write stdout to a file: a socket there (spawnSync's default) would change what listen(1, 1) says. */
function stdoutFile(): number {
  return fs.openSync(path.join(scratch, "stdout"), "w");
}

function native(arch: string, name: string): string[] {
  const out = path.join(scratch, `${arch}-${name}.strace`);
  const r = spawnSync("strace", ["-qq", "-e", `trace=${CALLS.join(",")}`, "-o", out, fixture(arch, name)],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", stdoutFile(), "pipe"] });
  expect(r.status).toBe(0);
  return mask(fs.readFileSync(out, "utf8"));
}

function syscage(arch: string, name: string): string[] {
  const r = spawnSync(process.execPath, [CLI, "run", "--strace", fixture(arch, name)],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", stdoutFile(), "pipe"] });
  expect(r.status).toBe(0);
  return mask(r.stderr);
}

// The host runs x86_64 and i386 natively; aarch64 is held to the x86_64 trace (these calls are arch-independent).
describe.each(["listen", "sock_tcp", "sock_unix", "sock_tfo"])("%s", (name) => {
  test.each(["x86_64", "i386", "aarch64"])("%s: the socket calls read as strace's", (arch) => {
    const reference = native(arch === "aarch64" ? "x86_64" : arch, name);
    expect(reference.length).toBeGreaterThan(10);
    expect(syscage(arch, name)).toEqual(reference);
  });
});

test.each(["x86_64", "i386", "aarch64"])("%s: the exec that starts the trace, the reference card's line, and the trace's end", (arch) => {
  const r = spawnSync(process.execPath, [CLI, "run", "--strace", fixture(arch, "listen")], { cwd: ROOT, encoding: "utf8" });
  const lines = r.stderr.split("\n");
  expect(lines).toContain("listen(3, 1) = 0");
  // argv's strings are cut at 32 bytes, as strace -s 32 cuts them; the path is not.
  const bin = fixture(arch, "listen");
  const arg0 = bin.length > 32 ? `"${bin.slice(0, 32)}"...` : `"${bin}"`;
  expect(lines[0].replace(/0x[0-9a-f]+ \/\*/, "ENVP /*")).toBe(`execve("${bin}", [${arg0}], ENVP /* 0 vars */) = 0`);
  expect(lines.slice(-3)).toEqual(["exit_group(0) = ?", "+++ exited with 0 +++", ""]);
});

/** The `--- SIG... ---` lines of a trace, pids and addresses masked, in sorted order (processes interleave). */
function signalLines(trace: string): string[] {
  return (trace.match(/--- SIG.* ---/g) ?? [])
    .map((l) => l.replace(/si_pid=\d+/g, "si_pid=PID").replace(/si_(call_)?addr=0x[0-9a-f]+/g, "si_$1addr=ADDR"))
    .sort();
}

describe.each(["sock_tcp", "sock_unix", "fork_wait"])("%s", (name) => {
  test.each(["x86_64", "i386", "aarch64"])("%s: the signals, as strace shows them arriving", (arch) => {
    const out = path.join(scratch, `${arch}-${name}.signals`);
    const ref = arch === "aarch64" ? "x86_64" : arch;
    const n = spawnSync("strace", ["-f", "-qq", "-e", "trace=none", "-o", out, fixture(ref, name)],
      { cwd: ROOT, encoding: "utf8", stdio: ["ignore", stdoutFile(), "pipe"] });
    expect(n.status).toBe(0);
    const reference = signalLines(fs.readFileSync(out, "utf8"));
    expect(reference.length).toBeGreaterThan(1);
    const r = spawnSync(process.execPath, [CLI, "run", "--strace", fixture(arch, name)],
      { cwd: ROOT, encoding: "utf8", stdio: ["ignore", stdoutFile(), "pipe"] });
    expect(signalLines(r.stderr)).toEqual(reference);
  });
});
