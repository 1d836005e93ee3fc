/**
 * The escape suite against real Linux: fixtures/escape.c tries every way out
 * of a root directory, natively under chroot(8) and in syscage with --root on
 * the same host directory. Every attempt must end the same way (a chroot is
 * what --root promises). Needs root for chroot; x86_64 and i386 run natively.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Sandbox } from "../../sandbox";

const ROOT = path.resolve(__dirname, "../../..");
const isRoot = process.getuid?.() === 0;
const CHROOT = ["/usr/sbin/chroot", "/sbin/chroot", "/usr/bin/chroot"].find((p) => fs.existsSync(p)) ?? "chroot";
const maybe = isRoot ? describe : describe.skip;

/** <scratch>/root is the root; <scratch>/outside/secret is what must stay out of reach. */
function prepare(arch: string): { scratch: string; root: string } {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "syscage-escape-"));
  const root = path.join(scratch, "root");
  fs.mkdirSync(path.join(scratch, "outside"));
  fs.writeFileSync(path.join(scratch, "outside", "secret"), "SECRET");
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  fs.mkdirSync(path.join(root, "data"));
  fs.copyFileSync(path.join(ROOT, "fixtures", "build", arch, "escape"), path.join(root, "bin", "escape"));
  fs.chmodSync(path.join(root, "bin", "escape"), 0o755);
  fs.writeFileSync(path.join(root, "data", "inside"), "inside");
  fs.symlinkSync(path.join(scratch, "outside", "secret"), path.join(root, "data", "abs"));
  fs.symlinkSync("../../outside/secret", path.join(root, "data", "rel"));
  fs.symlinkSync("../../../../../../../../..", path.join(root, "data", "up"));
  return { scratch, root };
}

maybe("escape attempts end as in a chroot", () => {
  test.each(["x86_64", "i386"])("%s", async (arch) => {
    const { scratch, root } = prepare(arch);
    try {
      const native = execFileSync(CHROOT, [root, "/bin/escape"], { env: {} }).toString();
      const out: Uint8Array[] = [], err: Uint8Array[] = [];
      const r = await new Sandbox({
        root, mounts: [], workdir: "/", stdin: "", stdout: (b) => out.push(b), stderr: (b) => err.push(b),
      }).run(path.join(root, "bin", "escape"));
      const caged = Buffer.concat(out).toString();
      expect({ status: r.status, out: caged, err: Buffer.concat(err).toString() }).toEqual({ status: 0, out: native, err: "" });
      expect(native).toContain("open /data/abs = -1 ENOENT");
      expect(native).not.toContain("SECRET");
      expect(fs.readFileSync(path.join(scratch, "outside", "secret"), "utf8")).toBe("SECRET");
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
});
