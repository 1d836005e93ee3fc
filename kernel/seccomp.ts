/**
 * seccomp: a task's syscall filters (Linux: kernel/seccomp.c). A guest
 * installs classic BPF programs with seccomp(2) or prctl(PR_SET_SECCOMP);
 * the user can add a Docker-format profile from outside (--seccomp), which
 * runs as one more filter. Every filter sees struct seccomp_data for each
 * syscall and the most restrictive verdict wins. Written here rather than
 * taken from a library: the checks and the interpreter must be Linux's to the
 * errno, and they sit on the syscall path of a filtered task.
 */
import { EINVAL, type Errno } from "./errno";

/** Filter verdicts, include/uapi/linux/seccomp.h. */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000, SECCOMP_RET_KILL_THREAD = 0, SECCOMP_RET_TRAP = 0x30000,
  SECCOMP_RET_ERRNO = 0x50000, SECCOMP_RET_USER_NOTIF = 0x7fc00000, SECCOMP_RET_TRACE = 0x7ff00000,
  SECCOMP_RET_LOG = 0x7ffc0000, SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000, SECCOMP_RET_DATA = 0xffff;
export const KNOWN_ACTIONS = new Set([SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
  SECCOMP_RET_ERRNO, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW]);

/** sizeof(struct seccomp_data): int nr, u32 arch, u64 instruction_pointer, u64 args[6]. */
export const SECCOMP_DATA_SIZE = 64;
/** BPF_MAXINSNS, and the most instructions all of a task's filters may hold (MAX_INSNS_PER_PATH). */
export const BPF_MAXINSNS = 4096, MAX_INSNS_PER_PATH = 32768;

/** One filter: struct seccomp_data in, a verdict out. `size` counts toward MAX_INSNS_PER_PATH (a profile counts 1). */
export interface SeccompFilter {
  run(data: DataView): number;
  readonly size: number;
}

/** Seccomp modes, as prctl(PR_SET_SECCOMP) and /proc/PID/status number them. */
export const SECCOMP_MODE_STRICT = 1, SECCOMP_MODE_FILTER = 2;

/** A task's seccomp state; never changed in place (threads and children share it until one adds a filter). */
export interface SeccompState {
  readonly mode: typeof SECCOMP_MODE_STRICT | typeof SECCOMP_MODE_FILTER;
  readonly filters: readonly SeccompFilter[];
}

/** struct seccomp_data for one syscall; arguments zero-extended from the arch's registers. */
export function seccompData(nr: number, arch: number, ip: bigint, args: (i: number) => bigint): DataView {
  const d = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  d.setInt32(0, nr, true);
  d.setUint32(4, arch, true);
  d.setBigUint64(8, ip, true);
  for (let i = 0; i < 6; i++) d.setBigUint64(16 + 8 * i, args(i), true);
  return d;
}

/**
 * Every filter's verdict, newest filter first; the lowest action compared as
 * a signed int wins (so KILL_PROCESS, 0x80000000, beats all), and among equal
 * actions the newest filter's data (seccomp_run_filters).
 */
export function evaluate(state: SeccompState, data: DataView): number {
  let ret = SECCOMP_RET_ALLOW;
  for (let i = state.filters.length - 1; i >= 0; i--) {
    const cur = state.filters[i].run(data) >>> 0;
    if (((cur & SECCOMP_RET_ACTION_FULL) | 0) < ((ret & SECCOMP_RET_ACTION_FULL) | 0)) ret = cur;
  }
  return ret >>> 0;
}

/** Classic BPF opcodes (include/uapi/linux/bpf_common.h, filter.h). */
const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06,
  BPF_MISC = 0x07;
const BPF_W = 0x00, BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_MEM = 0x60, BPF_LEN = 0x80;
const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_OR = 0x40, BPF_AND = 0x50, BPF_LSH = 0x60,
  BPF_RSH = 0x70, BPF_NEG = 0x80, BPF_XOR = 0xa0;
const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40;
const BPF_K = 0x00, BPF_X = 0x08, BPF_A = 0x10;
const BPF_TAX = 0x00, BPF_TXA = 0x80;
const BPF_MEMWORDS = 16;

/** struct sock_filter. */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The instructions seccomp accepts (seccomp_check_filter); anything else, e.g. byte loads, is EINVAL. */
const SECCOMP_CODES = new Set([
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]
    .flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | BPF_NEG, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX, BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** Linux's checks on a new filter program (bpf_check_classic, seccomp_check_filter): EINVAL when it is not valid. */
export function checkProgram(prog: BpfInsn[]): Errno | undefined {
  const len = prog.length;
  if (len === 0 || len > BPF_MAXINSNS) return EINVAL;
  for (let pc = 0; pc < len; pc++) {
    const { code, jt, jf, k } = prog[pc];
    if (!SECCOMP_CODES.has(code)) return EINVAL;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k >= SECCOMP_DATA_SIZE || k & 3) return EINVAL;
        break;
      case BPF_ALU | BPF_DIV | BPF_K:
        if (k === 0) return EINVAL;
        break;
      case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) return EINVAL;
        break;
      case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
        if (k >= BPF_MEMWORDS) return EINVAL;
        break;
      case BPF_JMP | BPF_JA:
        if (k >= len - pc - 1) return EINVAL;
        break;
      default:
        if ((code & 0x07) === BPF_JMP && (pc + jt + 1 >= len || pc + jf + 1 >= len)) return EINVAL;
    }
  }
  const last = prog[len - 1].code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) return EINVAL;
  return checkLoadsAndStores(prog);
}

/** A scratch word may be loaded only after a store on every path to the load (check_load_and_stores). */
function checkLoadsAndStores(prog: BpfInsn[]): Errno | undefined {
  const masks = new Array<number>(prog.length).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    valid &= masks[pc];
    const { code, jt, jf, k } = prog[pc];
    switch (code) {
      case BPF_ST: case BPF_STX:
        valid |= 1 << k;
        break;
      case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM:
        if (!(valid & (1 << k))) return EINVAL;
        break;
      case BPF_JMP | BPF_JA:
        masks[pc + 1 + k] &= valid;
        valid = 0xffff;
        break;
      default:
        if ((code & 0x07) === BPF_JMP) {
          masks[pc + 1 + jt] &= valid;
          masks[pc + 1 + jf] &= valid;
          valid = 0xffff;
        }
    }
  }
  return undefined;
}

/** A checked program as a filter: the classic BPF machine (A, X, 16 scratch words) over struct seccomp_data. */
export function bpfFilter(prog: BpfInsn[]): SeccompFilter {
  return {
    size: prog.length,
    run(data: DataView): number {
      let a = 0, x = 0;
      const mem = new Uint32Array(BPF_MEMWORDS);
      for (let pc = 0; pc < prog.length; pc++) {
        const { code, jt, jf, k } = prog[pc];
        switch (code) {
          case BPF_LD | BPF_W | BPF_ABS: a = data.getUint32(k, true); break;
          case BPF_LD | BPF_W | BPF_LEN: a = SECCOMP_DATA_SIZE; break;
          case BPF_LDX | BPF_W | BPF_LEN: x = SECCOMP_DATA_SIZE; break;
          case BPF_LD | BPF_IMM: a = k; break;
          case BPF_LDX | BPF_IMM: x = k; break;
          case BPF_LD | BPF_MEM: a = mem[k]; break;
          case BPF_LDX | BPF_MEM: x = mem[k]; break;
          case BPF_ST: mem[k] = a; break;
          case BPF_STX: mem[k] = x; break;
          case BPF_MISC | BPF_TAX: x = a; break;
          case BPF_MISC | BPF_TXA: a = x; break;
          case BPF_ALU | BPF_NEG: a = -a >>> 0; break;
          case BPF_RET | BPF_K: return k >>> 0;
          case BPF_RET | BPF_A: return a >>> 0;
          case BPF_JMP | BPF_JA: pc += k; break;
          default: {
            const src = code & BPF_X ? x : k >>> 0;
            if ((code & 0x07) === BPF_ALU) {
              switch (code & 0xf0) {
                case BPF_ADD: a = (a + src) >>> 0; break;
                case BPF_SUB: a = (a - src) >>> 0; break;
                case BPF_MUL: a = Math.imul(a, src) >>> 0; break;
                // Division by a zero X ends the program with 0 (KILL_THREAD), as the kernel's interpreter does.
                case BPF_DIV: if (src === 0) return 0; a = Math.floor(a / src) >>> 0; break;
                case BPF_AND: a = (a & src) >>> 0; break;
                case BPF_OR: a = (a | src) >>> 0; break;
                case BPF_XOR: a = (a ^ src) >>> 0; break;
                case BPF_LSH: a = src >= 32 ? 0 : (a << src) >>> 0; break;
                case BPF_RSH: a = src >= 32 ? 0 : a >>> src; break;
              }
            } else {
              let taken: boolean;
              switch (code & 0xf0) {
                case BPF_JEQ: taken = a === src; break;
                case BPF_JGT: taken = a > src; break;
                case BPF_JGE: taken = a >= src; break;
                default: taken = (a & src) !== 0; break;
              }
              pc += taken ? jt : jf;
            }
          }
        }
      }
      return 0;
    },
  };
}

/** How `names` map to this arch's numbers, for profiles written by name. */
export interface ProfileArch {
  /** libseccomp's name (SCMP_ARCH_X86_64), then the names rules' `arches` use (Go's amd64, ...). */
  names: readonly string[];
  auditArch: number;
  wordSize: 4 | 8;
  nameOf(nr: number): string | undefined;
}

/** A profile's rule argument test (libseccomp's scmp_compare). */
interface ProfileArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

interface ProfileRule {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: ProfileArg[] | null;
  includes?: { arches?: string[]; caps?: string[] };
  excludes?: { arches?: string[]; caps?: string[] };
}

/** A seccomp profile as Docker, Podman and the OCI runtime spec write it (the subset that decides verdicts). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  syscalls?: ProfileRule[];
}

/** The errno a profile's SCMP_ACT_ERRNO uses when it names none. */
const EPERM_CODE = 1;

function actionCode(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_ALLOW": return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_ERRNO": return SECCOMP_RET_ERRNO | ((errnoRet ?? EPERM_CODE) & SECCOMP_RET_DATA);
    case "SCMP_ACT_KILL": case "SCMP_ACT_KILL_THREAD": return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS": return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP": return SECCOMP_RET_TRAP;
    case "SCMP_ACT_LOG": return SECCOMP_RET_LOG;
    case "SCMP_ACT_TRACE": return SECCOMP_RET_TRACE | ((errnoRet ?? 0) & SECCOMP_RET_DATA);
    default: throw new Error(`unknown seccomp action ${JSON.stringify(action)}`);
  }
}

/** A rule's argument test, checked and compiled once: the argument compared as the arch's register width. */
type ArgTest = (data: DataView) => boolean;

function argTest(arg: ProfileArg, wordSize: 4 | 8): ArgTest {
  if (!(Number.isInteger(arg.index) && arg.index >= 0 && arg.index <= 5)) {
    throw new Error(`argument index ${JSON.stringify(arg.index)} is not 0-5`);
  }
  const bits = wordSize * 8, at = 16 + 8 * arg.index;
  const want = BigInt.asUintN(bits, BigInt(arg.value));
  const two = BigInt.asUintN(bits, BigInt(arg.valueTwo ?? 0));
  const compare: ((v: bigint) => boolean) | undefined = {
    SCMP_CMP_NE: (v: bigint) => v !== want,
    SCMP_CMP_LT: (v: bigint) => v < want,
    SCMP_CMP_LE: (v: bigint) => v <= want,
    SCMP_CMP_EQ: (v: bigint) => v === want,
    SCMP_CMP_GE: (v: bigint) => v >= want,
    SCMP_CMP_GT: (v: bigint) => v > want,
    SCMP_CMP_MASKED_EQ: (v: bigint) => (v & want) === two,
  }[arg.op];
  if (!compare) throw new Error(`unknown seccomp comparison ${JSON.stringify(arg.op)}`);
  return (data) => compare(BigInt.asUintN(bits, data.getBigUint64(at, true)));
}

/**
 * A profile as one filter for every arch syscage runs (a guest may exec
 * another arch's binary). Throws a one-line Error for a profile it cannot
 * honour (no defaultAction, an unknown action or comparison, an argument
 * index past 5). Rules that need a capability apply to nobody: a sandboxed
 * guest has none. An arch the profile does not list gets KILL, libseccomp's
 * bad-arch verdict.
 */
export function profileFilter(profile: SeccompProfile, arches: readonly ProfileArch[]): SeccompFilter {
  if (typeof profile?.defaultAction !== "string") throw new Error("a seccomp profile needs a defaultAction");
  const fallback = actionCode(profile.defaultAction, profile.defaultErrnoRet);
  const listed = new Set([...(profile.architectures ?? []),
    ...(profile.archMap ?? []).flatMap((m) => [m.architecture, ...(m.subArchitectures ?? [])])]);
  type Rule = { action: number; tests: ArgTest[] };
  const byArch = new Map<number, (nr: number) => Rule[] | undefined>();
  for (const arch of arches) {
    if (listed.size && !listed.has(arch.names[0])) continue;
    const mine = (list: string[] | undefined) => (list ?? []).some((a) => arch.names.includes(a));
    const byName = new Map<string, Rule[]>();
    for (const r of profile.syscalls ?? []) {
      // Every rule is checked, even one this arch or a missing capability leaves out.
      const rule = {
        action: actionCode(r.action, r.errnoRet ?? profile.defaultErrnoRet),
        tests: (r.args ?? []).map((a) => argTest(a, arch.wordSize)),
      };
      if (r.includes?.caps?.length || (r.includes?.arches?.length && !mine(r.includes.arches)) || mine(r.excludes?.arches)) continue;
      for (const name of r.names ?? (r.name ? [r.name] : [])) {
        const list = byName.get(name) ?? [];
        list.push(rule);
        byName.set(name, list);
      }
    }
    byArch.set(arch.auditArch, (nr) => {
      const name = arch.nameOf(nr);
      return name === undefined ? undefined : byName.get(name);
    });
  }
  return {
    size: 1,
    run(data: DataView): number {
      const rules = byArch.get(data.getUint32(4, true));
      if (!rules) return SECCOMP_RET_KILL_THREAD;
      for (const rule of rules(data.getInt32(0, true)) ?? []) {
        if (rule.tests.every((test) => test(data))) return rule.action;
      }
      return fallback;
    },
  };
}
