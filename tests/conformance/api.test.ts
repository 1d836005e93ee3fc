/** The library API: hooks observe and replace syscall results, by Linux name, on every arch. */
import * as path from "path";
import { errno, Sandbox } from "../../index";

const ROOT = path.resolve(__dirname, "../../..");
const fixture = (arch: string, name: string) => path.join(ROOT, "fixtures", "build", arch, name);

describe.each(["x86_64", "i386", "aarch64"])("%s", (arch) => {
  test("a before-hook's value replaces the handler: writes to stdout vanish", async () => {
    const out: Uint8Array[] = [];
    const seen: number[] = [];
    const sb = new Sandbox({ stdout: (b) => out.push(b) }).hook("write", {
      before: (ev) => (ev.args.int(0) === 1 ? ev.args.ulong(2) : undefined),
      after: (_ev, r) => { seen.push(Number(r)); },
    });
    const r = await sb.run(fixture(arch, "hello"));
    expect({ status: r.status, out: Buffer.concat(out).toString(), seen }).toEqual({ status: 0, out: "", seen: [13] });
  });

  test("an after-hook's value replaces the result the guest sees", async () => {
    const out: Uint8Array[] = [];
    const sb = new Sandbox({ stdout: (b) => out.push(b) })
      .hook(arch === "i386" ? "getuid32" : "getuid", { after: () => 4242 });
    await sb.run(fixture(arch, "args"));
    expect(Buffer.concat(out).toString()).toContain("AT_UID == getuid(): no\n");
  });

  test("a hook can fail a syscall with an errno", async () => {
    const out: Uint8Array[] = [];
    // i386 glibc reaches listen through socketcall(2).
    const name = arch === "i386" ? "socketcall" : "listen";
    const sb = new Sandbox({ stdout: (b) => out.push(b) }).hook(name, { before: () => errno.EPERM });
    await sb.run(fixture(arch, "listen"));
    expect(Buffer.concat(out).toString()).toContain("listen(999, 1) = -1 EPERM\n");
  });
});
