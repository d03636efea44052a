/* Internals of the seccomp module: a policy as rules in the manner of Docker's
 * profile format, the filter under construction, and the two sources of
 * rules (the built-in default table and a JSON profile file).
 *
 * Not part of cab's public interface: only sandbox/seccomp*.c and the unit
 * tests include this. */
#ifndef CAB_SANDBOX_SECCOMP_PROFILE_H
#define CAB_SANDBOX_SECCOMP_PROFILE_H

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define CAB_CAP(c) (UINT64_C(1) << (c))

/* The architectures a rule's condition can name, as Docker's profile does
 * (Go's names: "amd64", "arm64", ...).  Matched against the host. */
enum {
  CAB_ARCH_AMD64 = 1u << 0,
  CAB_ARCH_X86 = 1u << 1,
  CAB_ARCH_X32 = 1u << 2,
  CAB_ARCH_ARM = 1u << 3,
  CAB_ARCH_ARM64 = 1u << 4,
  CAB_ARCH_PPC64LE = 1u << 5,
  CAB_ARCH_S390 = 1u << 6,
  CAB_ARCH_S390X = 1u << 7,
  CAB_ARCH_RISCV64 = 1u << 8,
  CAB_ARCH_MIPS = 1u << 9,
  CAB_ARCH_LOONGARCH64 = 1u << 10,
};

/* "Docker arch name" -> CAB_ARCH_* bit; 0 if unknown. */
unsigned cab_seccomp_arch_bit_by_name(const char *name);

/* Docker's "includes" / "excludes": a rule applies when every part of its
 * includes holds and no part of its excludes does.  Zero fields are absent. */
struct cab_seccomp_when {
  uint64_t caps;          /* includes: all kept; excludes: any kept */
  unsigned arches;        /* CAB_ARCH_* bits: the host is one of them */
  const char *min_kernel; /* "major.minor": the running kernel is at least */
};

enum { CAB_SECCOMP_MAX_REFUSED = 4 };

struct cab_seccomp_rule {
  const char *const *names;        /* NULL-terminated syscall names */
  uint32_t action;                 /* SCMP_ACT_* */
  unsigned n_args;
  struct scmp_arg_cmp args[6];     /* all must hold (one per argument) */
  struct cab_seccomp_when includes;
  struct cab_seccomp_when excludes;
  /* When n_refused > 0: the rule matches only calls whose argument
   * REFUSED_ARG, read as the kernel's 32-bit int (upper half zero or a sign
   * extension), is none of REFUSED.  Other upper halves do not match. */
  unsigned refused_arg;
  unsigned n_refused;
  uint32_t refused[CAB_SECCOMP_MAX_REFUSED];
};

enum { CAB_SECCOMP_MAX_ARCHES = 8 };

/* A filter under construction. */
struct cab_seccomp_ctx {
  scmp_filter_ctx filter;
  uint32_t default_action;
  uint64_t caps;            /* capabilities the process keeps */
  unsigned host_arch;       /* CAB_ARCH_* bit of the host */
  unsigned kernel_major, kernel_minor;
  unsigned n_arches;
  uint32_t arches[CAB_SECCOMP_MAX_ARCHES];   /* SCMP_ARCH_* tokens */
  int64_t highest[CAB_SECCOMP_MAX_ARCHES];   /* highest syscall number named
                                                for that arch; -1: none */
  const char *const *refused;  /* NULL-terminated names no rule may allow:
                                  they get the default action */
};

int cab_seccomp_ctx_init(struct cab_seccomp_ctx *ctx, uint32_t default_action, uint64_t caps,
                         cab_error *err);
void cab_seccomp_ctx_release(struct cab_seccomp_ctx *ctx);
#define cleanup_seccomp_ctx __attribute__((cleanup(cab_seccomp_ctx_release)))

/* Add an architecture (SCMP_ARCH_*); adding one already there is a no-op. */
int cab_seccomp_ctx_add_arch(struct cab_seccomp_ctx *ctx, uint32_t arch, cab_error *err);

/* The host's arch plus, on x86_64, i386 and x32. */
int cab_seccomp_ctx_add_host_arches(struct cab_seccomp_ctx *ctx, cab_error *err);

/* Whether RULE applies to this process (caps, host arch, kernel). */
bool cab_seccomp_rule_applies(const struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule);

/* Record RULE's names for the ENOSYS boundary and, if it applies, add it for
 * every architecture.  Names libseccomp does not know are skipped; a rule
 * whose action is the default one is redundant and skipped. */
int cab_seccomp_ctx_add_rule(struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule,
                             cab_error *err);

/* Whether "major.minor" names a kernel version; parses it. */
bool cab_seccomp_parse_kernel_version(const char *s, unsigned *major, unsigned *minor);

/* The built-in policy (Docker's default profile plus cab's hardening). */
extern const struct cab_seccomp_rule cab_seccomp_default_rules[];
extern const unsigned cab_seccomp_default_rules_count;

/* Fill CTX with the built-in policy for a process keeping CAPS, less the
 * syscalls in REFUSED (NULL-terminated; NULL for none), which are refused
 * whatever the rules and capabilities say. */
int cab_seccomp_default_profile(struct cab_seccomp_ctx *ctx, uint64_t caps,
                                const char *const *refused, cab_error *err);

/* Fill CTX from the Docker/OCI seccomp JSON at PATH.  Errors name the file,
 * the JSON path and the reason. */
int cab_seccomp_json_profile(struct cab_seccomp_ctx *ctx, const char *path, uint64_t caps,
                             cab_error *err);

#endif
