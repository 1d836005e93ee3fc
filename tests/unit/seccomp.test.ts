// Seccomp filters as data: the BPF checks and machine, verdict precedence, and Docker-format profiles.
import { arches } from "../../arch";
import {
  bpfFilter, checkProgram, evaluate, profileFilter, seccompData, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, type BpfInsn, type SeccompProfile,
} from "../../kernel/seccomp";
import { EINVAL } from "../../kernel/errno";
import { numberOf } from "../../kernel/syscall-table";

const RET = 0x06, LD_W_ABS = 0x20, JEQ_K = 0x15, ST = 0x02, LDX_MEM = 0x61, ALU_ADD_X = 0x0c, LD_IMM = 0x00;
const ins = (code: number, k: number, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k });
const ret = (v: number) => ins(RET, v);
const { x86_64, i386, aarch64 } = arches;
const profileArches = Object.values(arches).map((a) => ({
  names: a.seccompNames, auditArch: a.auditArch, wordSize: a.wordSize, nameOf: (nr: number) => a.table.names[nr],
}));
const call = (arch: typeof x86_64, name: string, args: number[] = []) =>
  seccompData(numberOf(arch.table, name)!, arch.auditArch, 0x1000n, (i) => BigInt(args[i] ?? 0));

describe("classic BPF", () => {
  test("the machine: loads, scratch words, X arithmetic, jumps", () => {
    // A = nr; M[0] = A; X = M[0]; A = 5; A += X; return A
    const f = bpfFilter([ins(LD_W_ABS, 0), ins(ST, 0), ins(LDX_MEM, 0), ins(LD_IMM, 5), ins(ALU_ADD_X, 0), ins(0x16, 0)]);
    expect(f.run(call(x86_64, "listen"))).toBe(55);
    const jump = bpfFilter([ins(LD_W_ABS, 0), ins(JEQ_K, 50, 0, 1), ret(SECCOMP_RET_ERRNO | 1), ret(SECCOMP_RET_ALLOW)]);
    expect(jump.run(call(x86_64, "listen")) >>> 0).toBe(SECCOMP_RET_ERRNO | 1);
    expect(jump.run(call(x86_64, "getpid")) >>> 0).toBe(SECCOMP_RET_ALLOW);
  });

  test("programs Linux refuses are EINVAL; a well-formed one passes", () => {
    expect(checkProgram([])).toBe(EINVAL);
    expect(checkProgram([ins(LD_W_ABS, 0)])).toBe(EINVAL);
    expect(checkProgram([ins(0x30 /* LD_B_ABS */, 0), ret(0)])).toBe(EINVAL);
    expect(checkProgram([ins(0x61, 2), ret(0)])).toBe(EINVAL);
    expect(checkProgram([ins(JEQ_K, 0, 1, 0), ret(0)])).toBe(EINVAL);
    expect(checkProgram([ins(LD_W_ABS, 0), ins(JEQ_K, 1, 0, 1), ret(0), ret(SECCOMP_RET_ALLOW)])).toBeUndefined();
  });

  test("the strictest verdict wins; among equal actions the newest filter's data", () => {
    const state = (...verdicts: number[]) => ({ mode: 2 as const, filters: verdicts.map((v) => bpfFilter([ret(v)])) });
    const d = call(x86_64, "getpid");
    expect(evaluate(state(SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ERRNO | 1), d)).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(evaluate(state(SECCOMP_RET_ERRNO | 1, SECCOMP_RET_KILL_THREAD), d)).toBe(SECCOMP_RET_KILL_THREAD);
    expect(evaluate(state(SECCOMP_RET_ERRNO | 1, SECCOMP_RET_TRAP), d)).toBe(SECCOMP_RET_TRAP);
    expect(evaluate(state(SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 13), d)).toBe(SECCOMP_RET_ERRNO | 13);
  });
});

describe("Docker-format profiles", () => {
  const profile: SeccompProfile = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 38,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [
      { names: ["getpid", "listen"], action: "SCMP_ACT_ALLOW" },
      { names: ["socketcall"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args: [{ index: 0, value: 4, op: "SCMP_CMP_EQ" }] },
      { names: ["socketcall"], action: "SCMP_ACT_ALLOW" },
      { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0xff, valueTwo: 8, op: "SCMP_CMP_MASKED_EQ" }] },
      { names: ["mount"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
      { names: ["getppid"], action: "SCMP_ACT_KILL_PROCESS", excludes: { arches: ["386"] } },
    ],
  };
  const f = profileFilter(profile, profileArches);

  test("allowed by name, the default errno otherwise, argument tests in order", () => {
    expect(f.run(call(x86_64, "listen"))).toBe(SECCOMP_RET_ALLOW);
    expect(f.run(call(x86_64, "getuid"))).toBe(SECCOMP_RET_ERRNO | 38);
    expect(f.run(call(i386, "socketcall", [4]))).toBe(SECCOMP_RET_ERRNO | 1);
    expect(f.run(call(i386, "socketcall", [1]))).toBe(SECCOMP_RET_ALLOW);
    expect(f.run(call(x86_64, "personality", [0x108]))).toBe(SECCOMP_RET_ALLOW);
    expect(f.run(call(x86_64, "personality", [0x100]))).toBe(SECCOMP_RET_ERRNO | 38);
  });

  test("capability rules apply to nobody; excluded arches skip a rule; unlisted arches are killed", () => {
    expect(f.run(call(x86_64, "mount"))).toBe(SECCOMP_RET_ERRNO | 38);
    expect(f.run(call(x86_64, "getppid")) >>> 0).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(f.run(call(i386, "getppid"))).toBe(SECCOMP_RET_ERRNO | 38);
    expect(f.run(call(aarch64, "getpid"))).toBe(SECCOMP_RET_KILL_THREAD);
  });

  test("what it cannot honour is a one-line error", () => {
    expect(() => profileFilter({} as SeccompProfile, profileArches)).toThrow("a seccomp profile needs a defaultAction");
    expect(() => profileFilter({ defaultAction: "SCMP_ACT_NOTIFY" }, profileArches)).toThrow('unknown seccomp action "SCMP_ACT_NOTIFY"');
    expect(() => profileFilter({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW",
      args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }] }] }, profileArches)).toThrow("argument index 6 is not 0-5");
  });
});
