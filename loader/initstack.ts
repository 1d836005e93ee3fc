// The SysV initial process stack, laid out as Linux does it: fs/exec.c (bprm_mm_init, copy_strings)
// places the strings, fs/binfmt_elf.c create_elf_tables() the rest. From high to low addresses:
//
//   stackTop - 8 .. stackTop   one zero pointer reserved by bprm_mm_init (a 64-bit kernel's void *)
//   execfn string              AT_EXECFN points here
//   envp strings, argv strings the last string highest: argv[0] .. envp[n-1] ascend contiguously
//   (round down to 16)         arch_align_stack(), minus its randomisation
//   platform string            AT_PLATFORM (if any), unaligned
//   16 random bytes            AT_RANDOM, unaligned
//   (gap)
//   auxv pairs .. AT_NULL
//   envp pointers, NULL
//   argv pointers, NULL
//   argc                       <- sp, 16-byte aligned (STACK_ROUND)

import { AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM } from "./auxv";

export interface InitialStackInput {
  wordSize: 4 | 8;
  stackTop: number;
  argv: string[];
  envp: string[];
  execfn: string;
  platform: string | undefined;
  random: Uint8Array;                          // 16 bytes
  auxv: Array<[type: number, value: number]>;  // the builder appends AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL
}

export interface InitialStack {
  sp: number;
  base: number;
  bytes: Uint8Array;     // to be written at [base, stackTop)
  // The string areas, as the kernel records them in mm->arg_start.. (for /proc/<pid>/cmdline, environ).
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

// bprm_mm_init sets bprm->p = vma->vm_end - sizeof(void *): the kernel's pointer size, so 8 even
// for an i386 process under a 64-bit kernel, which is what syscage emulates.
const TOP_RESERVED = 8;
const RANDOM_BYTES = 16;
const STACK_ALIGN = 16;

const BUILDER_TYPES = new Set([AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM]);

export function buildInitialStack(input: InitialStackInput): InitialStack {
  const { wordSize, stackTop, argv, envp } = input;
  if (wordSize !== 4 && wordSize !== 8) throw new RangeError(`wordSize must be 4 or 8, got ${wordSize}`);
  const wordLimit = 2 ** (8 * wordSize);
  if (!Number.isSafeInteger(stackTop) || stackTop <= 0 || stackTop > wordLimit) {
    throw new RangeError(`stackTop ${stackTop} is not a valid ${wordSize * 8}-bit address`);
  }
  if (input.random.length !== RANDOM_BYTES) {
    throw new RangeError(`random must be ${RANDOM_BYTES} bytes, got ${input.random.length}`);
  }
  for (const [type, value] of input.auxv) {
    if (BUILDER_TYPES.has(type)) throw new RangeError(`auxv type ${type} is added by buildInitialStack itself`);
    checkWord(value, wordLimit, `auxv value for type ${type}`);
    checkWord(type, wordLimit, "auxv type");
  }

  // Strings, top down.
  let p = stackTop - TOP_RESERVED;
  const execfn = cString(input.execfn, "execfn");
  p -= execfn.length;
  const execfnAddr = p;

  const argStrings = argv.map((s, i) => cString(s, `argv[${i}]`));
  const envStrings = envp.map((s, i) => cString(s, `envp[${i}]`));
  const stringBytes = [...argStrings, ...envStrings].reduce((n, s) => n + s.length, 0);
  p -= stringBytes;
  const argStart = p;
  const stringAddrs: number[] = [];
  for (const s of [...argStrings, ...envStrings]) {
    stringAddrs.push(p);
    p += s.length;
  }
  const argvAddrs = stringAddrs.slice(0, argv.length);
  const envpAddrs = stringAddrs.slice(argv.length);
  const envStart = argStart + argStrings.reduce((n, s) => n + s.length, 0);

  // Platform and AT_RANDOM bytes below the 16-aligned end of the strings.
  p = alignDown(argStart, STACK_ALIGN);
  let platformAddr: number | undefined;
  let platform: Uint8Array | undefined;
  if (input.platform !== undefined) {
    platform = cString(input.platform, "platform");
    p -= platform.length;
    platformAddr = p;
  }
  p -= RANDOM_BYTES;
  const randomAddr = p;

  const auxv: Array<[number, number]> = [...input.auxv, [AT_RANDOM, randomAddr], [AT_EXECFN, execfnAddr]];
  if (platformAddr !== undefined) auxv.push([AT_PLATFORM, platformAddr]);
  auxv.push([AT_NULL, 0]);

  // STACK_ROUND(STACK_ADD(p, ei_index), items): everything below the random bytes, rounded down.
  const words = 1 + (argv.length + 1) + (envp.length + 1) + 2 * auxv.length;
  const sp = alignDown(p - words * wordSize, STACK_ALIGN);
  if (sp < 0) throw new RangeError(`initial stack of ${stackTop - sp} bytes does not fit below ${stackTop}`);

  const bytes = new Uint8Array(stackTop - sp);
  const view = new DataView(bytes.buffer);
  const at = (addr: number): number => addr - sp;
  let w = sp;
  const putWord = (value: number): void => {
    if (wordSize === 4) view.setUint32(at(w), value, true);
    else view.setBigUint64(at(w), BigInt(value), true);
    w += wordSize;
  };

  putWord(argv.length);
  for (const a of argvAddrs) putWord(a);
  putWord(0);
  for (const a of envpAddrs) putWord(a);
  putWord(0);
  for (const [type, value] of auxv) {
    putWord(type);
    putWord(value);
  }

  bytes.set(input.random, at(randomAddr));
  if (platform !== undefined && platformAddr !== undefined) bytes.set(platform, at(platformAddr));
  [...argStrings, ...envStrings].forEach((s, i) => bytes.set(s, at(stringAddrs[i])));
  bytes.set(execfn, at(execfnAddr));

  return { sp, base: sp, bytes, argStart, argEnd: envStart, envStart, envEnd: execfnAddr };
}

function cString(s: string, what: string): Uint8Array {
  if (s.includes("\0")) throw new RangeError(`${what} contains a NUL character`);
  const utf8 = new TextEncoder().encode(s);
  const out = new Uint8Array(utf8.length + 1);
  out.set(utf8);
  return out;
}

function checkWord(value: number, limit: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value >= limit) {
    throw new RangeError(`${what} ${value} does not fit in an unsigned ${Math.log2(limit)}-bit word`);
  }
}

// Not `& ~(align - 1)`: JavaScript bit operations truncate to 32 bits.
function alignDown(value: number, align: number): number {
  return Math.floor(value / align) * align;
}
