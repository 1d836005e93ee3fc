/**
 * The bundled default: run the listen fixture for all three arches and show
 * each arch's syscall number for listen(2) as syscage traps it. i386 glibc
 * reaches listen through socketcall(2) (sub-call SYS_LISTEN), so that is shown too.
 */
import * as path from "path";
import { arches } from "./arch";
import { numberOf } from "./kernel/syscall-table";
import { Sandbox } from "./sandbox";

const ROOT = path.resolve(__dirname, "..");
/** SYS_LISTEN, include/uapi/linux/net.h. */
const SYS_LISTEN = 4;

async function main(): Promise<void> {
  for (const arch of ["i386", "x86_64", "aarch64"] as const) {
    const binary = path.join(ROOT, "fixtures", "build", arch, "listen");
    const table = arches[arch].table;
    const calls: string[] = [];
    const out: Uint8Array[] = [];
    const show = (r: unknown) => (typeof r === "object" && r !== null ? `-1 ${(r as { name: string }).name}` : String(r));
    const sandbox = new Sandbox({ stdout: (b) => out.push(b), stderr: (b) => out.push(b) })
      .hook("listen", {
        after: (ev, r) => { calls.push(`[${arch} syscall ${ev.nr}] listen(${ev.args.int(0)}, ${ev.args.int(1)}) = ${show(r)}`); },
      })
      .hook("socketcall", {
        after: (ev, r) => {
          if (ev.args.int(0) !== SYS_LISTEN) return;
          const argv = ev.args.ptr(1);
          const fd = ev.task.mm.i32(argv), backlog = ev.task.mm.i32(argv + 4);
          calls.push(`[${arch} syscall ${ev.nr}] socketcall(SYS_LISTEN, [${fd}, ${backlog}]) = ${show(r)}`);
        },
      });
    const { status } = await sandbox.run(binary);
    console.log(`== ${arch}: listen is syscall ${numberOf(table, "listen")}; the guest exited with status ${status}`);
    for (const c of calls) console.log(`   ${c}`);
    console.log("   guest output:");
    process.stdout.write(Buffer.concat(out).toString().replace(/^(?=.)/gm, "   | "));
    console.log();
  }
}

main().catch((e: Error) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
