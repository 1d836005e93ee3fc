/**
 * Every fixture on every arch, run in-process through the Sandbox API, must
 * print exactly what real Linux printed and exit with the same status
 * (fixtures/expected, recorded by scripts/record-references.sh).
 */
import * as fs from "fs";
import * as path from "path";
import { Sandbox } from "../../sandbox";

const ROOT = path.resolve(__dirname, "../../..");
const FIXTURES = path.join(ROOT, "fixtures");
const ARCHES = ["x86_64", "i386", "aarch64"] as const;

interface Case { name: string; binary?: string; args: string[]; env: Record<string, string>; stdin: string | null }
const cases = JSON.parse(fs.readFileSync(path.join(FIXTURES, "cases.json"), "utf8")) as Case[];

/** The first line where two outputs differ, for a failure message that says where. */
function firstDifference(got: string, want: string): string {
  const g = got.split("\n"), w = want.split("\n");
  for (let i = 0; i < Math.max(g.length, w.length); i++) {
    if (g[i] !== w[i]) return `line ${i + 1}: got ${JSON.stringify(g[i])}, want ${JSON.stringify(w[i])}`;
  }
  return "identical";
}

describe.each(ARCHES)("%s", (arch) => {
  test.each(cases.map((c) => [c.name, c] as const))("%s matches real Linux", async (_name, c) => {
    const binary = path.join(FIXTURES, "build", arch, c.binary ?? c.name);
    const want = fs.readFileSync(path.join(FIXTURES, "expected", arch, `${c.name}.stdout`), "utf8");
    const wantStatus = Number(fs.readFileSync(path.join(FIXTURES, "expected", arch, `${c.name}.status`), "utf8").trim());
    const stdinFd = fs.openSync(c.stdin ? path.join(FIXTURES, c.stdin) : "/dev/null", "r");
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    try {
      const r = await new Sandbox({
        env: c.env, stdin: stdinFd, stdout: (b) => out.push(b), stderr: (b) => err.push(b),
      }).run(binary, c.args);
      const got = Buffer.concat(out).toString("utf8");
      const where = `${c.name} on ${arch}: ${firstDifference(got, want)}\nstderr: ${Buffer.concat(err).toString()}`;
      expect({ where, stdout: got, status: r.status }).toEqual({ where, stdout: want, status: wantStatus });
    } finally {
      fs.closeSync(stdinFd);
    }
  });
});
