import { Sandbox } from "syscage";

async function main(): Promise<void> {
  const output: Uint8Array[] = [];
  const sandbox = new Sandbox({ env: { GREETING: "hi" }, stdout: (chunk) => output.push(chunk) })
    // Observe a syscall by its Linux name, on any arch; `after` may also replace the result.
    .hook("write", { after: (ev, result) => console.log(`${ev.name}(${ev.args.int(0)}, ..., ${ev.args.ulong(2)}) = ${result}`) });
  const { status } = await sandbox.run("fixtures/build/aarch64/hello");
  console.log(`exit status ${status}, stdout ${JSON.stringify(Buffer.concat(output).toString())}`);
}

main();
