/* The seccomp filter, built with libseccomp and loaded last before exec.
 *
 * The default policy follows Docker's default profile: an allow-list, EPERM
 * for the rest, ENOSYS for syscalls newer than the list (so glibc falls back,
 * e.g. clone3 -> clone), namespace flags refused on clone/unshare, and the
 * AF_ALG and AF_VSOCK socket families refused.  x86_64, x32 and i386 are each
 * handled explicitly. */
#ifndef CAB_SANDBOX_SECCOMP_H
#define CAB_SANDBOX_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum cab_seccomp_kind {
  CAB_SECCOMP_DEFAULT = 0,
  CAB_SECCOMP_UNCONFINED,
  CAB_SECCOMP_FILE,   /* a Docker/OCI-format seccomp JSON */
  CAB_SECCOMP_VERIFIER, /* the default policy less every call that reaches
                           into another process (cab_seccomp_verifier_refused) */
};

/* The kind's name, for reports and cell.json ("default", "verifier", ...). */
const char *cab_seccomp_kind_name(enum cab_seccomp_kind kind);

/* The syscalls the verifier policy refuses on top of the default one
 * (NULL-terminated). */
extern const char *const cab_seccomp_verifier_refused[];

struct cab_seccomp_config {
  enum cab_seccomp_kind kind;
  const char *path;     /* for CAB_SECCOMP_FILE */
  uint64_t caps;        /* capabilities the process keeps: gates the
                           cap-dependent groups, as Docker does */
};

/* A compiled filter, ready to load.  Built in the parent (it may read files
 * and allocate), loaded in the child with no allocation. */
struct cab_seccomp_filter;

int cab_seccomp_build(const struct cab_seccomp_config *cfg, struct cab_seccomp_filter **out,
                      cab_error *err);

/* Load into the calling thread.  NULL (unconfined) is a no-op.  Sets no
 * error text (runs after fork, before exec); returns -errno. */
int cab_seccomp_load(const struct cab_seccomp_filter *f);

void cab_seccomp_free(struct cab_seccomp_filter *f);

/* "--seccomp VALUE": "default", "verifier", "unconfined" or a JSON profile
 * file.  Leaves caps. */
int cab_seccomp_config_from_option(struct cab_seccomp_config *cfg, const char *value,
                                   cab_error *err);

/* Number of BPF instructions (0 for NULL), for reports and tests. */
size_t cab_seccomp_filter_length(const struct cab_seccomp_filter *f);

#endif
