/**
 * The bundled default: run the listen fixture for all three arches and show
 * each arch's syscall number for listen(2) as syscage traps it.
 */
import * as path from "path";
import { Sandbox } from "./sandbox";

const ROOT = path.resolve(__dirname, "..");

async function main(): Promise<void> {
  for (const arch of ["i386", "x86_64", "aarch64"]) {
    const binary = path.join(ROOT, "fixtures", "build", arch, "listen");
    const calls: string[] = [];
    const out: Uint8Array[] = [];
    const sandbox = new Sandbox({ stdout: (b) => out.push(b), stderr: (b) => out.push(b) }).hook("listen", {
      after: (ev, result) => {
        const r = typeof result === "object" ? `-1 ${result.name}` : String(result);
        calls.push(`listen(${ev.args.int(0)}, ${ev.args.int(1)}) = ${r}`);
      },
    });
    const { status } = await sandbox.run(binary);
    const nr = Object.entries((await import(`./arch/${{ i386: "x86", x86_64: "x64", aarch64: "arm64" }[arch]}/syscalls`)).syscalls.names as Record<string, string>)
      .find(([, n]) => n === "listen")![0];
    console.log(`== ${arch}: listen is syscall ${nr}; guest exited ${status}`);
    for (const c of calls) console.log(`   ${c}`);
    process.stdout.write(Buffer.concat(out).toString().replace(/^/gm, "   | "));
    console.log();
  }
}

main().catch((e: Error) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
