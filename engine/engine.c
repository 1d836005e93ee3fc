/*
 * syscage engine: a small N-API addon that owns one Unicorn CPU and the host
 * memory that backs the guest address space.
 *
 * The hot path is the syscall hook: it reads the syscall registers in one
 * uc_reg_read_batch into a shared Uint32Array (lo/hi words, exact for 64-bit
 * values), calls the JS kernel synchronously, and writes the result back.
 * The CPU stops only when the kernel asks (exit, block, signal) or on a fault.
 *
 * Guest memory is one host reservation: guest address A lives at host
 * base + A, so the kernel can read it through external ArrayBuffers without
 * copies. Pages are committed (PROT_READ|PROT_WRITE on the host) only while
 * the guest has them mapped; Unicorn enforces the guest's own permissions.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <poll.h>
#include <unicorn/unicorn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>
#include <signal.h>

/* Layout of the shared io words (Uint32 indices); mirrored in engine/index.ts. */
enum {
  IO_NR = 0,          /* syscall number (lo, hi) */
  IO_ARGS = 2,        /* six arguments, lo/hi pairs: 2..13 */
  IO_RET = 14,        /* result to write back (lo, hi) */
  IO_ACTION = 16,     /* what the kernel asks for after the call */
  IO_WORDS = 32,
};

/* Bits of io[IO_ACTION]. */
enum { ACTION_SET_RET = 1, ACTION_STOP = 2 };

/* Why uc_emu_start returned; mirrored in engine/index.ts. */
enum {
  STOP_REQUESTED = 0,  /* the kernel asked (exit, block...) or the slice ended */
  STOP_MEM_FAULT = 1,  /* invalid memory access: see fault_* */
  STOP_INTERRUPT = 2,  /* an exception other than the syscall trap */
  STOP_UC_ERROR = 3,   /* uc_emu_start failed otherwise: see uc_err */
  STOP_JS_ERROR = 4,   /* the kernel threw: a syscage bug, rethrown */
};

enum { TRAP_SYSCALL_INSN = 0, TRAP_INT80 = 1, TRAP_SVC = 2 };

#define MAX_SYSREGS 7

typedef struct {
  uc_engine *uc;
  /* Never runs: owns the contexts we save, see engine_context_save. */
  uc_engine *donor;
  int trap;
  napi_env env;
  napi_ref callback;
  napi_ref io_ref;
  uint32_t *io;
  int sysregs[MAX_SYSREGS];
  int retreg;
  int ret_is_32;
  uint8_t *mem;
  uint64_t mem_size;
  uc_hook hooks[5];
  /* CPUID leaf 1 as answered by hook_cpuid, once set_cpuid has run. */
  uint32_t leaf1[4];
  int mode, model;
  /* Preemption: the block hook stops the CPU at a block boundary once this monotonic time (µs) passes. */
  uint64_t preempt_at;
  int countdown;
  uint32_t jitter;
  /* last stop */
  int stop;
  int fault_type;
  uint64_t fault_addr;
  uint32_t intno;
  uc_err err;
  napi_ref js_error;
} Engine;

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "syscage engine: N-API call failed: " #call); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

/* The arguments of an addon function; ENGINE_ARGS also fetches the engine handle in argv[0]. */
#define ARGS(n)                                                          \
  size_t argc = (n);                                                     \
  napi_value argv[(n)];                                                  \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))
#define ENGINE_ARGS(n)                                                   \
  ARGS(n);                                                               \
  Engine *e = get_engine(env, argv[0]);                                  \
  if (!e) return NULL

static napi_value throw_uc(napi_env env, const char *what, uc_err err) {
  char msg[256];
  snprintf(msg, sizeof msg, "syscage engine: %s: %s", what, uc_strerror(err));
  /* The code tells the kernel a guest's fork or execve may fail with ENOMEM instead. */
  napi_throw_error(env, err == UC_ERR_NOMEM ? "ENOMEM" : NULL, msg);
  return NULL;
}

static Engine *get_engine(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "syscage engine: bad engine handle");
    return NULL;
  }
  Engine *e = p;
  if (!e->uc) {
    napi_throw_error(env, NULL, "syscage engine: engine was destroyed");
    return NULL;
  }
  return e;
}

/* Whether guest range [addr, addr+len) lies inside the reservation (no overflow). */
static bool in_window(const Engine *e, uint64_t addr, uint64_t len) {
  return addr <= e->mem_size && len <= e->mem_size - addr;
}

static uint64_t get_u64(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    uint64_t r;
    bool lossless;
    napi_get_value_bigint_uint64(env, v, &r, &lossless);
    return r;
  }
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d < 0 ? (uint64_t)(int64_t)d : (uint64_t)d;
}

static void on_syscall_common(Engine *e) {
  uint64_t vals[MAX_SYSREGS] = {0};
  void *ptrs[MAX_SYSREGS];
  for (int i = 0; i < MAX_SYSREGS; i++) ptrs[i] = &vals[i];
  uc_reg_read_batch(e->uc, e->sysregs, ptrs, MAX_SYSREGS);
  uint32_t *io = e->io;
  for (int i = 0; i < MAX_SYSREGS; i++) {
    io[IO_NR + 2 * i] = (uint32_t)vals[i];
    io[IO_NR + 2 * i + 1] = (uint32_t)(vals[i] >> 32);
  }
  io[IO_ACTION] = 0;

  napi_env env = e->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, undef, result;
  napi_get_reference_value(env, e->callback, &cb);
  napi_get_undefined(env, &undef);
  napi_status st = napi_call_function(env, undef, cb, 0, NULL, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      if (e->js_error) napi_delete_reference(env, e->js_error);
      napi_create_reference(env, exc, 1, &e->js_error);
    }
    e->stop = STOP_JS_ERROR;
    napi_close_handle_scope(env, scope);
    uc_emu_stop(e->uc);
    return;
  }
  napi_close_handle_scope(env, scope);

  uint32_t action = io[IO_ACTION];
  if (action & ACTION_SET_RET) {
    uint64_t ret = (uint64_t)io[IO_RET] | ((uint64_t)io[IO_RET + 1] << 32);
    if (e->ret_is_32) ret &= 0xffffffffu;
    uc_reg_write(e->uc, e->retreg, &ret);
  }
  if (action & ACTION_STOP) uc_emu_stop(e->uc);
}

static void hook_syscall_insn(uc_engine *uc, void *user) {
  (void)uc;
  on_syscall_common(user);
}

/*
 * CPUID leaf 1 as Linux guests expect it. Unicorn 2.0.1 reports an EDX
 * without the FPU, TSC, MMX and other baseline bits its TCG core does
 * emulate, for every CPU model (Go's 386 runtime refuses to start without
 * MMX). Leaf 1 gets Unicorn's own EAX, EBX and ECX and the EDX that AT_HWCAP
 * advertises (Linux's AT_HWCAP on x86 is CPUID.1:EDX); every other leaf runs
 * as Unicorn has it.
 */
static int hook_cpuid(uc_engine *uc, void *user) {
  Engine *e = user;
  uint64_t leaf = 0;
  uc_reg_read(uc, UC_X86_REG_EAX, &leaf);
  if ((uint32_t)leaf != 1) return 0;
  /* cpuid writes 32-bit registers: in 64-bit mode the upper halves become zero. */
  int wide = e->mode == UC_MODE_64;
  int regs[4] = { wide ? UC_X86_REG_RAX : UC_X86_REG_EAX, wide ? UC_X86_REG_RBX : UC_X86_REG_EBX,
                  wide ? UC_X86_REG_RCX : UC_X86_REG_ECX, wide ? UC_X86_REG_RDX : UC_X86_REG_EDX };
  for (int i = 0; i < 4; i++) {
    uint64_t v = e->leaf1[i];
    uc_reg_write(uc, regs[i], &v);
  }
  return 1;
}

/* Unicorn's own answer to CPUID leaf 1 in `mode`, from one cpuid run on a scratch engine. */
static uc_err measure_leaf1(int mode, int model, uint32_t out[4]) {
  static const uint8_t code[] = { 0x0f, 0xa2 }; /* cpuid */
  uc_engine *uc;
  uc_err err = uc_open(UC_ARCH_X86, mode, &uc);
  if (err) return err;
  uint64_t eax = 1, ecx = 0;
  if ((model < 0 || !(err = uc_ctl_set_cpu_model(uc, model))) && !(err = uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL)) &&
      !(err = uc_mem_write(uc, 0x1000, code, sizeof code)) && !(err = uc_reg_write(uc, UC_X86_REG_EAX, &eax)) &&
      !(err = uc_reg_write(uc, UC_X86_REG_ECX, &ecx)) && !(err = uc_emu_start(uc, 0x1000, 0x1000 + sizeof code, 0, 1))) {
    int regs[4] = { UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX };
    for (int i = 0; i < 4; i++) {
      uint64_t v = 0;
      uc_reg_read(uc, regs[i], &v);
      out[i] = (uint32_t)v;
    }
  }
  uc_close(uc);
  return err;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user) {
  Engine *e = user;
  if ((e->trap == TRAP_INT80 && intno == 0x80) || (e->trap == TRAP_SVC && intno == 2)) {
    on_syscall_common(e);
    return;
  }
  e->stop = STOP_INTERRUPT;
  e->intno = intno;
  uc_emu_stop(uc);
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Called at the start of every translated block, before its exit check: a
 * stop requested here leaves the PC exactly at the block start. (Unicorn's
 * own timeout can stop mid-block with a stale PC on x86_64, re-running
 * instructions on resume, so preemption uses this instead.) The clock is read
 * about every PREEMPT_CHECK blocks, at a pseudo-random count: a fixed count
 * would stop a loop of a few blocks at the same block every time, and a
 * guest that preempts its threads with signals (Go) never gets its handler
 * to a PC it can use if that block's start is not one; a timer interrupt
 * lands anywhere. A block hook slows compute by about half, so it is
 * installed only while the sandbox has more than one task.
 */
#define PREEMPT_CHECK 256
static int next_countdown(Engine *e) {
  /* xorshift32: cheap, and any spread over [PREEMPT_CHECK/2, 3*PREEMPT_CHECK/2) will do. */
  uint32_t x = e->jitter ? e->jitter : 0x9e3779b9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  e->jitter = x;
  return PREEMPT_CHECK / 2 + (int)(x % PREEMPT_CHECK);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user) {
  (void)addr; (void)size;
  Engine *e = user;
  if (!e->preempt_at || --e->countdown > 0) return;
  e->countdown = next_countdown(e);
  if (now_us() >= e->preempt_at) {
    e->preempt_at = 0;
    uc_emu_stop(uc);
  }
}

static bool hook_mem_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
                             int64_t value, void *user) {
  (void)uc; (void)size; (void)value;
  Engine *e = user;
  e->stop = STOP_MEM_FAULT;
  e->fault_type = type;
  e->fault_addr = addr;
  return false;
}

/*
 * Unicorn 2.0.1's uc_context_restore also restores the longjmp buffer of the
 * engine that allocated the context, which is stale once that uc_emu_start has
 * returned (and fatal inside a hook). Contexts allocated by a donor engine of
 * the same arch and mode restore only the CPU state, so every engine takes its
 * contexts from a shared donor.
 */
static uc_engine *donor_for(int arch, int mode) {
  static struct { int arch, mode; uc_engine *uc; } donors[8];
  for (int i = 0; i < 8; i++) {
    if (donors[i].uc && donors[i].arch == arch && donors[i].mode == mode) return donors[i].uc;
    if (!donors[i].uc) {
      if (uc_open(arch, mode, &donors[i].uc) != UC_ERR_OK) return NULL;
      donors[i].arch = arch;
      donors[i].mode = mode;
      return donors[i].uc;
    }
  }
  return NULL;
}

static void engine_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Engine *e = data;
  if (e->uc) uc_close(e->uc);
  if (e->mem) munmap(e->mem, e->mem_size);
  if (e->callback) napi_delete_reference(env, e->callback);
  if (e->io_ref) napi_delete_reference(env, e->io_ref);
  if (e->js_error) napi_delete_reference(env, e->js_error);
  free(e);
}

/* create(arch, mode, cpuModel, memSize, io: Uint32Array, sysregs: number[7], retreg, ret32, trap, cb) */
static napi_value engine_create(napi_env env, napi_callback_info info) {
  ARGS(10);
  if (argc < 10) {
    napi_throw_type_error(env, NULL, "syscage engine: create needs 10 arguments");
    return NULL;
  }
  int32_t arch, mode, model, retreg, ret32, trap;
  CHECK(napi_get_value_int32(env, argv[0], &arch));
  CHECK(napi_get_value_int32(env, argv[1], &mode));
  CHECK(napi_get_value_int32(env, argv[2], &model));
  uint64_t mem_size = get_u64(env, argv[3]);
  CHECK(napi_get_value_int32(env, argv[6], &retreg));
  CHECK(napi_get_value_int32(env, argv[7], &ret32));
  CHECK(napi_get_value_int32(env, argv[8], &trap));

  napi_typedarray_type tt;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  CHECK(napi_get_typedarray_info(env, argv[4], &tt, &len, &data, &ab, &off));
  if (tt != napi_uint32_array || len < IO_WORDS) {
    napi_throw_type_error(env, NULL, "syscage engine: io must be a Uint32Array of 32 words");
    return NULL;
  }

  Engine *e = calloc(1, sizeof *e);
  e->env = env;
  e->io = data;
  e->trap = trap;
  e->retreg = retreg;
  e->ret_is_32 = ret32;
  for (uint32_t i = 0; i < MAX_SYSREGS; i++) {
    napi_value r;
    int32_t id = 0;
    napi_get_element(env, argv[5], i, &r);
    napi_get_value_int32(env, r, &id);
    e->sysregs[i] = id;
  }

  uc_err err = uc_open(arch, mode, &e->uc);
  if (err) {
    free(e);
    return throw_uc(env, "uc_open", err);
  }
  e->donor = donor_for(arch, mode);
  e->mode = mode;
  e->model = model;
  if (model >= 0 && (err = uc_ctl_set_cpu_model(e->uc, model))) {
    uc_close(e->uc);
    free(e);
    return throw_uc(env, "set cpu model", err);
  }
  /* PROT_NONE + MAP_NORESERVE: address space only; pages are committed per guest mapping. */
  e->mem_size = mem_size;
  e->mem = mmap(NULL, mem_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (e->mem == MAP_FAILED) {
    e->mem = NULL;
    uc_close(e->uc);
    free(e);
    napi_throw_error(env, "ENOMEM", "syscage engine: cannot reserve guest address space");
    return NULL;
  }

  /* Every CPU exception reaches hook_intr: the trap vector is a syscall, the rest are faults. */
  err = uc_hook_add(e->uc, &e->hooks[0], UC_HOOK_INTR, hook_intr, e, 1, 0);
  if (!err && trap == TRAP_SYSCALL_INSN)
    err = uc_hook_add(e->uc, &e->hooks[2], UC_HOOK_INSN, hook_syscall_insn, e, 1, 0, UC_X86_INS_SYSCALL);
  if (!err)
    err = uc_hook_add(e->uc, &e->hooks[1], UC_HOOK_MEM_INVALID, hook_mem_invalid, e, 1, 0);

  if (err) {
    munmap(e->mem, e->mem_size);
    uc_close(e->uc);
    free(e);
    return throw_uc(env, "uc_hook_add", err);
  }
  CHECK(napi_create_reference(env, argv[9], 1, &e->callback));
  CHECK(napi_create_reference(env, argv[4], 1, &e->io_ref));

  napi_value ext;
  CHECK(napi_create_external(env, e, engine_finalize, NULL, &ext));
  return ext;
}

/* close(h): free the CPU and the reservation now rather than at garbage collection. */
static napi_value engine_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p = NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p) return NULL;
  Engine *e = p;
  if (e->uc) uc_close(e->uc);
  e->uc = NULL;
  if (e->mem) munmap(e->mem, e->mem_size);
  e->mem = NULL;
  return NULL;
}

/* view(h, offset, length): an ArrayBuffer over host memory base+offset (no copy). */
static napi_value engine_view(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  uint64_t off = get_u64(env, argv[1]), len = get_u64(env, argv[2]);
  if (!in_window(e, off, len)) {
    napi_throw_range_error(env, NULL, "syscage engine: view outside the guest window");
    return NULL;
  }
  napi_value ab;
  CHECK(napi_create_external_arraybuffer(env, e->mem + off, len, NULL, NULL, &ab));
  return ab;
}

/* commit(h, addr, len): make host pages usable (fresh pages read as zero). */
static napi_value engine_commit(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  uint64_t addr = get_u64(env, argv[1]), len = get_u64(env, argv[2]);
  if (!in_window(e, addr, len) ||
      mprotect(e->mem + addr, len, PROT_READ | PROT_WRITE) != 0) {
    napi_throw_error(env, NULL, "syscage engine: cannot commit guest memory");
    return NULL;
  }
  return NULL;
}

/* release(h, addr, len): drop host pages (contents gone, zero on next commit). */
static napi_value engine_release(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  uint64_t addr = get_u64(env, argv[1]), len = get_u64(env, argv[2]);
  if (!in_window(e, addr, len)) {
    napi_throw_range_error(env, NULL, "syscage engine: release outside the guest window");
    return NULL;
  }
  /* A fresh private reservation replaces whatever backed the range (private pages or a shared memfd). */
  if (mmap(e->mem + addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
    napi_throw_error(env, NULL, "syscage engine: cannot release guest memory");
    return NULL;
  }
  return NULL;
}

/*
 * shareMemory(h, addr, len, fd, offset) -> fd: back [addr, addr+len) with a
 * shared memory file, so another engine (a forked child) can map the same
 * pages. fd -1 creates a new zero-filled one of `len` bytes (MAP_SHARED|MAP_ANONYMOUS).
 */
static napi_value engine_share_memory(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(5);
  uint64_t addr = get_u64(env, argv[1]), len = get_u64(env, argv[2]);
  int32_t fd;
  int64_t offset;
  CHECK(napi_get_value_int32(env, argv[3], &fd));
  CHECK(napi_get_value_int64(env, argv[4], &offset));
  if (!in_window(e, addr, len)) {
    napi_throw_range_error(env, NULL, "syscage engine: shared range outside the guest window");
    return NULL;
  }
  if (fd < 0) {
    fd = memfd_create("syscage-shared", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
      if (fd >= 0) close(fd);
      napi_throw_error(env, NULL, "syscage engine: cannot create shared memory");
      return NULL;
    }
  }
  if (mmap(e->mem + addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)offset) == MAP_FAILED) {
    napi_throw_error(env, NULL, "syscage engine: cannot map shared memory");
    return NULL;
  }
  napi_value r;
  CHECK(napi_create_int32(env, fd, &r));
  return r;
}

/* closeFd(fd): the last mapping of a shared memory file is gone. */
static napi_value engine_close_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  close(fd);
  return NULL;
}

/* ucMap(h, addr, len, perms) / ucUnmap(h, addr, len): Unicorn's view of committed memory. */
static napi_value engine_uc_map(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(4);
  uint64_t addr = get_u64(env, argv[1]), len = get_u64(env, argv[2]);
  int32_t perms;
  CHECK(napi_get_value_int32(env, argv[3], &perms));
  if (!in_window(e, addr, len)) {
    napi_throw_range_error(env, NULL, "syscage engine: map outside the guest window");
    return NULL;
  }
  uc_err err = uc_mem_map_ptr(e->uc, addr, len, perms, e->mem + addr);
  if (err) return throw_uc(env, "uc_mem_map_ptr", err);
  return NULL;
}

static napi_value engine_uc_unmap(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  uc_err err = uc_mem_unmap(e->uc, get_u64(env, argv[1]), get_u64(env, argv[2]));
  if (err) return throw_uc(env, "uc_mem_unmap", err);
  return NULL;
}

/* regRead(h, id) -> bigint; regWrite(h, id, value) */
static napi_value engine_reg_read(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(2);
  int32_t id;
  CHECK(napi_get_value_int32(env, argv[1], &id));
  uint64_t v = 0;
  uc_err err = uc_reg_read(e->uc, id, &v);
  if (err) return throw_uc(env, "uc_reg_read", err);
  napi_value r;
  CHECK(napi_create_bigint_uint64(env, v, &r));
  return r;
}

static napi_value engine_reg_write(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  int32_t id;
  CHECK(napi_get_value_int32(env, argv[1], &id));
  uint64_t v = get_u64(env, argv[2]);
  uc_err err = uc_reg_write(e->uc, id, &v);
  if (err) return throw_uc(env, "uc_reg_write", err);
  return NULL;
}

/* mmrWrite(h, id, base, limit): GDTR/IDTR-style registers (i386 TLS needs a GDT). */
static napi_value engine_mmr_write(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(4);
  int32_t id;
  CHECK(napi_get_value_int32(env, argv[1], &id));
  uc_x86_mmr mmr = {0};
  mmr.base = get_u64(env, argv[2]);
  mmr.limit = (uint32_t)get_u64(env, argv[3]);
  uc_err err = uc_reg_write(e->uc, id, &mmr);
  if (err) return throw_uc(env, "uc_reg_write(mmr)", err);
  return NULL;
}

/* setCpuid(h, edx): answer CPUID leaf 1 with Unicorn's EAX/EBX/ECX and this EDX (see hook_cpuid). x86 only. */
static napi_value engine_set_cpuid(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(2);
  uint32_t edx;
  CHECK(napi_get_value_uint32(env, argv[1], &edx));
  /* Measured once per mode (each arch has one model): a scratch engine costs milliseconds, and fork makes many CPUs. */
  static struct leaf1_cache { int model, done; uint32_t leaf1[4]; } by_mode[2];
  struct leaf1_cache *c = &by_mode[e->mode == UC_MODE_64];
  uc_err err;
  if (!c->done || c->model != e->model) {
    if ((err = measure_leaf1(e->mode, e->model, c->leaf1))) return throw_uc(env, "cpuid", err);
    c->model = e->model;
    c->done = 1;
  }
  memcpy(e->leaf1, c->leaf1, sizeof e->leaf1);
  e->leaf1[3] = edx;
  if (!e->hooks[4] && (err = uc_hook_add(e->uc, &e->hooks[4], UC_HOOK_INSN, hook_cpuid, e, 1, 0, UC_X86_INS_CPUID))) {
    return throw_uc(env, "cpuid hook", err);
  }
  return NULL;
}

/* setPreemptible(h, on): install or remove the block hook. The caller drops the
 * translated code of executable ranges (removeCache) so every block is
 * retranslated with or without the hook; a full TB flush would do it too, but
 * makes Unicorn 2.0.1 touch its whole 1 GiB code buffer. */
static napi_value engine_set_preemptible(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(2);
  bool on;
  CHECK(napi_get_value_bool(env, argv[1], &on));
  uc_err err = UC_ERR_OK;
  if (on && !e->hooks[3]) err = uc_hook_add(e->uc, &e->hooks[3], UC_HOOK_BLOCK, hook_block, e, 1, 0);
  else if (!on && e->hooks[3]) {
    err = uc_hook_del(e->uc, e->hooks[3]);
    e->hooks[3] = 0;
  } else return NULL;
  if (err) return throw_uc(env, "preemption hook", err);
  return NULL;
}

/* removeCache(h, begin, end): drop translated blocks of [begin, end). */
static napi_value engine_remove_cache(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  uc_err err = uc_ctl_remove_cache(e->uc, get_u64(env, argv[1]), get_u64(env, argv[2]));
  if (err) return throw_uc(env, "remove cache", err);
  return NULL;
}

/* run(h, pc, sliceUs) -> stop reason; a slice of 0 runs until the kernel stops it. */
static napi_value engine_run(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(3);
  uint64_t pc = get_u64(env, argv[1]);
  uint64_t slice = get_u64(env, argv[2]);
  e->stop = STOP_REQUESTED;
  e->err = UC_ERR_OK;
  e->env = env;
  e->preempt_at = slice ? now_us() + slice : 0;
  e->countdown = next_countdown(e);
  uc_err err = uc_emu_start(e->uc, pc, UINT64_MAX, 0, 0);
  if (e->stop == STOP_JS_ERROR) {
    napi_value exc;
    napi_get_reference_value(env, e->js_error, &exc);
    napi_delete_reference(env, e->js_error);
    e->js_error = NULL;
    napi_throw(env, exc);
    return NULL;
  }
  if (err && e->stop == STOP_REQUESTED) {
    e->stop = STOP_UC_ERROR;
    e->err = err;
  }
  napi_value r;
  CHECK(napi_create_int32(env, e->stop, &r));
  return r;
}

/* lastStop(h) -> { type, addr, intno, err, message } about the last fault. */
static napi_value engine_last_stop(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(1);
  napi_value o, v;
  CHECK(napi_create_object(env, &o));
  napi_create_int32(env, e->fault_type, &v);
  napi_set_named_property(env, o, "memType", v);
  napi_create_bigint_uint64(env, e->fault_addr, &v);
  napi_set_named_property(env, o, "addr", v);
  napi_create_uint32(env, e->intno, &v);
  napi_set_named_property(env, o, "intno", v);
  napi_create_int32(env, e->err, &v);
  napi_set_named_property(env, o, "ucErr", v);
  napi_create_string_utf8(env, uc_strerror(e->err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "message", v);
  return o;
}

/* hostSeek(fd, offset, whence) -> new offset or -errno: the one host call Node lacks,
 * so a host file handed to the guest as stdio keeps a single shared offset. */
static napi_value host_seek(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, whence;
  int64_t off;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int64(env, argv[1], &off));
  CHECK(napi_get_value_int32(env, argv[2], &whence));
  off_t r = lseek(fd, (off_t)off, whence);
  napi_value v;
  CHECK(napi_create_int64(env, r < 0 ? -(int64_t)errno : (int64_t)r, &v));
  return v;
}

static void context_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  uc_context_free(data);
}

/* contextSave(h) -> External: the whole CPU state (a thread switch, or fork's copy). */
static napi_value engine_context_save(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(1);
  uc_context *ctx;
  uc_err err = e->donor ? uc_context_alloc(e->donor, &ctx) : UC_ERR_NOMEM;
  if (!err) err = uc_context_save(e->uc, ctx);
  if (err) return throw_uc(env, "uc_context_save", err);
  napi_value ext;
  CHECK(napi_create_external(env, ctx, context_finalize, NULL, &ext));
  return ext;
}

/* contextRestore(h, ctx): load a state saved from this engine or one of the same arch. */
static napi_value engine_context_restore(napi_env env, napi_callback_info info) {
  ENGINE_ARGS(2);
  void *ctx = NULL;
  CHECK(napi_get_value_external(env, argv[1], &ctx));
  uc_err err = uc_context_restore(e->uc, ctx);
  if (err) return throw_uc(env, "uc_context_restore", err);
  return NULL;
}

/* contextRegWrite(ctx, id, value): change a saved context. Writing the PC of a
 * running CPU makes Unicorn restart emulation there and drop our stop request,
 * so a new thread's PC is set in its context instead. */
static napi_value engine_context_reg_write(napi_env env, napi_callback_info info) {
  ARGS(3);
  void *ctx = NULL;
  CHECK(napi_get_value_external(env, argv[0], &ctx));
  int32_t id;
  CHECK(napi_get_value_int32(env, argv[1], &id));
  uint64_t v = get_u64(env, argv[2]);
  uc_err err = uc_context_reg_write(ctx, id, &v);
  if (err) return throw_uc(env, "uc_context_reg_write", err);
  return NULL;
}

/* copyFrom(dst, src, addr, len): fork's copy of guest memory, host to host (page-aligned). */
static napi_value engine_copy_from(napi_env env, napi_callback_info info) {
  ARGS(4);
  Engine *dst = get_engine(env, argv[0]);
  Engine *src = dst ? get_engine(env, argv[1]) : NULL;
  if (!src) return NULL;
  uint64_t addr = get_u64(env, argv[2]), len = get_u64(env, argv[3]);
  if (!in_window(dst, addr, len) || !in_window(src, addr, len)) {
    napi_throw_range_error(env, NULL, "syscage engine: copy outside the guest window");
    return NULL;
  }
  /* Skip pages that are all zero: the fresh child reads them as zero anyway, and
   * writing them would make an 8 MiB stack resident in every forked child.
   * (Reading an untouched page maps the shared zero page and costs no memory.) */
  const size_t page = 4096;
  for (uint64_t off = 0; off < len; off += page) {
    const uint64_t *p = (const uint64_t *)(src->mem + addr + off);
    size_t n = len - off < page ? (len - off) / 8 : page / 8, i = 0;
    while (i < n && p[i] == 0) i++;
    if (i < n) memcpy(dst->mem + addr + off, src->mem + addr + off, len - off < page ? len - off : page);
  }
  return NULL;
}

/*
 * Ctrl-C guard for the CLI: Node learns of SIGINT only when its event loop
 * runs, which a guest computing without syscalls never lets happen. The first
 * SIGINT goes on to Node (and to the guest, when it next stops); a second one
 * before Node has handled the first ends syscage at once, with a shell's 130.
 */
static struct sigaction previous_sigint;
static volatile sig_atomic_t pending_sigints;

static void on_host_sigint(int sig, siginfo_t *info, void *uctx) {
  if (++pending_sigints >= 2) {
    static const char msg[] = "\nsyscage: interrupted\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(130);
  }
  if (previous_sigint.sa_flags & SA_SIGINFO) previous_sigint.sa_sigaction(sig, info, uctx);
  else if (previous_sigint.sa_handler != SIG_DFL && previous_sigint.sa_handler != SIG_IGN) previous_sigint.sa_handler(sig);
}

static napi_value install_interrupt_guard(napi_env env, napi_callback_info info) {
  (void)info;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_host_sigint;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &previous_sigint);
  return NULL;
}

static napi_value interrupt_handled(napi_env env, napi_callback_info info) {
  (void)env; (void)info;
  pending_sigints = 0;
  return NULL;
}

/*
 * Host descriptors handed to the guest (stdin/stdout/stderr): their readiness
 * for poll(2)/epoll, asked of the host without waiting (hostPoll), and watched
 * on Node's own loop while a guest task sleeps on them (watchFd/unwatchFd).
 */
static napi_value host_poll(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, events;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int32(env, argv[1], &events));
  struct pollfd p = { .fd = fd, .events = (short)events };
  int r = poll(&p, 1, 0);
  napi_value v;
  CHECK(napi_create_int32(env, r < 0 ? -errno : p.revents, &v));
  return v;
}

/* struct termios of <asm-generic/termbits.h>: 4 flag words, c_line, c_cc[19] (glibc's own struct is larger). */
#define KERNEL_TERMIOS_SIZE 36

/*
 * Terminal ioctls on a host terminal the user handed to the guest (its stdio,
 * /dev/tty): only these requests pass, so a guest can read and set the line
 * discipline and ask the size, but never inject input (TIOCSTI) or take the
 * host's job control. `buf` holds the kernel's struct (termios is 36 bytes,
 * winsize 8, an int 4), the same layout on every arch syscage runs.
 */
static napi_value host_tty_ioctl(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  uint32_t request;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[1], &request));
  napi_typedarray_type tt;
  size_t len;
  void *buf;
  CHECK(napi_get_typedarray_info(env, argv[2], &tt, &len, &buf, NULL, NULL));
  size_t need = 0;
  switch (request) {
    case TCGETS: case TCSETS: case TCSETSW: case TCSETSF: need = KERNEL_TERMIOS_SIZE; break;
    case TIOCGWINSZ: need = sizeof(struct winsize); break;
    case FIONREAD: need = sizeof(int); break;
  }
  int r;
  if (request == TCFLSH) r = ioctl(fd, TCFLSH, len >= 4 ? *(int *)buf : 0);
  else if (!need) r = -1, errno = ENOTTY;
  else if (tt != napi_uint8_array || len < need) r = -1, errno = EINVAL;
  else r = ioctl(fd, request, buf);
  napi_value v;
  CHECK(napi_create_int32(env, r < 0 ? -errno : r, &v));
  return v;
}

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
} FdWatch;

static void on_fd_event(uv_poll_t *h, int status, int events) {
  FdWatch *w = h->data;
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(w->env, w->callback, &cb);
  napi_get_global(w->env, &recv);
  napi_create_int32(w->env, status < 0 ? status : events, &arg);
  napi_make_callback(w->env, w->async, recv, cb, 1, &arg, &result);
  napi_close_handle_scope(w->env, scope);
}

static void on_watch_closed(uv_handle_t *h) {
  FdWatch *w = h->data;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->async);
  free(w);
}

/* watchFd(fd, readable, writable, cb) -> External | null (null when the host cannot watch it, e.g. a regular file). */
static napi_value watch_fd(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  bool readable, writable;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_bool(env, argv[1], &readable));
  CHECK(napi_get_value_bool(env, argv[2], &writable));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  FdWatch *w = calloc(1, sizeof *w);
  w->env = env;
  w->handle.data = w;
  napi_value null_value;
  napi_get_null(env, &null_value);
  if (uv_poll_init(loop, &w->handle, fd) != 0) {
    free(w);
    return null_value;
  }
  napi_value name;
  napi_create_string_utf8(env, "syscage:fd", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->async);
  napi_create_reference(env, argv[3], 1, &w->callback);
  uv_poll_start(&w->handle, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_fd_event);
  napi_value ext;
  CHECK(napi_create_external(env, w, NULL, NULL, &ext));
  return ext;
}

static napi_value unwatch_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p = NULL;
  CHECK(napi_get_value_external(env, argv[0], &p));
  FdWatch *w = p;
  uv_poll_stop(&w->handle);
  uv_close((uv_handle_t *)&w->handle, on_watch_closed);
  return NULL;
}

static void set_int(napi_env env, napi_value obj, const char *name, int32_t value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

/* The register ids and modes the TypeScript side needs, straight from unicorn.h. */
static napi_value make_constants(napi_env env) {
  napi_value c, x86, arm64;
  napi_create_object(env, &c);
  napi_create_object(env, &x86);
  napi_create_object(env, &arm64);
  set_int(env, c, "ARCH_X86", UC_ARCH_X86);
  set_int(env, c, "ARCH_ARM64", UC_ARCH_ARM64);
  set_int(env, c, "MODE_32", UC_MODE_32);
  set_int(env, c, "MODE_64", UC_MODE_64);
  set_int(env, c, "MODE_ARM", UC_MODE_ARM);
  set_int(env, c, "PROT_READ", UC_PROT_READ);
  set_int(env, c, "PROT_WRITE", UC_PROT_WRITE);
  set_int(env, c, "PROT_EXEC", UC_PROT_EXEC);
  set_int(env, c, "CPU_X86_QEMU32", UC_CPU_X86_QEMU32);
  set_int(env, c, "CPU_X86_QEMU64", UC_CPU_X86_QEMU64);
  set_int(env, c, "CPU_X86_HASWELL", UC_CPU_X86_HASWELL);
  set_int(env, c, "CPU_ARM64_MAX", UC_CPU_ARM64_MAX);
  set_int(env, c, "CPU_ARM64_A72", UC_CPU_ARM64_A72);
  set_int(env, c, "MEM_READ_UNMAPPED", UC_MEM_READ_UNMAPPED);
  set_int(env, c, "MEM_WRITE_UNMAPPED", UC_MEM_WRITE_UNMAPPED);
  set_int(env, c, "MEM_FETCH_UNMAPPED", UC_MEM_FETCH_UNMAPPED);
  set_int(env, c, "MEM_READ_PROT", UC_MEM_READ_PROT);
  set_int(env, c, "MEM_WRITE_PROT", UC_MEM_WRITE_PROT);
  set_int(env, c, "MEM_FETCH_PROT", UC_MEM_FETCH_PROT);
  set_int(env, c, "ERR_INSN_INVALID", UC_ERR_INSN_INVALID);
#define X(r) set_int(env, x86, #r, UC_X86_REG_##r)
  X(EAX); X(EBX); X(ECX); X(EDX); X(ESI); X(EDI); X(EBP); X(ESP); X(EIP); X(EFLAGS);
  X(RAX); X(RBX); X(RCX); X(RDX); X(RSI); X(RDI); X(RBP); X(RSP); X(RIP); X(RFLAGS);
  X(R8); X(R9); X(R10); X(R11); X(R12); X(R13); X(R14); X(R15);
  X(CS); X(DS); X(ES); X(SS); X(FS); X(GS); X(FS_BASE); X(GS_BASE); X(GDTR); X(CR0); X(CR4);
#undef X
  for (int i = 0; i <= 28; i++) {
    char name[8];
    snprintf(name, sizeof name, "X%d", i);
    set_int(env, arm64, name, UC_ARM64_REG_X0 + i);
  }
  set_int(env, arm64, "X29", UC_ARM64_REG_X29);
  set_int(env, arm64, "X30", UC_ARM64_REG_X30);
  set_int(env, arm64, "SP", UC_ARM64_REG_SP);
  set_int(env, arm64, "PC", UC_ARM64_REG_PC);
  set_int(env, arm64, "NZCV", UC_ARM64_REG_NZCV);
  set_int(env, arm64, "TPIDR_EL0", UC_ARM64_REG_TPIDR_EL0);
  set_int(env, arm64, "CPACR_EL1", UC_ARM64_REG_CPACR_EL1);
  napi_set_named_property(env, c, "x86", x86);
  napi_set_named_property(env, c, "arm64", arm64);
  return c;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"create", NULL, engine_create, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, engine_close, NULL, NULL, NULL, napi_default, NULL},
    {"view", NULL, engine_view, NULL, NULL, NULL, napi_default, NULL},
    {"commit", NULL, engine_commit, NULL, NULL, NULL, napi_default, NULL},
    {"release", NULL, engine_release, NULL, NULL, NULL, napi_default, NULL},
    {"ucMap", NULL, engine_uc_map, NULL, NULL, NULL, napi_default, NULL},
    {"ucUnmap", NULL, engine_uc_unmap, NULL, NULL, NULL, napi_default, NULL},
    {"regRead", NULL, engine_reg_read, NULL, NULL, NULL, napi_default, NULL},
    {"regWrite", NULL, engine_reg_write, NULL, NULL, NULL, napi_default, NULL},
    {"mmrWrite", NULL, engine_mmr_write, NULL, NULL, NULL, napi_default, NULL},
    {"run", NULL, engine_run, NULL, NULL, NULL, napi_default, NULL},
    {"shareMemory", NULL, engine_share_memory, NULL, NULL, NULL, napi_default, NULL},
    {"closeFd", NULL, engine_close_fd, NULL, NULL, NULL, napi_default, NULL},
    {"removeCache", NULL, engine_remove_cache, NULL, NULL, NULL, napi_default, NULL},
    {"setPreemptible", NULL, engine_set_preemptible, NULL, NULL, NULL, napi_default, NULL},
    {"contextSave", NULL, engine_context_save, NULL, NULL, NULL, napi_default, NULL},
    {"contextRestore", NULL, engine_context_restore, NULL, NULL, NULL, napi_default, NULL},
    {"contextRegWrite", NULL, engine_context_reg_write, NULL, NULL, NULL, napi_default, NULL},
    {"copyFrom", NULL, engine_copy_from, NULL, NULL, NULL, napi_default, NULL},
    {"installInterruptGuard", NULL, install_interrupt_guard, NULL, NULL, NULL, napi_default, NULL},
    {"interruptHandled", NULL, interrupt_handled, NULL, NULL, NULL, napi_default, NULL},
    {"hostPoll", NULL, host_poll, NULL, NULL, NULL, napi_default, NULL},
    {"setCpuid", NULL, engine_set_cpuid, NULL, NULL, NULL, napi_default, NULL},
    {"hostTtyIoctl", NULL, host_tty_ioctl, NULL, NULL, NULL, napi_default, NULL},
    {"watchFd", NULL, watch_fd, NULL, NULL, NULL, napi_default, NULL},
    {"unwatchFd", NULL, unwatch_fd, NULL, NULL, NULL, napi_default, NULL},
    {"hostSeek", NULL, host_seek, NULL, NULL, NULL, napi_default, NULL},
    {"lastStop", NULL, engine_last_stop, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "constants", make_constants(env));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
