/** The CLI as a user meets it: exit statuses, one-line errors for binaries it cannot run, options. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");
const CLI = path.join(ROOT, "dist", "cli.js");
const fixture = (arch: string, name: string) => path.join(ROOT, "fixtures", "build", arch, name);

function run(args: string[], input = "") {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: "utf8", cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let scratch: string;
beforeAll(() => { scratch = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-cli-")); });
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = path.join(scratch, name);
  fs.writeFileSync(p, bytes);
  return p;
}

describe("running binaries", () => {
  test.each(["x86_64", "i386", "aarch64"])("%s: stdout passes through and the exit status is the guest's", (arch) => {
    expect(run(["run", fixture(arch, "exitcode")])).toEqual({ status: 42, stdout: "exiting with status 42\n", stderr: "" });
  });

  test("a guest killed by SIGSEGV exits 139 with a one-line report naming the fault, PC and instruction", () => {
    const r = run(["run", fixture("x86_64", "rofault")]);
    expect(r.status).toBe(139);
    expect(r.stderr).toMatch(/^syscage: SIGSEGV: write protected memory at 0x[0-9a-f]+, pc 0x[0-9a-f]+: mov\S* .+\n$/);
  });

  test("stdin passes through", () => {
    const r = run(["run", fixture("i386", "readstdin")], "abc\n");
    expect(r.stdout).toContain("bytes = 4\nlines = 1\nfnv1a32 = 0x" + fnv("abc\n") + "\n");
    expect(r.status).toBe(0);
  });

  test("--env builds the whole environment and -- ends the options", () => {
    const r = run(["run", "--env", "A=1", "--env=B=two words", "--", fixture("aarch64", "args"), "--x"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('argv[1] = "--x"\n');
    expect(r.stdout).toContain('environ[0] = "A=1"\nenviron[1] = "B=two words"\n');
  });

  test("--strace prints each syscall as strace does, the errno by name (tests/conformance/strace.test.ts compares with strace itself)", () => {
    const r = run(["run", "--strace", fixture("x86_64", "fd_errno")]);
    expect(r.stderr).toContain("\nclose(-1) = -1 EBADF (Bad file descriptor)\n");
    expect(r.stderr).toContain("\nclose(1000) = -1 EBADF (Bad file descriptor)\n");
    expect(r.stderr).toMatch(/\nexit_group\(0\) = \?\n\+\+\+ exited with 0 \+\+\+\n$/);
  });
});

function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

describe("binaries syscage cannot run: one line, status 126", () => {
  const hello = () => fs.readFileSync(fixture("x86_64", "hello"));
  const cases: Array<[string, () => Uint8Array | string, RegExp]> = [
    ["a text file", () => "#!/bin/sh\necho hi\n", /not an ELF file/],
    ["an empty file", () => "", /not an ELF file|truncated/],
    ["a truncated ELF", () => hello().subarray(0, 40), /truncated/],
    ["an unsupported machine", () => { const b = Buffer.from(hello()); b.writeUInt16LE(243, 18); return b; }, /EM_RISCV \(243\)/],
  ];
  test.each(cases)("%s", (name, bytes, message) => {
    const r = run(["run", file(name.replace(/ /g, "_"), bytes())]);
    expect(r.status).toBe(126);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^syscage: /);
  });

  test("a dynamically linked binary names its interpreter", () => {
    const r = run(["run", "/bin/true"]);
    expect(r.status).toBe(126);
    expect(r.stderr).toMatch(/^syscage: .*dynamically linked \(interpreter \/lib64\/ld-linux-x86-64\.so\.2\): dynamic binaries are not supported yet\n$/);
  });

  test.each([
    ["a FIFO", () => { const p = path.join(scratch, "fifo"); spawnSync("mkfifo", [p]); return p; }],
    ["a directory", () => scratch],
    ["a device", () => "/dev/null"],
  ])("%s: EACCES at once, as execve gives", (_name, make) => {
    const p = make();
    const r = spawnSync(process.execPath, [CLI, "run", p], { encoding: "utf8", cwd: ROOT, timeout: 20000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 126, stderr: `syscage: ${p}: not a regular file (EACCES: Permission denied)\n` });
  });

  test("a missing file", () => {
    const r = run(["run", path.join(scratch, "nope")]);
    expect(r).toEqual({ status: 126, stdout: "", stderr: `syscage: ${path.join(scratch, "nope")}: no such file\n` });
  });
});

describe("--log-listen: where each listener is, without correlating bind and listen", () => {
  test.each(["x86_64", "i386", "aarch64"])("%s: the address bind gave, and the backlog after the somaxconn clamp", (arch) => {
    const r = run(["run", "--sysctl", "net.core.somaxconn=2", "--log-listen", "--strace", fixture(arch, "listen")]);
    expect(r.status).toBe(0);
    // The port the trace shows getsockname reporting after bind(127.0.0.1:0).
    const port = /^getsockname\(3, \{sa_family=AF_INET, sin_port=htons\((\d+)\)/m.exec(r.stderr)![1];
    const events = r.stderr.split("\n").filter((l) => l.startsWith("syscage: "));
    expect(events.slice(0, 2)).toEqual([
      `syscage: pid 1000 (listen) listens on tcp 127.0.0.1:${port}, fd 3, backlog 1`,
      `syscage: pid 1000 (listen) listens on tcp 127.0.0.1:${port}, fd 3, backlog 2`, // listen(3, 5) with somaxconn 2
    ]);
    expect(events).toHaveLength(3);
  });
});

describe("--seccomp: a Docker-format profile", () => {
  test.each(["x86_64", "i386", "aarch64"])("%s: the no-listen example denies listen (i386: socketcall's SYS_LISTEN) and nothing else", (arch) => {
    const r = run(["run", "--seccomp", "examples/seccomp-no-listen.json", fixture(arch, "listen")]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("listen("))).toEqual(["listen(999, 1)", "listen(1, 1)", "listen(3, 1)",
      "listen(3, 1)", "listen(4, 1)", "listen(3, 5)", "listen(3, 1)", "listen(3, 1)"].map((l) => `${l} = -1 EPERM`));
    expect(lines).toContain("socket(AF_INET, SOCK_STREAM, 0) = 3");
  });

  test("a profile it cannot honour is a usage error naming the file", () => {
    const bad = file("bad.json", JSON.stringify({ defaultAction: "SCMP_ACT_NOTIFY" }));
    expect(run(["run", "--seccomp", bad, fixture("x86_64", "hello")])).toEqual({
      status: 127, stdout: "", stderr: `syscage: --seccomp ${bad}: unknown seccomp action "SCMP_ACT_NOTIFY"\nTry 'syscage --help'.\n`,
    });
  });
});

describe("a host without room for another guest process", () => {
  // Under `ulimit -v` (KiB) syscage fits two 64-bit processes (513 GiB each), not a third.
  const limited = (gib: number, args: string[]) => {
    const r = spawnSync("/bin/sh", ["-c", `ulimit -v ${gib * 2 ** 20} && exec "$0" "$@"`, process.execPath, CLI, ...args],
      { encoding: "utf8", cwd: ROOT });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test.each(["x86_64", "aarch64"])("%s: fork fails with ENOMEM and the guest goes on", (arch) => {
    expect(limited(1300, ["run", fixture(arch, "forks"), "5"]))
      .toEqual({ status: 0, stdout: "fork 2: ENOMEM\nforked 1, reaped 1\n", stderr: "" });
  });

  test("no room for the first process: one line, status 125", () => {
    expect(limited(400, ["run", fixture("x86_64", "hello")])).toEqual({
      status: 125, stdout: "",
      stderr: "syscage: no host address space for a guest process (each reserves 513 GiB; is ulimit -v set?)\n",
    });
  });
});

describe("ending a guest from outside", () => {
  test("--timeout ends a guest that never stops, with timeout(1)'s status 124", () => {
    const started = Date.now();
    const r = run(["run", "--timeout", "0.5", fixture("x86_64", "busy")]);
    expect(r.status).toBe(124);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test.each(["x86_64", "i386", "aarch64"])("%s: SIGINT to syscage reaches the guest's handler", async (arch) => {
    const { spawn } = await import("child_process");
    const child = spawn(process.execPath, [CLI, "run", fixture(arch, "on_sigint")], { cwd: ROOT });
    let out = "";
    const status = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.startsWith("ready\n")) child.kill("SIGINT");
      });
      child.on("exit", (code) => resolve(code));
    });
    expect({ out, status }).toEqual({ out: "ready\ngot SIGINT\n", status: 5 });
  });

  test.each(["x86_64", "i386", "aarch64"])("%s: a host pipe on stdin has real readiness for poll and epoll", async (arch) => {
    const { spawn } = await import("child_process");
    const child = spawn(process.execPath, [CLI, "run", fixture(arch, "stdin_wait")], { cwd: ROOT });
    let out = "";
    const status = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.endsWith("waiting\n")) setTimeout(() => child.stdin.write("ping\n"), 200);
        if (out.endsWith("epoll_ctl(stdin) = 0\n")) setTimeout(() => child.stdin.end("pong\n"), 200);
      });
      child.on("exit", (code) => resolve(code));
    });
    expect({ out, status }).toEqual({
      out: "poll before input = 0\nwaiting\npoll = 1, POLLIN yes\nread 5: ping\nepoll_ctl(stdin) = 0\nepoll_wait = 1, read 5: pong\n",
      status: 0,
    });
  });

  test("a second SIGINT ends a guest that never reaches a syscall, with status 130", async () => {
    const { spawn } = await import("child_process");
    const child = spawn(process.execPath, [CLI, "run", fixture("x86_64", "busy")], { cwd: ROOT });
    const status = await new Promise<number | null>((resolve) => {
      child.on("exit", (code) => resolve(code));
      setTimeout(() => child.kill("SIGINT"), 500);
      setTimeout(() => child.kill("SIGINT"), 900);
    });
    expect(status).toBe(130);
  });
});

describe("options", () => {
  test("--help lists every option", () => {
    const r = run(["--help"]);
    expect(r.status).toBe(0);
    for (const opt of ["--env", "--strace", "--timeout", "--help", "--version"]) expect(r.stdout).toContain(opt);
  });

  test("`syscalls` prints the compatibility table with each arch's numbers", () => {
    const r = run(["syscalls"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^listen +363 +50 +201  yes$/m);
    expect(r.stdout).toMatch(/^socketcall +102 +- +-  yes$/m);
    expect(r.stdout).toMatch(/^served: i386 \d+\/\d+, x86_64 \d+\/\d+, aarch64 \d+\/\d+$/m);
  });

  test("--version prints the package version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(run(["--version"])).toEqual({ status: 0, stdout: `syscage ${pkg.version}\n`, stderr: "" });
  });

  test("an unknown option is a usage error", () => {
    const r = run(["run", "--frobnicate", fixture("x86_64", "hello")]);
    expect(r.status).toBe(127);
    expect(r.stderr).toBe("syscage: unknown option '--frobnicate'\nTry 'syscage --help'.\n");
  });
});
