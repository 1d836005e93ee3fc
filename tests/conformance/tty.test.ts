/** /dev/tty and terminal ioctls on a real terminal: a pty from Python's pty module, compared with the native run on one. */
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");
const CLI = path.join(ROOT, "dist", "cli.js");
const fixture = (arch: string) => path.join(ROOT, "fixtures", "build", arch, "tty");

/** What a program writes to its terminal when it runs as the session leader of a fresh pty. */
function onPty(argv: string[]): string {
  const r = spawnSync("python3", ["-c", "import pty, sys; pty.spawn(sys.argv[1:])", ...argv],
    { encoding: "utf8", input: "", cwd: ROOT, timeout: 60_000 });
  return r.stdout;
}

const native = onPty([fixture("x86_64")]);

test("natively, the fixture finds its terminal (the reference is not an ENXIO run)", () => {
  expect(native).toContain("isatty: 1\r\n");
  expect(native).toContain("after setsid: open /dev/tty: ENXIO\r\n");
});

test.each(["x86_64", "i386", "aarch64"])("%s: /dev/tty, termios, tcgetpgrp and setsid as on Linux", (arch) => {
  expect(onPty([process.execPath, CLI, "run", fixture(arch)])).toBe(native);
});

test("an interactive busybox sh on a terminal: line editing, a pipeline, Ctrl-C ends the foreground job and not the shell", () => {
  // Both runs in / with the same PATH, so the prompts and lookups match; steps in pty_session.py.
  const session = (argv: string[]) => spawnSync("python3", [path.join(ROOT, "tests", "conformance", "pty_session.py"), ...argv],
    { encoding: "utf8", input: "", cwd: "/", env: { PATH: "/bin:/usr/bin" }, timeout: 120_000 }).stdout;
  const reference = session(["/bin/busybox", "sh"]);
  expect(reference).toContain("sleeping now\n^C\n/ # echo after ctrl-c $?\nafter ctrl-c 130\n");
  expect(reference).toMatch(/status 3\n$/);
  expect(session([process.execPath, CLI, "run", "--env", "PATH=/bin:/usr/bin", "--mount", "/bin:/bin", "--workdir", "/",
    "/bin/busybox", "sh"])).toBe(reference);
});
