/**
 * The network options of a sandbox, end to end on all three arches:
 * `--publish` bridges host TCP connections to a guest HTTP server
 * (fixtures/http_server.c), fetched here from Node over real loopback TCP;
 * a published port nobody listens on in the guest refuses host connections;
 * `--sysctl` settings change what the guest's listen(2) and connect(2) do.
 */
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { Sandbox, type SandboxOptions } from "../../sandbox";

const ROOT = path.resolve(__dirname, "../../..");
const ARCHES = ["x86_64", "i386", "aarch64"] as const;
const binary = (arch: string, name: string): string => path.join(ROOT, "fixtures", "build", arch, name);

/** A loopback port nobody uses right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Reply { status: number; body: string }

/** One HTTP GET; rejects on a connection error. */
function get(port: number, urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** GET, retrying while the guest is still starting (its listener not there yet: reset). */
async function getWhenUp(port: number, urlPath: string, deadlineMs = 20000): Promise<Reply> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await get(port, urlPath);
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** What a raw connection to `port` sees: the bytes before it ended, and how it ended. */
function probe(port: number): Promise<{ data: string; how: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ data: Buffer.concat(chunks).toString(), how: e.code ?? "error" }));
    s.on("end", () => resolve({ data: Buffer.concat(chunks).toString(), how: "end" }));
  });
}

/** Run a fixture with network options; its stdout as text. */
async function run(arch: string, name: string, args: string[], options: SandboxOptions): Promise<{ status: number; stdout: string }> {
  const out: Uint8Array[] = [];
  const r = await new Sandbox({ stdout: (b) => out.push(b), stderr: () => undefined, ...options }).run(binary(arch, name), args);
  return { status: r.status, stdout: Buffer.concat(out).toString() };
}

describe.each(ARCHES)("--publish on %s", (arch) => {
  test("a host client fetches from the guest's HTTP server", async () => {
    const port = await freePort();
    const guest = run(arch, "http_server", ["8080", "2"], { publish: [`127.0.0.1:${port}:8080`] });
    const machine = arch === "i386" ? "i686" : arch;
    expect(await getWhenUp(port, "/")).toEqual({ status: 200, body: `hello from ${machine}\n` });
    expect(await get(port, "/missing")).toEqual({ status: 404, body: "not found\n" });
    expect((await guest).status).toBe(0);
  });

  test("a published port the guest does not listen on refuses host connections", async () => {
    const [unused, served] = [await freePort(), await freePort()];
    const guest = run(arch, "http_server", ["9090", "1"], { publish: [`${unused}:8080`, { hostIp: "127.0.0.1", hostPort: served, guestPort: 9090 }] });
    const r = await probe(unused);
    expect(r.data).toBe("");
    expect(["ECONNRESET", "end"]).toContain(r.how);
    expect((await getWhenUp(served, "/")).status).toBe(200);
    expect((await guest).status).toBe(0);
  });
});

describe("--publish", () => {
  test("a host port already taken is a setup error, before the guest runs", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      await expect(run("x86_64", "hello", [], { publish: [`${port}:80`] })).rejects.toThrow(/host port is in use/);
    } finally {
      holder.close();
    }
  });

  test("backpressure: 4 MiB sent to a guest reading 512 bytes at a time all arrive, then the connection ends cleanly", async () => {
    const port = await freePort();
    const guest = run("x86_64", "http_server", ["8080", "1"], { publish: [`${port}:8080`] });
    const answered = await new Promise<string>((resolve, reject) => {
      const tryOnce = (): void => {
        const s = net.connect(port, "127.0.0.1");
        let text = "", sent = false;
        s.on("data", (c: Buffer) => {
          text += c.toString();
          // The answer is in: the server now drains whatever follows, 512 bytes per read.
          if (!sent && text.includes("\r\n\r\n")) {
            sent = true;
            s.end(Buffer.alloc(4 << 20, 0x61));
          }
        });
        s.on("error", (e: NodeJS.ErrnoException) => (sent ? reject(e) : setTimeout(tryOnce, 50)));
        s.on("end", () => (text ? resolve(text) : setTimeout(tryOnce, 50)));
        s.write("GET / HTTP/1.0\r\n\r\n");
      };
      tryOnce();
    });
    expect(answered).toMatch(/^HTTP\/1\.0 200 OK/);
    expect((await guest).status).toBe(0);
  });
});

describe.each(ARCHES)("--sysctl on %s", (arch) => {
  test("net.core.somaxconn=4: listen(fd, 128) admits 5", async () => {
    const { status, stdout } = await run(arch, "sock_backlog", [], { sysctl: ["net.core.somaxconn=4"] });
    expect(status).toBe(0);
    expect(stdout).toContain("backlog 128: established 5 of 8\n");
    expect(stdout).toContain("backlog 5: established 5 of 8\n");
    expect(stdout).toContain("backlog -1: established 5 of 8\n");
    expect(stdout).toContain("backlog 2: established 3 of 8\n");
  });

  test("net.ipv4.tcp_abort_on_overflow=1: a connect against a full queue is refused instead of waiting", async () => {
    const { status, stdout } = await run(arch, "sock_backlog", [], { sysctl: ["net.ipv4.tcp_abort_on_overflow=1"] });
    expect(status).toBe(0);
    expect(stdout).toContain("overflow: connect 0: poll 0x4, SO_ERROR 0\n");
    expect(stdout).toContain("overflow: connect 1: poll 0x1c, SO_ERROR ECONNREFUSED\n");
    expect(stdout).toContain("overflow: connect 2: poll 0x1c, SO_ERROR ECONNREFUSED\n");
  });
});

describe("--sysctl", () => {
  test("bad names and values are setup errors", async () => {
    await expect(run("x86_64", "hello", [], { sysctl: ["net.core.nonsense=1"] })).rejects.toThrow(/not a network sysctl/);
    await expect(run("x86_64", "hello", [], { sysctl: ["net.ipv4.ip_local_port_range=9 3"] })).rejects.toThrow(/low <= high/);
  });
});
