/* The one composer of sandboxes: what `cab exec` and a cell's two sandboxes
 * share between "a root and some options" and a struct cab_sandbox_config
 * (sandbox/sandbox.h): where / comes from (an image's lease, a directory,
 * or the host's /), Docker's defaults, an image's Env, WorkingDir, User
 * and Entrypoint/Cmd, and numeric ids.  Linked into the core cab (exec's
 * fast start): it calls nothing in rootfs/ or the proxy. */
#ifndef CAB_RUNNER_RUN_SPEC_H
#define CAB_RUNNER_RUN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/envlist.h"
#include "common/error.h"
#include "rootfs/lease.h"
#include "sandbox/sandbox.h"

/* PATH when neither the image nor the caller sets one (Docker's). */
#define CAB_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Where the sandbox's / comes from: a LEASE, a DIR, or the HOST's /. */
struct cab_run_root {
  const struct cab_rootfs_lease *lease; /* an image: its writable layer (overlay or
                                           copy) when it has one, else its lower
                                           directory, read-only */
  bool lower_only;             /* the lease's lower directory read-only even when
                                  it has a layer (the verifier: the code under
                                  test cannot replace a binary the harness runs) */
  const char *dir;             /* a directory, read-only ... */
  const char *overlay_dir;     /* ... or writable through an overlay here */
  bool host;                   /* the host's /, read-only, MASKS hidden */
  const char *const *masks;
  size_t n_masks;
  const char *const *writable; /* host: trees the sandbox writes, handed to its
                                  host id when that is not the caller's */
  size_t n_writable;
};

/* Docker's defaults a sandbox starts from: its capability set and seccomp
 * policy (uid 0:0, no limits: the rest of CFG is zero). */
void cab_run_spec_init(struct cab_sandbox_config *cfg);

/* Set CFG's root from ROOT (CFG's uid and gid already set: on the host's /
 * they decide the host id the writable trees are handed to). */
int cab_run_spec_root(const struct cab_run_root *root, struct cab_sandbox_config *cfg,
                      cab_error *err);

/* "UID[:GID]", numeric, each at most 4294967294; GID defaults to UID.
 * -1 when malformed. */
int cab_run_spec_ids(const char *spec, uid_t *uid, gid_t *gid);

/* The image's Env into ENV.  KEEP_SET: a variable ENV has already keeps its
 * value (cab exec's --env wins); else the image's replaces it (a cell's
 * PATH default gives way to the image's). */
int cab_run_spec_image_env(struct cab_envlist *env, const cab_image_config *ic, bool keep_set);

/* What the image runs, as Docker runs it: its WorkingDir unless WORKDIR_SET,
 * its User unless USER_SET (numeric only), and Entrypoint followed by REST
 * (the words after --) or else by Cmd.  *ARGV is malloc'd (the strings are
 * borrowed from IC and REST).  REF names the image in errors. */
int cab_run_spec_image_process(const cab_image_config *ic, const char *ref, bool workdir_set,
                               bool user_set, char *const *rest, size_t n_rest,
                               struct cab_sandbox_config *cfg, char ***argv, cab_error *err);

#endif
