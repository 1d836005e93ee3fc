/** The README's library example is examples/api.ts verbatim, and it runs. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");

test("README shows examples/api.ts as it is", () => {
  const example = fs.readFileSync(path.join(ROOT, "examples", "api.ts"), "utf8");
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  expect(readme).toContain("```ts\n" + example + "```\n");
});

test("the example runs hello on aarch64 and sees its write", () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "examples", "api.js")], { cwd: ROOT, encoding: "utf8" });
  expect(r.stdout).toBe('write(1, ..., 13) = 13\nexit status 0, stdout "hello, world\\n"\n');
  expect(r.status).toBe(0);
});
