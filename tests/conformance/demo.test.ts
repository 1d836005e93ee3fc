/** The README's first command ends in `npm run demo`: it must show listen's number on each arch and its results. */
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");

test("the demo runs the listen fixture on all three arches", () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "demo.js")], { cwd: ROOT, encoding: "utf8" });
  expect(r.status).toBe(0);
  for (const [arch, nr] of [["i386", 363], ["x86_64", 50], ["aarch64", 201]] as const) {
    expect(r.stdout).toContain(`== ${arch}: listen is syscall ${nr}; the guest exited with status 0\n`);
  }
  expect(r.stdout).toContain("[i386 syscall 102] socketcall(SYS_LISTEN, [4, 1]) = -1 EADDRINUSE\n");
  expect(r.stdout).toContain("[x86_64 syscall 50] listen(4, 1) = -1 EADDRINUSE\n");
  expect(r.stdout).toContain("[aarch64 syscall 201] listen(999, 1) = -1 EBADF\n");
});
