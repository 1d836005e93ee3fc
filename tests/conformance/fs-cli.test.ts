/** The filesystem options of the CLI: --mount (ro, rw, strict), --root, --workdir, --user, and the default view. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");
const CLI = path.join(ROOT, "dist", "cli.js");
const BUSYBOX = "/bin/busybox";

function run(args: string[], input = "") {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: "utf8", cwd: ROOT });
  // prctl is the lead's to implement; its one-time warning is not what these tests look at.
  const stderr = r.stderr.split("\n").filter((l) => !l.includes("unimplemented syscall")).join("\n");
  return { status: r.status, stdout: r.stdout, stderr };
}

let scratch: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-fs-cli-"));
  fs.writeFileSync(path.join(scratch, "hello.txt"), "hello\n");
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

test("by default the current directory is mounted read-only at its own path, and is the working directory", () => {
  expect(run(["run", BUSYBOX, "pwd"]).stdout).toBe(ROOT + "\n");
  expect(run(["run", BUSYBOX, "cat", "fixtures/input.txt"]).stdout).toBe(fs.readFileSync(path.join(ROOT, "fixtures/input.txt"), "utf8"));
  const r = run(["run", BUSYBOX, "mkdir", "syscage-should-not-exist"]);
  expect(r.status).toBe(0);
  expect(fs.existsSync(path.join(ROOT, "syscage-should-not-exist"))).toBe(false);
  expect(run(["run", BUSYBOX, "ls", "/"]).stdout.split("\n")).toEqual(expect.arrayContaining(["dev", "etc", "proc", "tmp"]));
});

test("--mount HOST:GUEST:rw writes reach the host; the default mode and :ro do not; :strict refuses", () => {
  expect(run(["run", "--mount", `${scratch}:/data:rw`, BUSYBOX, "mkdir", "/data/made"]).status).toBe(0);
  expect(fs.statSync(path.join(scratch, "made")).isDirectory()).toBe(true);
  expect(run(["run", "--mount", `${scratch}:/data`, BUSYBOX, "rm", "/data/hello.txt"]).status).toBe(0);
  expect(run(["run", "--mount", `${scratch}:/data:ro`, BUSYBOX, "rm", "/data/hello.txt"]).status).toBe(0);
  expect(fs.existsSync(path.join(scratch, "hello.txt"))).toBe(true);
  const strict = run(["run", "--mount", `${scratch}:/data:strict`, BUSYBOX, "rm", "/data/hello.txt"]);
  expect(strict.status).toBe(1);
  expect(strict.stderr).toContain("Read-only file system");
  expect(run(["run", "--mount", `${scratch}:/data:strict`, BUSYBOX, "cat", "/data/hello.txt"]).stdout).toBe("hello\n");
});

test("--workdir and --user", () => {
  expect(run(["run", "--mount", `${scratch}:/data`, "--workdir", "/data", BUSYBOX, "cat", "hello.txt"]).stdout).toBe("hello\n");
  expect(run(["run", "--workdir", "/tmp/new/dir", BUSYBOX, "pwd"]).stdout).toBe("/tmp/new/dir\n");
  expect(run(["run", "--user", "1234:5678", BUSYBOX, "id", "-u"]).stdout).toBe("1234\n");
  expect(run(["run", "--user", "1234:5678", BUSYBOX, "id", "-gn"]).stdout).toBe("user\n"); // the synthetic /etc/group
  const denied = run(["run", "--user", "1234:5678", BUSYBOX, "mkdir", "/etc/x"]);
  expect(denied.stderr).toContain("Permission denied");
});

test("--root uses a host directory as /, overlaid in memory", () => {
  fs.mkdirSync(path.join(scratch, "etc"));
  fs.writeFileSync(path.join(scratch, "etc", "motd"), "from the root\n");
  const r = run(["run", "--root", scratch, BUSYBOX, "cat", "/etc/motd", "/hello.txt"]);
  expect(r.stdout).toBe("from the root\nhello\n");
  expect(run(["run", "--root", scratch, BUSYBOX, "ls", "/"]).stdout).toBe("dev\netc\nhello.txt\nproc\ntmp\n");
  expect(run(["run", "--root", scratch, BUSYBOX, "rm", "/hello.txt"]).status).toBe(0);
  expect(fs.existsSync(path.join(scratch, "hello.txt"))).toBe(true);
});

test("bad filesystem options are usage errors", () => {
  expect(run(["run", "--mount", "/nonexistent-dir:/x", BUSYBOX, "true"])).toMatchObject({ status: 127 });
  expect(run(["run", "--mount", `${scratch}:relative`, BUSYBOX, "true"])).toMatchObject({ status: 127 });
  expect(run(["run", "--mount", `${scratch}:/x:bogus`, BUSYBOX, "true"])).toMatchObject({ status: 127 });
  expect(run(["run", "--root", "/nonexistent-dir", BUSYBOX, "true"])).toMatchObject({ status: 127 });
  expect(run(["run", "--workdir", "rel", BUSYBOX, "true"])).toMatchObject({ status: 127 });
  expect(run(["run", "--user", "root", BUSYBOX, "true"])).toMatchObject({ status: 127 });
});
