/* What cab exec's option parsing (runner/cli/cmd_exec.c) hands to its run
 * (runner/cli/exec_run.c): the options as read, and the run's own state. */
#ifndef CAB_RUNNER_CLI_EXEC_RUN_H
#define CAB_RUNNER_CLI_EXEC_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/envlist.h"
#include "common/error.h"
#include "rootfs/lease.h"
#include "rootfs/store.h"
#include "runner/cell/modelnet.h"
#include "runner/cell/protection.h"
#include "runner/cell/run_spec.h"
#include "sandbox/host_masks.h"
#include "sandbox/sandbox.h"

/* At most this many --bind and --env options. */
#define CAB_EXEC_MAX_LIST 256

struct cab_exec_opts {
  struct cab_sandbox_config cfg;
  struct cab_run_root root;   /* --rootfs [--overlay], --host-rootfs, or the image's lease */
  struct cab_bind binds[CAB_EXEC_MAX_LIST];
  struct cab_envlist env;
  const char *result_path;
  const char *model_opt;      /* the last model option given, for the check */
  bool net_enabled;
  struct cab_modelnet net;    /* --net model: proxy and DNS on the gateway */
  const char *image;          /* cab exec IMAGE: a stored image's overlay */
  bool workdir_given, user_given;
  char *const *rest;          /* the words after the options */
  size_t n_rest;
  char **image_argv;
  cab_store *store;
  cab_image *img;
  struct cab_rootfs_lease lease;
  char layer[PATH_MAX];       /* per-run writable layer, removed afterwards */
  int layer_lock;             /* held while it exists (runner/cell/leftovers.h) */
  struct cab_host_masks masks; /* --host-rootfs: what the sandbox does not see */
  cab_protection_set require; /* --require, checked before and after the run */
  bool require_given;
  int overlay_ok;             /* cab_probe_overlay(), asked once: -1 not yet */
};

/* Empty options: no layer, no lock, the overlay not probed yet. */
void cab_exec_opts_init(struct cab_exec_opts *o);

/* --env K=V (set) or K (cab's own value passed through; nothing when
 * unset); also how the model network's variables are set. */
int cab_exec_env_add(struct cab_exec_opts *o, const char *kv, cab_error *err);

#ifdef CAB_CORE
/* Whether cab-full must run this instead (runner/cli/core.h): the model
 * network, or an image that is not unpacked or does not resolve. */
bool cab_exec_needs_full(struct cab_exec_opts *o);
#endif

/* The run, from the host checks to the result file; returns the command's
 * exit status, or 125/126/127 after one line on stderr. */
int cab_exec_run(struct cab_exec_opts *o);

#endif
