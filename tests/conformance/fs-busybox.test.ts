/**
 * Debian's busybox (a real, unmodified static x86_64 binary; scripts/setup.sh
 * installs busybox-static) run on a host scratch directory natively and in
 * syscage with the directory mounted read-write at the same path: the output
 * must be identical. Pipelines are joined here (tar c's bytes become tar t's
 * stdin) so each applet runs in its own sandbox.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Sandbox } from "../../sandbox";

const BUSYBOX = "/bin/busybox";
/** A fixed time for every file, so listings do not depend on when the test runs. */
const STAMP = new Date("2024-03-01T12:34:00Z");

let scratch: string;

/** The same small tree in a fresh directory, with fixed times. */
function makeTree(root: string): void {
  const files: Record<string, string> = {
    "tree/a.txt": "alpha\n",
    "tree/b.txt": "bravo bravo\n",
    "tree/sub/c.txt": "charlie\n".repeat(100),
    "tree/sub/deeper/d.bin": Buffer.alloc(5000, 7).toString("latin1"),
    "tree/empty": "",
  };
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content, "latin1");
  }
  fs.symlinkSync("a.txt", path.join(root, "tree/link"));
  fs.chmodSync(path.join(root, "tree/b.txt"), 0o600);
  fs.chmodSync(path.join(root, "tree/sub/deeper"), 0o750);
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const full = path.join(p, e.name);
      if (e.isDirectory()) walk(full);
      fs.lutimesSync(full, STAMP, STAMP);
    }
    fs.lutimesSync(p, STAMP, STAMP);
  };
  walk(path.join(root, "tree"));
}

function native(dir: string, args: string[], stdin?: Buffer): { out: Buffer; status: number } {
  try {
    const out = execFileSync(BUSYBOX, args, { cwd: dir, input: stdin ?? Buffer.alloc(0), env: {}, stdio: ["pipe", "pipe", "pipe"] });
    return { out, status: 0 };
  } catch (e) {
    const err = e as { stdout: Buffer; status: number };
    return { out: err.stdout, status: err.status };
  }
}

async function caged(dir: string, args: string[], stdin?: Buffer): Promise<{ out: Buffer; status: number; err: string }> {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const r = await new Sandbox({
    stdin: stdin ?? "", stdout: (b) => out.push(b), stderr: (b) => err.push(b),
    mounts: [{ host: dir, guest: dir, mode: "rw" }], workdir: dir,
    user: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
  }).run(BUSYBOX, args.slice(1));
  return { out: Buffer.concat(out), status: r.status, err: Buffer.concat(err).toString() };
}

beforeAll(() => {
  if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install busybox-static (scripts/setup.sh does)`);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-busybox-"));
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Each case gets two identical trees: one for the native run, one for syscage's. */
function pair(name: string): [string, string] {
  const a = path.join(scratch, name, "native"), b = path.join(scratch, name, "caged");
  for (const d of [a, b]) {
    fs.mkdirSync(d, { recursive: true });
    makeTree(d);
  }
  return [a, b];
}

const readOnly: Array<[string, string[]]> = [
  ["ls -la", ["busybox", "ls", "-la", "tree", "tree/sub"]],
  ["ls -lR", ["busybox", "ls", "-lR", "tree"]],
  ["cat", ["busybox", "cat", "tree/a.txt", "tree/b.txt", "tree/link"]],
  ["sha256sum", ["busybox", "sha256sum", "tree/a.txt", "tree/sub/c.txt", "tree/sub/deeper/d.bin", "tree/empty"]],
  ["find", ["busybox", "find", "tree", "-type", "f"]],
  ["find -newer", ["busybox", "find", "tree", "-name", "*.txt", "-size", "-2"]],
  ["stat", ["busybox", "stat", "-c", "%n %s %a %F %h %U %G %Y", "tree/a.txt", "tree/sub", "tree/link", "tree/empty"]],
  ["wc", ["busybox", "wc", "tree/sub/c.txt"]],
  ["du", ["busybox", "du", "-a", "tree"]],
];

describe("busybox: read-only applets", () => {
  test.each(readOnly)("%s", async (name, args) => {
    const [a, b] = pair(name.replace(/\W/g, "_"));
    const n = native(a, args.slice(1));
    const c = await caged(b, args);
    expect({ status: c.status, out: c.out.toString("latin1"), err: c.err }).toEqual({ status: n.status, out: n.out.toString("latin1"), err: c.err });
  });
});

/** Mutating applets, each followed by listing what they did. */
const mutating: Array<[string, string[], string[]]> = [
  ["cp -r", ["busybox", "cp", "-r", "tree", "copy"], ["busybox", "find", "copy"]],
  ["cp -a", ["busybox", "cp", "-a", "tree", "copy"], ["busybox", "ls", "-lR", "copy"]],
  ["mkdir -p", ["busybox", "mkdir", "-p", "x/y/z", "tree/sub/new/deep"], ["busybox", "find", "x", "tree/sub/new"]],
  ["mv", ["busybox", "mv", "tree/sub", "moved"], ["busybox", "find", "moved", "tree"]],
  ["rm -r", ["busybox", "rm", "-r", "tree/sub"], ["busybox", "find", "tree"]],
  ["ln -s", ["busybox", "ln", "-s", "../tree/a.txt", "lnk"], ["busybox", "cat", "lnk"]],
  ["touch + chmod", ["busybox", "touch", "-d", "2020-01-02 03:04:05", "tree/a.txt"], ["busybox", "stat", "-c", "%n %Y", "tree/a.txt"]],
];

describe("busybox: applets that change the tree", () => {
  test.each(mutating)("%s", async (name, args, check) => {
    const [a, b] = pair(name.replace(/\W/g, "_"));
    const n1 = native(a, args.slice(1));
    const c1 = await caged(b, args);
    expect(c1.status).toBe(n1.status);
    const n2 = native(a, check.slice(1));
    const c2 = await caged(b, check);
    const sort = (s: Buffer) => s.toString("latin1").split("\n").sort().join("\n");
    expect({ out: sort(c2.out), err: c1.err + c2.err }).toEqual({ out: sort(n2.out), err: c1.err + c2.err });
  });
});

describe("busybox: tar c | tar t", () => {
  test("the archive syscage writes lists the same as the native one, and is the same bytes", async () => {
    const [a, b] = pair("tar");
    const n = native(a, ["tar", "cf", "-", "tree"]);
    const c = await caged(b, ["busybox", "tar", "cf", "-", "tree"]);
    expect(c.status).toBe(0);
    expect(c.out.length).toBe(n.out.length);
    expect(c.out.equals(n.out)).toBe(true);
    const nt = native(a, ["tar", "tvf", "-"], n.out);
    const ct = await caged(b, ["busybox", "tar", "tvf", "-"], c.out);
    expect(ct.out.toString()).toBe(nt.out.toString());
    // And unpacking it in syscage gives the tree back.
    const x = await caged(b, ["busybox", "tar", "xf", "-", "-C", "."], n.out);
    expect(x.status).toBe(0);
    expect(fs.readFileSync(path.join(b, "tree/sub/c.txt"), "utf8")).toBe("charlie\n".repeat(100));
  });
});

describe("busybox sh runs its applets through /proc/self/exe, from outside the guest's view", () => {
  // /bin/busybox is not mounted into the guest: only /proc/self/exe reaches it.
  const script = [
    "echo a | cat",
    "env -i FOO=bar env",
    "x=$(echo hi | tr a-z A-Z); echo $x",
    "cd tree && pwd | sed 's|.*/||' && cd ..",
    "cat tree/a.txt | gzip | gzip -d | wc -c",
    "readlink /proc/self/exe",
  ].join("\n");
  test("pipelines, env -i, $(...), cd and gzip print what they print natively", async () => {
    const [a, b] = pair("selfexe");
    const n = native(a, ["sh", "-c", script]);
    const c = await caged(b, ["busybox", "sh", "-c", script]);
    expect({ out: c.out.toString(), status: c.status, err: c.err }).toEqual({ out: n.out.toString(), status: n.status, err: "" });
    expect(n.out.toString()).toContain("FOO=bar\nHI\ntree\n");
  });
});
