// Pins values from the generated tables, so a bad generator change (or a header surprise) fails here.
import { syscalls as i386 } from "../../arch/x86/syscalls";
import { syscalls as x86_64 } from "../../arch/x64/syscalls";
import { syscalls as aarch64 } from "../../arch/arm64/syscalls";
import { socketcallNames } from "../../arch/x86/socketcall-numbers";
import { numberOf } from "../../kernel/syscall-table";
import {
  EADDRINUSE,
  EAGAIN,
  EBADF,
  EDEADLK,
  EDEADLOCK,
  EHWPOISON,
  ENOSYS,
  ENOTSOCK,
  ENOTSUP,
  EOPNOTSUPP,
  EPERM,
  EWOULDBLOCK,
  Errno,
  errnoByCode,
} from "../../kernel/errno";

describe("syscall tables", () => {
  test("arch names", () => {
    expect(i386.arch).toBe("i386");
    expect(x86_64.arch).toBe("x86_64");
    expect(aarch64.arch).toBe("aarch64");
  });

  test.each([
    ["i386", i386, { listen: 363, socket: 359, bind: 361 }],
    ["x86_64", x86_64, { listen: 50, socket: 41, bind: 49 }],
    ["aarch64", aarch64, { listen: 201, socket: 198, bind: 200 }],
  ] as const)("%s socket numbers", (_arch, table, expected) => {
    for (const [name, nr] of Object.entries(expected)) {
      expect(table.names[nr]).toBe(name);
      expect(numberOf(table, name)).toBe(nr);
    }
  });

  test("read/write are 3/4, 0/1, 63/64", () => {
    expect([numberOf(i386, "read"), numberOf(i386, "write")]).toEqual([3, 4]);
    expect([numberOf(x86_64, "read"), numberOf(x86_64, "write")]).toEqual([0, 1]);
    expect([numberOf(aarch64, "read"), numberOf(aarch64, "write")]).toEqual([63, 64]);
  });

  test("aarch64 has only openat, and resolves the __NR3264 aliases", () => {
    expect(numberOf(aarch64, "open")).toBeUndefined();
    expect(numberOf(aarch64, "openat")).toBe(56);
    expect(numberOf(aarch64, "fcntl")).toBe(25);
    expect(numberOf(aarch64, "mmap")).toBe(222);
    // Range markers and asm-generic internals are not syscalls.
    expect(numberOf(aarch64, "arch_specific_syscall")).toBeUndefined();
    expect(numberOf(aarch64, "syscalls")).toBeUndefined();
    expect(Object.values(aarch64.names).some((n) => n.startsWith("3264"))).toBe(false);
  });

  test("arch-specific calls", () => {
    expect(numberOf(i386, "socketcall")).toBe(102);
    expect(numberOf(i386, "set_thread_area")).toBe(243);
    expect(numberOf(x86_64, "arch_prctl")).toBe(158);
    expect(numberOf(x86_64, "socketcall")).toBeUndefined();
  });

  test("x86_64 table has no x32 numbers", () => {
    expect(Object.keys(x86_64.names).every((nr) => Number(nr) < 512)).toBe(true);
  });

  test("numberOf is per table", () => {
    expect(numberOf(i386, "no_such_syscall")).toBeUndefined();
    expect(numberOf(x86_64, "listen")).toBe(50);
    expect(numberOf(i386, "listen")).toBe(363);
  });
});

describe("errno", () => {
  test("values", () => {
    expect(EPERM.code).toBe(1);
    expect(EBADF.code).toBe(9);
    expect(ENOSYS.code).toBe(38);
    expect(ENOTSOCK.code).toBe(88);
    expect(EOPNOTSUPP.code).toBe(95);
    expect(EADDRINUSE.code).toBe(98);
    expect(EHWPOISON.code).toBe(133);
  });

  test("objects carry name and glibc message", () => {
    expect(EBADF).toBeInstanceOf(Errno);
    expect(EBADF.name).toBe("EBADF");
    expect(String(EBADF)).toBe("EBADF");
    expect(EBADF.message).toBe("Bad file descriptor");
    expect(EADDRINUSE.message).toBe("Address already in use");
  });

  test("aliases are the same objects", () => {
    expect(EWOULDBLOCK).toBe(EAGAIN);
    expect(EDEADLOCK).toBe(EDEADLK);
    expect(ENOTSUP).toBe(EOPNOTSUPP);
  });

  test("errnoByCode covers every Linux errno 1..133", () => {
    // Linux leaves 41 and 58 unassigned, so 131 distinct codes span 1..133.
    for (let code = 1; code <= 133; code++) {
      if (code === 41 || code === 58) expect(errnoByCode.has(code)).toBe(false);
      else expect(errnoByCode.get(code)?.code).toBe(code);
    }
    expect(errnoByCode.size).toBe(131);
    expect(errnoByCode.get(9)).toBe(EBADF);
    expect(errnoByCode.get(11)).toBe(EWOULDBLOCK);
  });
});

describe("socketcall", () => {
  test("sub-call numbers", () => {
    expect(socketcallNames[1]).toBe("socket");
    expect(socketcallNames[2]).toBe("bind");
    expect(socketcallNames[4]).toBe("listen");
    expect(socketcallNames[18]).toBe("accept4");
    expect(socketcallNames[20]).toBe("sendmmsg");
    expect(Object.keys(socketcallNames)).toHaveLength(20);
  });
});
