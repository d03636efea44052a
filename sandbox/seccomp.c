/* Building the seccomp filter with libseccomp, and loading it.
 *
 * The policy's own default action (EPERM for the built-in one) covers every
 * syscall the filter's architectures know up to the highest number the
 * policy names.  Numbers above that are newer than the policy: like runc, a
 * short BPF prologue answers them ENOSYS before libseccomp's program runs, so
 * programs fall back to older calls instead of failing on EPERM. */
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_cache.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sandbox/seccomp_profile.h"

struct cab_seccomp_filter {
  struct sock_fprog prog;
  struct sock_filter insns[];
};

/* ---- the filter under construction ---- */

static unsigned
host_arch_bit(uint32_t arch)
{
  switch (arch) {
  case SCMP_ARCH_X86_64: return CAB_ARCH_AMD64;
  case SCMP_ARCH_X86: return CAB_ARCH_X86;
  case SCMP_ARCH_X32: return CAB_ARCH_X32;
  case SCMP_ARCH_ARM: return CAB_ARCH_ARM;
  case SCMP_ARCH_AARCH64: return CAB_ARCH_ARM64;
  case SCMP_ARCH_PPC64LE: return CAB_ARCH_PPC64LE;
  case SCMP_ARCH_S390: return CAB_ARCH_S390;
  case SCMP_ARCH_S390X: return CAB_ARCH_S390X;
  case SCMP_ARCH_RISCV64: return CAB_ARCH_RISCV64;
  case SCMP_ARCH_MIPS: case SCMP_ARCH_MIPSEL: case SCMP_ARCH_MIPS64: case SCMP_ARCH_MIPSEL64:
  case SCMP_ARCH_MIPS64N32: case SCMP_ARCH_MIPSEL64N32: return CAB_ARCH_MIPS;
  default: return 0;
  }
}

int
cab_seccomp_ctx_init(struct cab_seccomp_ctx *ctx, uint32_t default_action, uint64_t caps,
                     cab_error *err)
{
  *ctx = (struct cab_seccomp_ctx){.default_action = default_action, .caps = caps};
  struct utsname u;
  if (uname(&u) < 0)
    return cab_error_sys(err, "uname");
  if (!cab_seccomp_parse_kernel_version(u.release, &ctx->kernel_major, &ctx->kernel_minor))
    return cab_error_set(err, 0, "cannot read the kernel version from \"%s\"", u.release);

  ctx->filter = seccomp_init(default_action);
  if (ctx->filter == NULL)
    return cab_error_set(err, EINVAL, "seccomp_init");
  /* cab sets no_new_privs itself, before loading. */
  int r = seccomp_attr_set(ctx->filter, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0)
    return cab_error_set(err, -r, "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)");
  (void)seccomp_attr_set(ctx->filter, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* binary tree, if known */

  uint32_t native = seccomp_arch_native();
  ctx->host_arch = host_arch_bit(native);
  ctx->arches[0] = native;
  ctx->highest[0] = -1;
  ctx->n_arches = 1;
  return 0;
}

void
cab_seccomp_ctx_release(struct cab_seccomp_ctx *ctx)
{
  if (ctx->filter != NULL)
    seccomp_release(ctx->filter);
  ctx->filter = NULL;
}

int
cab_seccomp_ctx_add_arch(struct cab_seccomp_ctx *ctx, uint32_t arch, cab_error *err)
{
  for (unsigned i = 0; i < ctx->n_arches; i++)
    if (ctx->arches[i] == arch)
      return 0;
  if (ctx->n_arches == CAB_SECCOMP_MAX_ARCHES)
    return cab_error_set(err, 0, "too many seccomp architectures");
  int r = seccomp_arch_add(ctx->filter, arch);
  if (r < 0)
    return cab_error_set(err, -r, "seccomp_arch_add(0x%x)", arch);
  ctx->arches[ctx->n_arches] = arch;
  ctx->highest[ctx->n_arches] = -1;
  ctx->n_arches++;
  return 0;
}

int
cab_seccomp_ctx_add_host_arches(struct cab_seccomp_ctx *ctx, cab_error *err)
{
  if (seccomp_arch_native() != SCMP_ARCH_X86_64)
    return 0;
  if (cab_seccomp_ctx_add_arch(ctx, SCMP_ARCH_X86, err) < 0)
    return -1;
  return cab_seccomp_ctx_add_arch(ctx, SCMP_ARCH_X32, err);
}

static void
note_highest(struct cab_seccomp_ctx *ctx, const char *name)
{
  for (unsigned i = 0; i < ctx->n_arches; i++) {
    int nr = seccomp_syscall_resolve_name_arch(ctx->arches[i], name);
    if (nr >= 0 && nr > ctx->highest[i])
      ctx->highest[i] = nr;
  }
}

static int
add_masked(struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule, int nr,
           uint64_t value, uint64_t block_size)
{
  struct scmp_arg_cmp args[7];
  memcpy(args, rule->args, rule->n_args * sizeof args[0]);
  args[rule->n_args] = (struct scmp_arg_cmp){
    .arg = rule->refused_arg, .op = SCMP_CMP_MASKED_EQ,
    .datum_a = ~(block_size - 1), .datum_b = value};
  return seccomp_rule_add_array(ctx->filter, rule->action, nr, rule->n_args + 1, args);
}

/* [LO, HI] as aligned power-of-two blocks, each one masked comparison. */
static int
add_range(struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule, int nr, uint64_t lo,
          uint64_t hi)
{
  for (;;) {
    uint64_t size = lo == 0 ? UINT64_C(1) << 63 : lo & -lo;
    while (size > 1 && size - 1 > hi - lo)
      size >>= 1;
    int r = add_masked(ctx, rule, nr, lo, size);
    if (r < 0)
      return r;
    if (size - 1 == hi - lo)
      return 0;
    lo += size;
  }
}

static int
add_range_except(struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule, int nr,
                 uint64_t lo, uint64_t hi, const uint64_t *refused, unsigned n_refused)
{
  uint64_t from = lo;
  for (unsigned i = 0; i < n_refused; i++) {
    uint64_t v = refused[i];
    if (v < from || v > hi)
      continue;
    if (v > from) {
      int r = add_range(ctx, rule, nr, from, v - 1);
      if (r < 0)
        return r;
    }
    if (v == hi)
      return 0;
    from = v + 1;
  }
  return add_range(ctx, rule, nr, from, hi);
}

static int
compare_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* The rule for every 32-bit argument value but the refused ones.  The kernel
 * reads such an argument as an int and ignores the upper half: matching on
 * all 64 bits, a refused value with stray upper bits would get through. */
static int
add_rule_refusing(struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule, int nr)
{
  const uint64_t sign_extended = UINT64_C(0xffffffff00000000);
  uint64_t refused[CAB_SECCOMP_MAX_REFUSED * 2];
  unsigned n = 0;
  for (unsigned i = 0; i < rule->n_refused; i++) {
    refused[n++] = rule->refused[i];
    if (rule->refused[i] & 0x80000000u)
      refused[n++] = sign_extended | rule->refused[i];
  }
  qsort(refused, n, sizeof refused[0], compare_u64);
  int r = add_range_except(ctx, rule, nr, 0, UINT32_MAX, refused, n);
  if (r < 0)
    return r;
  return add_range_except(ctx, rule, nr, sign_extended | 0x80000000u, UINT64_MAX, refused, n);
}

static bool
is_refused(const struct cab_seccomp_ctx *ctx, const char *name)
{
  for (const char *const *r = ctx->refused; r && *r; r++)
    if (strcmp(*r, name) == 0)
      return true;
  return false;
}

int
cab_seccomp_ctx_add_rule(struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule,
                         cab_error *err)
{
  for (const char *const *name = rule->names; *name != NULL; name++)
    note_highest(ctx, *name);
  if (!cab_seccomp_rule_applies(ctx, rule) || rule->action == ctx->default_action)
    return 0;
  if (rule->n_args > 6 || (rule->n_refused > 0 && rule->n_args > 5) ||
      rule->n_refused > CAB_SECCOMP_MAX_REFUSED)
    return cab_error_set(err, EINVAL, "seccomp rule for %s: too many conditions", rule->names[0]);

  for (const char *const *name = rule->names; *name != NULL; name++) {
    if (is_refused(ctx, *name))
      continue; /* left to the default action */
    int nr = seccomp_syscall_resolve_name(*name);
    if (nr == __NR_SCMP_ERROR)
      continue; /* unknown to libseccomp: as crun, skip it */
    int r = rule->n_refused > 0
                ? add_rule_refusing(ctx, rule, nr)
                : seccomp_rule_add_array(ctx->filter, rule->action, nr, rule->n_args, rule->args);
    if (r < 0)
      return cab_error_set(err, -r, "seccomp rule for %s", *name);
  }
  return 0;
}

/* ---- the ENOSYS prologue ---- */

enum {
  STUB_MAX = 64,
  TO_ENOSYS = 0xfe, /* jump placeholders, resolved once the stub is laid out */
  TO_END = 0xff,
  X32_SYSCALL_BIT = 0x40000000,
};

struct stub {
  struct sock_filter insn[STUB_MAX];
  unsigned len;
};

static void
emit(struct stub *s, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
  s->insn[s->len++] = (struct sock_filter){.code = code, .jt = jt, .jf = jf, .k = k};
}

/* Numbers above HIGHEST get ENOSYS; with no highest, leave it to the filter. */
static void
emit_limit(struct stub *s, int64_t highest)
{
  if (highest < 0)
    emit(s, BPF_JMP | BPF_JA, 0, 0, TO_END);
  else
    emit(s, BPF_JMP | BPF_JGT | BPF_K, TO_ENOSYS, TO_END, (uint32_t)highest);
}

static int
arch_index(const struct cab_seccomp_ctx *ctx, uint32_t arch)
{
  for (unsigned i = 0; i < ctx->n_arches; i++)
    if (ctx->arches[i] == arch)
      return (int)i;
  return -1;
}

static void
emit_arch_block(struct stub *s, const struct cab_seccomp_ctx *ctx, unsigned i)
{
  const uint16_t load = BPF_LD | BPF_W | BPF_ABS;
  uint32_t arch = ctx->arches[i];
  if (arch == SCMP_ARCH_X32)
    return; /* x32 calls come as x86_64 ones with X32_SYSCALL_BIT */
  if (arch != SCMP_ARCH_X86_64) {
    if (ctx->highest[i] < 0)
      return;
    emit(s, load, 0, 0, offsetof(struct seccomp_data, arch));
    emit(s, BPF_JMP | BPF_JEQ | BPF_K, 0, 2, arch);
    emit(s, load, 0, 0, offsetof(struct seccomp_data, nr));
    emit_limit(s, ctx->highest[i]);
    return;
  }
  int x32 = arch_index(ctx, SCMP_ARCH_X32);
  int64_t x32_highest = x32 < 0 ? -1 : ctx->highest[x32];
  if (ctx->highest[i] < 0 && x32_highest < 0)
    return;
  emit(s, load, 0, 0, offsetof(struct seccomp_data, arch));
  emit(s, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, arch);
  emit(s, load, 0, 0, offsetof(struct seccomp_data, nr));
  emit(s, BPF_JMP | BPF_JSET | BPF_K, 1, 0, X32_SYSCALL_BIT);
  emit_limit(s, ctx->highest[i]);
  emit_limit(s, x32_highest); /* without x32 in the filter: -1, its bad-arch action */
}

static uint8_t
resolve_jump(uint8_t target, unsigned at, unsigned enosys, unsigned end)
{
  if (target == TO_ENOSYS)
    return (uint8_t)(enosys - at - 1);
  if (target == TO_END)
    return (uint8_t)(end - at - 1);
  return target;
}

/* The prologue, or nothing when the policy's default already allows, logs
 * or answers ENOSYS (as runc). */
static void
build_enosys_stub(const struct cab_seccomp_ctx *ctx, struct stub *s)
{
  s->len = 0;
  uint32_t def = ctx->default_action;
  if (def == SCMP_ACT_ALLOW || def == SCMP_ACT_LOG || def == SCMP_ACT_ERRNO(ENOSYS))
    return;
  for (unsigned i = 0; i < ctx->n_arches; i++)
    emit_arch_block(s, ctx, i);
  if (s->len == 0)
    return;
  emit(s, BPF_JMP | BPF_JA, 0, 0, 1);
  emit(s, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  unsigned enosys = s->len - 1, end = s->len;
  for (unsigned at = 0; at < s->len; at++) {
    struct sock_filter *f = &s->insn[at];
    if (BPF_CLASS(f->code) != BPF_JMP)
      continue;
    if (BPF_OP(f->code) == BPF_JA) {
      if (f->k == TO_END)
        f->k = end - at - 1;
      continue;
    }
    f->jt = resolve_jump(f->jt, at, enosys, end);
    f->jf = resolve_jump(f->jf, at, enosys, end);
  }
}

/* ---- export and load ---- */

static int
export_bpf(scmp_filter_ctx filter, const struct stub *stub, struct cab_seccomp_filter **out,
           cab_error *err)
{
  cleanup_close int fd = memfd_create("cab-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "memfd_create");
  int r = seccomp_export_bpf(filter, fd);
  if (r < 0)
    return cab_error_set(err, -r, "seccomp_export_bpf");
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0)
    return cab_error_sys(err, "lseek on the seccomp memfd");
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return cab_error_set(err, 0, "seccomp_export_bpf wrote %lld bytes", (long long)size);

  size_t n = (size_t)size / sizeof(struct sock_filter) + stub->len;
  if (n > BPF_MAXINSNS)
    return cab_error_set(err, 0, "seccomp filter too large: %zu instructions (at most %d)", n,
                         BPF_MAXINSNS);
  cleanup_free struct cab_seccomp_filter *f =
      malloc(sizeof *f + n * sizeof(struct sock_filter));
  if (f == NULL)
    return cab_error_sys(err, "malloc");
  memcpy(f->insns, stub->insn, stub->len * sizeof(struct sock_filter));
  char *dst = (char *)&f->insns[stub->len];
  for (off_t done = 0; done < size;) {
    ssize_t got = pread(fd, dst + done, (size_t)(size - done), done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return cab_error_set(err, got < 0 ? errno : EIO, "reading the seccomp filter back");
    done += got;
  }
  f->prog.len = (unsigned short)n;
  f->prog.filter = f->insns;
  *out = cab_steal_ptr(&f);
  return 0;
}

static int
filter_from_insns(const struct sock_filter *insns, size_t n, struct cab_seccomp_filter **out,
                  cab_error *err)
{
  struct cab_seccomp_filter *f = malloc(sizeof *f + n * sizeof *insns);
  if (f == NULL)
    return cab_error_sys(err, "malloc");
  memcpy(f->insns, insns, n * sizeof *insns);
  f->prog.len = (unsigned short)n;
  f->prog.filter = f->insns;
  *out = f;
  return 0;
}

int
cab_seccomp_build(const struct cab_seccomp_config *cfg, struct cab_seccomp_filter **out,
                  cab_error *err)
{
  *out = NULL;
  if (cfg == NULL || cfg->kind == CAB_SECCOMP_UNCONFINED)
    return 0;
  cleanup_free char *key = NULL;
  size_t key_len = 0;
  bool cacheable = cab_seccomp_cache_key(cfg, &key, &key_len) == 0;
  cleanup_free struct sock_filter *cached = NULL;
  size_t n_cached = 0;
  if (cacheable && cab_seccomp_cache_get(key, key_len, &cached, &n_cached) == 0)
    return filter_from_insns(cached, n_cached, out, err);

  cleanup_seccomp_ctx struct cab_seccomp_ctx ctx = {0};
  switch (cfg->kind) {
  case CAB_SECCOMP_DEFAULT:
    if (cab_seccomp_default_profile(&ctx, cfg->caps, NULL, err) < 0)
      return cab_error_prefix(err, "seccomp default profile");
    break;
  case CAB_SECCOMP_VERIFIER:
    if (cab_seccomp_default_profile(&ctx, cfg->caps, cab_seccomp_verifier_refused, err) < 0)
      return cab_error_prefix(err, "seccomp verifier profile");
    break;
  case CAB_SECCOMP_FILE:
    if (cfg->path == NULL || cfg->path[0] == '\0')
      return cab_error_set(err, 0, "seccomp: no profile file given");
    if (cab_seccomp_json_profile(&ctx, cfg->path, cfg->caps, err) < 0)
      return -1;
    break;
  default:
    return cab_error_set(err, 0, "seccomp: unknown profile kind %d", (int)cfg->kind);
  }
  struct stub stub;
  build_enosys_stub(&ctx, &stub);
  if (export_bpf(ctx.filter, &stub, out, err) < 0)
    return -1;
  if (cacheable)
    cab_seccomp_cache_put(key, key_len, (*out)->insns, (*out)->prog.len);
  return 0;
}

int
cab_seccomp_load(const struct cab_seccomp_filter *f)
{
  if (f == NULL)
    return 0;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &f->prog, 0, 0) < 0)
    return -errno;
  return 0;
}

void
cab_seccomp_free(struct cab_seccomp_filter *f)
{
  free(f);
}

int
cab_seccomp_config_from_option(struct cab_seccomp_config *cfg, const char *value, cab_error *err)
{
  if (value == NULL || value[0] == '\0')
    return cab_error_set(err, 0, "--seccomp needs default, verifier, unconfined or a profile file");
  if (strcmp(value, "unconfined") == 0 || strcmp(value, "default") == 0 ||
      strcmp(value, "verifier") == 0) {
    cfg->kind = value[0] == 'u'   ? CAB_SECCOMP_UNCONFINED
                : value[0] == 'd' ? CAB_SECCOMP_DEFAULT
                                  : CAB_SECCOMP_VERIFIER;
    cfg->path = NULL;
  } else {
    cfg->kind = CAB_SECCOMP_FILE;
    cfg->path = value;
  }
  return 0;
}

const char *
cab_seccomp_kind_name(enum cab_seccomp_kind kind)
{
  switch (kind) {
  case CAB_SECCOMP_DEFAULT: return "default";
  case CAB_SECCOMP_UNCONFINED: return "unconfined";
  case CAB_SECCOMP_FILE: return "file";
  case CAB_SECCOMP_VERIFIER: return "verifier";
  }
  return "unknown";
}

size_t
cab_seccomp_filter_length(const struct cab_seccomp_filter *f)
{
  return f == NULL ? 0 : f->prog.len;
}
