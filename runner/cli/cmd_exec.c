/* cab exec [OPTIONS] (IMAGE | --rootfs DIR | --host-rootfs) [OPTIONS] -- CMD [ARG...]
 *
 * Also built into the core cab (-DCAB_CORE, runner/cli/core.h), which links
 * only the sandbox's libraries and the store's reading side: it runs
 * --rootfs, --host-rootfs and an IMAGE whose rootfs is unpacked already
 * itself, and hands an image still to unpack (libarchive, zstd) or --net
 * model (the proxy) to cab-full, so the parts for those are compiled into
 * cab-full alone (#ifndef CAB_CORE). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/envlist.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "rootfs/lease.h"
#include "rootfs/store.h"
#include "runner/cell/modelnet.h"
#include "runner/cell/protection.h"
#include "runner/cell/run_result.h"
#include "runner/cell/run_spec.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/cli/core.h"
#include "runner/proxy/proxy.h"
#include "runner/task/task.h"
#include "sandbox/caps.h"
#include "sandbox/host_masks.h"
#include "sandbox/preflight.h"
#include "sandbox/sandbox.h"
#include "common/rm_tree.h"
#include "runner/cell/leftovers.h"

#define MAX_LIST 256

static const char exec_usage[] =
    "usage: cab exec [OPTIONS] (IMAGE | --rootfs DIR | --host-rootfs) [OPTIONS] -- CMD [ARG...]\n"
    "\n"
    "  IMAGE                 a stored image (name, name@sha256:..., sha256:...): its rootfs\n"
    "                        under a fresh overlay, with its Env, WorkingDir, User and\n"
    "                        Entrypoint; a command after -- replaces its Cmd\n"
    "\n"
    "  --rootfs DIR          use DIR, read-only, as the sandbox's /\n"
    "  --host-rootfs         use the host's /, read-only, without the homes, cab's store\n"
    "                        and tasks; as root, the sandbox runs as host uid 65534\n"
    "  --overlay DIR         make the root writable: an overlay over it whose\n"
    "                        changes land in DIR/upper (DIR must be empty)\n"
    "  --user UID[:GID]      identity inside (default 0:0, mapped to the caller)\n"
    "  --hostname NAME       default cab\n"
    "  --bind SRC:DST[:ro]   bind a host path (repeatable)\n"
    "  --workdir DIR         working directory inside (default /)\n"
    "  --env K=V | K         set, or pass through, a variable (repeatable)\n"
    "  --cap-add CAP, --cap-drop CAP   adjust Docker's default set (ALL allowed)\n"
    "  --seccomp default|verifier|unconfined|FILE   FILE: Docker/OCI seccomp JSON;\n"
    "                        verifier: default less ptrace, process_vm_*, pidfd_getfd...\n"
    "  --read-only-proc      mount /proc read-only (no /proc/PID/mem writes), as cells'\n"
    "                        verifier does\n"
    "  --memory SIZE --pids N --cpus X --timeout SECONDS --tmpfs-size SIZE\n"
    "  --cgroup-parent PATH  a pre-created cgroup to create cells under\n"
    "  --no-cgroup           no cgroup even where one is writable: limits by rlimits\n"
    "                        and the memory watchdog, as for a user without one\n"
    "  --tty                 run under a pseudo-terminal\n"
    "  --result FILE         write the run's result as JSON\n"
  "  --require LIST        refuse to start below this protection: comma-separated\n"
  "                        namespaces, seccomp, cgroup, memory, pids, cpu, image,\n"
  "                        overlay, or none (default namespaces,seccomp; without\n"
  "                        seccomp after an explicit --seccomp unconfined)\n"
    "\n"
    "model network (--net model: the sandbox reaches only cab's proxy to the endpoint):\n"
    "  --net none|model      none (default): only lo\n"
    "  --endpoint URL        the model endpoint, e.g. https://api.openai.com/v1\n"
    "  --key-env VAR         the host variable holding the API key; the proxy adds\n"
    "                        it upstream, the sandbox only sees a placeholder\n"
    "  --endpoint-wire W     what the endpoint speaks: chat (default), responses or\n"
    "                        anthropic; clients of another wire are translated to chat\n"
    "  --model-calls FILE    append one JSON line per model call\n"
    "  --record FILE         write every call, request and response, to a cassette\n"
    "  --replay FILE         answer from a cassette, without any upstream\n"
    "  --replay-match M      hash (default: a request must be byte-identical) or\n"
    "                        order (the Nth call of a path gets the Nth answer)\n"
    "  --model-retries N     retry connect failures, 429 and 5xx N times (default 0)\n"
    "  --model-timeout SECS  fail a call when upstream sends nothing for SECS (600)\n";

struct exec_opts {
  struct cab_sandbox_config cfg;
  struct cab_run_root root;   /* --rootfs [--overlay], --host-rootfs, or the image's lease */
  struct cab_bind binds[MAX_LIST];
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

/* Whether an image's run layer can be an overlay: one probe child per run,
 * shared by --require's prediction and the layer itself. */
static bool
overlay_ok(struct exec_opts *o)
{
  if (o->overlay_ok < 0)
    o->overlay_ok = cab_probe_overlay(cab_scratch_parent());
  return o->overlay_ok;
}

static int
usage_error(cab_error *err, const char *fmt, const char *arg)
{
  cab_error_set(err, 0, fmt, arg);
  return -1;
}

/* The options: a table.  An option without a setter stores at FIELD: its
 * argument (a string), true (without one), or a number of KIND within
 * [MIN, MAX], else "--NAME ARG: EXPECT". */
enum opt_kind { OPT_STRING, OPT_SIZE, OPT_INT64, OPT_INT, OPT_POSITIVE };

struct exec_option {
  const char *name;
  int has_arg;
  int (*set)(struct exec_opts *o, const char *arg, cab_error *err);
  size_t field;
  bool model;                 /* a model-network option: needs --net model */
  enum opt_kind kind;
  long long min, max;
  const char *expect;
};

static int
opt_bind(struct exec_opts *o, const char *arg, cab_error *err)
{
  /* SRC:DST[:ro] */
  if (o->cfg.n_binds >= MAX_LIST)
    return usage_error(err, "too many --bind options (at most %s)", "256");
  struct cab_bind *b = &o->binds[o->cfg.n_binds];
  char *copy = strdup(arg);
  if (copy == NULL)
    return cab_error_sys(err, "--bind");
  char *dst = strchr(copy, ':');
  if (dst == NULL || dst == copy || dst[1] != '/') {
    free(copy);
    return usage_error(err, "--bind %s: expected SRC:DST[:ro] with an absolute DST", arg);
  }
  *dst++ = '\0';
  char *mode = strchr(dst, ':');
  b->readonly = false;
  if (mode) {
    *mode++ = '\0';
    if (strcmp(mode, "ro") == 0)
      b->readonly = true;
    else if (strcmp(mode, "rw") != 0) {
      free(copy);
      return usage_error(err, "--bind %s: the mode must be ro or rw", arg);
    }
  }
  b->src = copy; /* DST points into the same allocation; freed at exit */
  b->dst = dst;
  o->cfg.n_binds++;
  return 0;
}

static int
opt_env(struct exec_opts *o, const char *kv, cab_error *err)
{
  if (o->env.n >= MAX_LIST)
    return usage_error(err, "too many --env options (at most %s)", "256");
  const char *eq = strchr(kv, '=');
  if (eq == kv)
    return usage_error(err, "--env %s: the name is empty; use K=V", kv);
  const char *v = eq ? NULL : getenv(kv);
  if (eq == NULL && v == NULL)
    return 0; /* pass-through of an unset variable: nothing */
  if ((eq ? cab_envlist_put(&o->env, kv) : cab_envlist_set(&o->env, kv, v)) < 0)
    return cab_error_sys(err, "--env");
  return 0;
}

static int
opt_user(struct exec_opts *o, const char *arg, cab_error *err)
{
  o->user_given = true;
  if (cab_run_spec_ids(arg, &o->cfg.uid, &o->cfg.gid) < 0)
    return usage_error(err, "--user %s: expected numeric UID[:GID]", arg);
  return 0;
}

static int
opt_workdir(struct exec_opts *o, const char *arg, cab_error *err)
{
  o->workdir_given = true;
  if (arg[0] != '/')
    return usage_error(err, "--workdir %s: must be an absolute path", arg);
  o->cfg.workdir = arg;
  return 0;
}

static int
opt_cap_add(struct exec_opts *o, const char *arg, cab_error *err)
{
  return cab_caps_adjust(&o->cfg.caps, arg, 1, err);
}

static int
opt_cap_drop(struct exec_opts *o, const char *arg, cab_error *err)
{
  return cab_caps_adjust(&o->cfg.caps, arg, 0, err);
}

static int
opt_seccomp(struct exec_opts *o, const char *arg, cab_error *err)
{
  return cab_seccomp_config_from_option(&o->cfg.seccomp, arg, err);
}

static int
opt_net(struct exec_opts *o, const char *arg, cab_error *err)
{
  if (strcmp(arg, "model") != 0 && strcmp(arg, "none") != 0)
    return usage_error(err, "--net %s: expected none or model", arg);
  o->net_enabled = strcmp(arg, "model") == 0;
  return 0;
}

static int
opt_replay_match(struct exec_opts *o, const char *arg, cab_error *err)
{
  if (strcmp(arg, "hash") != 0 && strcmp(arg, "order") != 0)
    return usage_error(err, "--replay-match %s: expected hash or order", arg);
  o->net.pc.replay_order = strcmp(arg, "order") == 0;
  return 0;
}

static int
opt_endpoint_wire(struct exec_opts *o, const char *arg, cab_error *err)
{
  enum cab_wire *w = &o->net.pc.endpoint_wire;
  char wires[128];
  if (cab_wire_parse_endpoint(arg, w) < 0)
    return cab_error_set(err, 0, "--endpoint-wire %s: expected %s", arg,
                         cab_wire_list(wires, sizeof wires, true, NULL));
  return 0;
}

static int
opt_require(struct exec_opts *o, const char *arg, cab_error *err)
{
  o->require_given = true;
  return cab_protection_parse(arg, "exec: --require", &o->require, err);
}

static int
opt_help(struct exec_opts *o, const char *arg, cab_error *err)
{
  fputs(exec_usage, stdout);
  exit(0);
}

#define AT(member) .field = offsetof(struct exec_opts, member)
#define STRING(n, member, ...) {.name = n, .has_arg = required_argument, AT(member), __VA_ARGS__}
#define FLAG(n, member) {.name = n, .has_arg = no_argument, AT(member)}
#define CALL(n, fn, ...) {.name = n, .has_arg = required_argument, .set = fn, __VA_ARGS__}
#define NUMBER(n, member, k, lo, hi, what, ...)                                               \
  {.name = n, .has_arg = required_argument, AT(member), .kind = k, .min = lo, .max = hi,        \
   .expect = what, __VA_ARGS__}
static const struct exec_option exec_options[] = {
    STRING("rootfs", root.dir),
    FLAG("host-rootfs", root.host),
    CALL("user", opt_user),
    STRING("hostname", cfg.hostname),
    CALL("bind", opt_bind),
    CALL("workdir", opt_workdir),
    CALL("env", opt_env),
    CALL("cap-add", opt_cap_add),
    CALL("cap-drop", opt_cap_drop),
    CALL("seccomp", opt_seccomp),
    FLAG("read-only-proc", cfg.proc_readonly),
    NUMBER("memory", cfg.limits.memory_bytes, OPT_SIZE, 4096, LLONG_MAX,
           "expected a size such as 512M or 2G"),
    NUMBER("pids", cfg.limits.pids, OPT_INT64, 2, LLONG_MAX, "expected a whole number of at least 2"),
    NUMBER("cpus", cfg.limits.cpus, OPT_POSITIVE, 0, 0, "expected a positive number such as 1.5"),
    NUMBER("timeout", cfg.limits.timeout_s, OPT_POSITIVE, 0, 0,
           "expected seconds, a positive number"),
    NUMBER("tmpfs-size", cfg.limits.tmpfs_bytes, OPT_SIZE, 4096, LLONG_MAX,
           "expected a size such as 64M"),
    FLAG("tty", cfg.tty),
    STRING("result", result_path),
    CALL("require", opt_require),
    STRING("cgroup-parent", cfg.cgroup_parent),
    FLAG("no-cgroup", cfg.no_cgroup),
    STRING("overlay", root.overlay_dir),
    CALL("net", opt_net),
    STRING("endpoint", net.pc.endpoint, .model = true),
    STRING("key-env", net.pc.key_env, .model = true),
    CALL("endpoint-wire", opt_endpoint_wire, .model = true),
    CALL("replay-match", opt_replay_match, .model = true),
    STRING("model-calls", net.pc.calls_path, .model = true),
    STRING("record", net.pc.record_path, .model = true),
    STRING("replay", net.pc.replay_path, .model = true),
    NUMBER("model-retries", net.pc.retries, OPT_INT, 0, 20, "expected a whole number from 0 to 20",
           .model = true),
    NUMBER("model-timeout", net.pc.upstream_timeout_s, OPT_INT, 1, 86400,
           "expected whole seconds, at least 1", .model = true),
    {.name = "help", .has_arg = no_argument, .set = opt_help},
};
#undef AT
#undef STRING
#undef FLAG
#undef CALL
#undef NUMBER
#undef FIELD
#define N_OPTIONS (sizeof exec_options / sizeof *exec_options)
#define OPTION_BASE 256

/* A number into FIELD, as OPT's kind says. */
static int
set_number(const struct exec_option *opt, void *field, const char *arg, cab_error *err)
{
  char *end = NULL;
  long long v = 0;
  double d = 0;
  bool ok;
  if (opt->kind == OPT_SIZE) {
    ok = cab_parse_size(arg, (int64_t *)field) == 0 && *(int64_t *)field >= opt->min;
  } else if (opt->kind == OPT_POSITIVE) {
    d = strtod(arg, &end);
    *(double *)field = d;
    ok = *end == '\0' && end != arg && d > 0;
  } else {
    v = strtoll(arg, &end, 10);
    ok = *end == '\0' && end != arg && v >= opt->min && v <= opt->max;
    if (opt->kind == OPT_INT64)
      *(int64_t *)field = v;
    else if (ok)
      *(int *)field = (int)v;
  }
  return ok ? 0 : cab_error_set(err, 0, "--%s %s: %s", opt->name, arg, opt->expect);
}

static int
apply_option(struct exec_opts *o, const struct exec_option *opt, const char *arg, cab_error *err)
{
  char *field = (char *)o + opt->field;
  if (opt->set && opt->set(o, arg, err) < 0)
    return -1;
  if (opt->set == NULL && opt->expect && set_number(opt, field, arg, err) < 0)
    return -1;
  if (opt->set == NULL && !opt->expect && opt->has_arg)
    memcpy(field, &arg, sizeof arg);
  else if (opt->set == NULL && !opt->expect)
    *(bool *)field = true;
  if (opt->model)
    o->model_opt = opt->name;
  return 0;
}

/* The root and the command, once every option is read. */
static int
check_args(int argc, char **argv, struct exec_opts *o, cab_error *err)
{
  const struct cab_run_root *r = &o->root;
  if (optind >= argc && o->image == NULL)
    return usage_error(err, "exec: no command given; usage: cab exec %s -- CMD [ARG...]",
                       "(IMAGE | --rootfs DIR | --host-rootfs)");
  if (!r->dir && !r->host && !o->image)
    return usage_error(err, "exec: no root given; name an IMAGE, or pass --rootfs DIR or "
                       "--host-rootfs%s", "");
  if (o->image && (r->dir || r->host))
    return usage_error(err, "exec: an IMAGE excludes --rootfs and --host-rootfs%s", "");
  if (r->dir && r->host)
    return usage_error(err, "exec: --rootfs and --host-rootfs exclude each other%s", "");
  if (r->overlay_dir && r->host)
    return usage_error(err, "exec: --overlay works with --rootfs, not --host-rootfs%s", "");
  o->rest = argv + optind;
  o->n_rest = (size_t)(argc - optind);
  o->cfg.argv = o->rest;
  return 0;
}

/* parse_args' result when the error line is already on stderr. */
enum { PRINTED = -2 };

static int
parse_args(int argc, char **argv, struct exec_opts *o, cab_error *err)
{
  struct option longopts[N_OPTIONS + 1];
  for (size_t i = 0; i < N_OPTIONS; i++)
    longopts[i] = (struct option){exec_options[i].name, exec_options[i].has_arg, NULL,
                                  OPTION_BASE + (int)i};
  longopts[N_OPTIONS] = (struct option){0};
  cab_run_spec_init(&o->cfg);
  opterr = 0;
  optind = 1;
  int opt;
  /* cab exec [OPTIONS] IMAGE [OPTIONS] -- CMD: options may follow IMAGE. */
again:
  while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
    size_t i = (size_t)(opt - OPTION_BASE);
    if (opt < OPTION_BASE || i >= N_OPTIONS) {
      cab_cli_option_error("exec", longopts, argv);
      return PRINTED;
    }
    if (apply_option(o, &exec_options[i], optarg, err) < 0)
      return -1;
  }
  if (o->image == NULL && !o->root.dir && !o->root.host && optind < argc &&
      strcmp(argv[optind - 1], "--") != 0) {
    o->image = argv[optind++];
    goto again;
  }
  return check_args(argc, argv, o, err);
}

/* The store, its use lock held, and the image resolved (once per run: the
 * core's check for an unpacked rootfs keeps them for exec_image). */
static int
open_image(struct exec_opts *o, cab_error *err)
{
  if (o->img)
    return 0;
  if (cab_store_open(NULL, &o->store, err) < 0 || cab_store_use(o->store, err) < 0)
    return -1;
  if (cab_image_resolve(o->store, o->image, &o->img, err) < 0)
    return err->errnum == ENOENT
               ? cab_error_set(err, ENOENT, "exec: image %s is not in the store; run 'cab pull "
                               "%s' or 'cab import'", o->image, o->image)
               : -1;
  return 0;
}

/* Take the image's rootfs: the core only ever gets here for one that is
 * unpacked (exec_needs_full), and the use lock held since has kept gc off
 * it; cab-full unpacks it first when it is not. */
static int
take_lease(struct exec_opts *o, cab_error *err)
{
#ifdef CAB_CORE
  int r = cab_rootfs_lease_take_unpacked(o->store, o->img, &o->lease, err);
  if (r > 0)
    return cab_error_set(err, ENOENT, "exec: the rootfs of image %s is no longer unpacked; run "
                         "the command again", o->image);
  return r;
#else
  bool cached = false;
  return cab_rootfs_lease_take(o->store, o->img, &o->lease, &cached, NULL, err);
#endif
}

/* CAB_NO_OVERLAY=1 (not 0): rootfs/lease.c reads it too. */
static bool
env_on(const char *v)
{
  return v && *v && *v != '0';
}

/* The run's layer in memory (a tmpfs of the sandbox's own) rather than in
 * TMPDIR, where the kernel's overlay works on a tmpfs in a user namespace:
 * on a disk file system the layer's directories cost more than the rest of
 * the run's start.  Not with --memory: writes to / would then count against
 * the budget (or, under the watchdog, escape it), where on disk they do not;
 * not with CAB_NO_OVERLAY=1 (the copy). */
static bool
layer_in_memory(struct exec_opts *o)
{
  return o->cfg.limits.memory_bytes <= 0 && overlay_ok(o) && !env_on(getenv("CAB_NO_OVERLAY")) &&
         cab_probe_overlay_in_memory();
}

/* The run's writable layer: in memory, else a cab-exec-* directory in
 * TMPDIR (an overlay's, or the copy's). */
static int
make_layer(struct exec_opts *o, cab_error *err)
{
  if (layer_in_memory(o))
    return cab_rootfs_lease_writable(&o->lease, NULL, true, err);
  /* What killed runs left in TMPDIR (one readdir), then our own layer. */
  cab_owned_dirs_reap(cab_scratch_parent(), cab_scratch_prefixes, false, NULL);
  if (cab_owned_dir_make(cab_scratch_parent(), CAB_SCRATCH_EXEC, o->layer, sizeof o->layer,
                         &o->layer_lock, err) < 0) {
    o->layer[0] = '\0';
    return cab_error_prefix(err, "exec: the overlay directory");
  }
  return cab_rootfs_lease_writable(&o->lease, o->layer, overlay_ok(o), err);
}

/* cab exec IMAGE: the image's rootfs (unpacked once per manifest digest)
 * under a fresh writable layer, with its Env, WorkingDir, User, Entrypoint
 * and Cmd as Docker applies them (runner/cell/run_spec.h). */
static int
exec_image(struct exec_opts *o, cab_error *err)
{
  if (open_image(o, err) < 0 || take_lease(o, err) < 0 || make_layer(o, err) < 0)
    return -1;
  o->root.lease = &o->lease;
  if (cab_run_spec_image_env(&o->env, o->lease.config, true) < 0)
    return cab_error_sys(err, "environment");
  if (cab_run_spec_image_process(o->lease.config, o->image, o->workdir_given, o->user_given,
                                 o->rest, o->n_rest, &o->cfg, &o->image_argv, err) < 0)
    return cab_error_prefix(err, "exec");
  return 0;
}

#ifndef CAB_CORE
/* cab-full only: the model network. */

/* What a sandbox on the model network sees: the proxy's URL and a
 * placeholder key, under the names agents and SDKs read. */
static int
set_model_env(struct exec_opts *o, cab_error *err)
{
  for (unsigned i = 0; i < cab_modelnet_env_count; i++)
    if (opt_env(o, cab_modelnet_env[i], err) < 0)
      return -1;
  return 0;
}
#else
/* The core cab: what it cannot run itself, cab-full runs from the same
 * argv: the model network, and an image whose rootfs is not unpacked yet.
 * Any failure to resolve the image goes to cab-full too, which says it in
 * its own words, exactly as before the core ran images. */
static bool
exec_needs_full(struct exec_opts *o)
{
  if (o->net_enabled)
    return true;
  if (o->image == NULL)
    return false;
  cab_error ignored = {0};
  if (open_image(o, &ignored) == 0 && cab_rootfs_lease_ready(o->store, o->img))
    return false;
  cab_image_free(o->img);
  o->img = NULL;
  cab_store_close(o->store);
  o->store = NULL;
  return true;
}
#endif

/* cab exec IMAGE: the run's writable layer; its changes are not kept.  Once
 * the run is over (BEHIND), a process of its own removes it while cab goes
 * on to report the exit status: on a disk file system the removal is most of
 * the difference between a run with --memory (a layer on disk) and one
 * without (in memory), and nothing after the run needs it gone. */
static void
remove_run_layer(struct exec_opts *o, bool behind)
{
  if (o->layer[0] && behind)
    cab_owned_dir_remove_behind(o->layer, o->layer_lock);
  else if (o->layer[0])
    cab_rm_tree_at(AT_FDCWD, o->layer, 0, NULL);
  if (o->layer_lock >= 0 && !(o->layer[0] && behind))
    close(o->layer_lock);
  o->layer[0] = '\0';
  o->layer_lock = -1;
}

/* The real key must not reach the sandbox by way of --env either.  Only
 * compared in place: cab copies the key into its memory only once the
 * sandbox's init has been cloned (cab_proxy_start). */
static int
key_leaks(const struct exec_opts *o, cab_error *err)
{
  const char *key = o->net.pc.key_env ? getenv(o->net.pc.key_env) : NULL;
  if (key == NULL || strlen(key) < 8)
    return 0;
  for (size_t i = 0; i < o->env.n; i++)
    if (strstr(o->env.v[i], key)) {
      int n = (int)strcspn(o->env.v[i], "=");
      cab_error_set(err, 0, "exec: --env %.*s would put the --key-env %s key into the sandbox; "
                    "drop it (the proxy adds the key upstream)", n, o->env.v[i], o->net.pc.key_env);
      return -1;
    }
  return 0;
}

/* TERM, HOME and PATH in front, each unless set already, then the rest. */
static int
env_defaults(struct exec_opts *o, cab_error *err)
{
  const char *term = getenv("TERM");
  const char *defaults[3][2] = {
      {"TERM", term && *term ? term : "xterm"},
      {"HOME", o->cfg.uid == 0 ? "/root" : "/"},
      {"PATH", CAB_DEFAULT_PATH},
  };
  struct cab_envlist full = {0};
  int rc = 0;
  for (int i = 0; i < 3; i++)
    if (cab_envlist_get(&o->env, defaults[i][0]) == NULL)
      rc |= cab_envlist_set(&full, defaults[i][0], defaults[i][1]);
  for (size_t i = 0; i < o->env.n; i++)
    rc |= cab_envlist_put(&full, o->env.v[i]);
  cab_envlist_free(&o->env);
  o->env = full;
  return rc < 0 ? cab_error_sys(err, "environment") : 0;
}

/* After the image (if any): the model network's options and the environment. */
static int
finish_config(struct exec_opts *o, cab_error *err)
{
  struct cab_proxy_config *pc = &o->net.pc;
  if (o->model_opt && !o->net_enabled)
    return usage_error(err, "exec: --%s needs --net model", o->model_opt);
  if (o->net_enabled && !pc->endpoint && !pc->replay_path)
    return usage_error(err, "exec: --net model needs --endpoint URL (or --replay FILE to answer "
                       "from a cassette)%s", "");
  if (pc->record_path && pc->replay_path)
    return usage_error(err, "exec: --record and --replay exclude each other%s", "");
  if (pc->key_env) {
    const char *key = getenv(pc->key_env);
    if (key == NULL || key[0] == '\0')
      return usage_error(err, "exec: --key-env %s: that variable is not set in cab's environment; "
                         "export it, or drop --key-env for an endpoint without a key", pc->key_env);
  }
#ifndef CAB_CORE
  if (o->net_enabled && set_model_env(o, err) < 0)
    return -1;
#endif
  if (env_defaults(o, err) < 0 || key_leaks(o, err) < 0)
    return -1;
  o->cfg.envp = o->env.v;
  o->cfg.binds = o->binds;
  return 0;
}

/* --host-rootfs: the built-in task tree (its solutions), cab's store and
 * every home are hidden; --bind mounts still appear, even below them. */
static int
host_masks(struct exec_opts *o, cab_error *err)
{
  char path[PATH_MAX];
  cab_error ignored = {0};
  if (cab_task_default_root(path, sizeof path, err) < 0 ||
      cab_host_masks_add(&o->masks, path, err) < 0)
    return -1;
  if (cab_store_default_home(path, sizeof path, &ignored) == 0 &&
      cab_host_masks_add(&o->masks, path, err) < 0)
    return -1;
  if (cab_host_masks_add_homes(&o->masks, err) < 0)
    return -1;
  o->root.masks = (const char *const *)o->masks.paths;
  o->root.n_masks = o->masks.n;
  return 0;
}

/* --require, before anything is made: what this run's options would get
 * on this host (cgroup detection, the root, --no-cgroup, the overlay
 * probe) against what was required; one line and exit 125 when short. */
static int
check_require(struct exec_opts *o, cab_error *err)
{
  /* An explicit --seccomp unconfined is what the caller asked for: only
   * an explicit --require seccomp refuses it. */
  if (!o->require_given) {
    o->require = CAB_PROTECTION_REQUIRE_DEFAULT;
    if (o->cfg.seccomp.kind == CAB_SECCOMP_UNCONFINED)
      o->require &= ~CAB_PROT_BIT(CAB_PROT_SECCOMP);
  }
  struct cab_sandbox_config will = o->cfg;
  will.host_rootfs = o->root.host;
  will.overlay_dir = o->root.overlay_dir;
  will.gateway.enabled = o->net_enabled;
  if (o->image) {
    bool overlay = overlay_ok(o);
    will.overlay_dir = overlay ? "overlay" : NULL;
    will.root_writable = !overlay;
  }
  struct cab_protection predicted = {.required = o->require};
  char why[600];
  cab_protection_predict(&predicted, &will, why, sizeof why);
  return cab_protection_refuse("exec", &predicted, o->require, &will, why, err);
}

/* Everything between the options and the run: the image's layer, the
 * environment, the root, the model network. */
static int
exec_setup(struct exec_opts *o, cab_error *err)
{
  if (o->image && exec_image(o, err) < 0)
    return -1;
  if (finish_config(o, err) < 0 || (o->root.host && host_masks(o, err) < 0) ||
      cab_run_spec_root(&o->root, &o->cfg, err) < 0)
    return -1;
#ifndef CAB_CORE
  if (o->net_enabled && cab_modelnet_prepare(&o->net, &o->cfg, err) < 0) {
    cab_proxy_free(o->net.proxy);
    return cab_error_prefix(err, "exec --net model");
  }
#endif
  return 0;
}

int
cab_cmd_exec(int argc, char **argv)
{
  static struct exec_opts opts; /* CLI-owned state: large arrays */
  memset(&opts, 0, sizeof opts);
  cab_rootfs_lease_init(&opts.lease);
  opts.layer_lock = -1;
  opts.overlay_ok = -1;
  cab_error err = {0};
  int parsed = parse_args(argc, argv, &opts, &err);
  if (parsed == PRINTED)
    return CAB_EXIT_RUNNER;
  if (parsed < 0)
    return cab_cli_fail(&err);
#ifdef CAB_CORE
  if (exec_needs_full(&opts))
    return cab_core_run_full();
#endif
  /* A host that cannot give the sandbox its user namespace (disabled, or
   * restricted so that the map write fails) gets one line and its fix
   * before anything exists: no run layer, no cgroup, no result file; so
   * does a host below --require. */
  if (cab_check_userns(&err) < 0 || check_require(&opts, &err) < 0)
    return cab_cli_fail(&err);
  /* A failure after the run layer exists removes it (an image's bad User
   * used to leave an empty cab-exec-* behind on every run). */
  if (exec_setup(&opts, &err) < 0) {
    remove_run_layer(&opts, false);
    return cab_cli_fail(&err);
  }

  struct cab_sandbox_result res;
  struct cab_proxy_totals totals;
  const struct cab_proxy_totals *model = opts.net_enabled ? &totals : NULL;
  int rc = cab_sandbox_run(&opts.cfg, &res, &err);
  remove_run_layer(&opts, true);
  struct cab_protection prot = {.required = opts.require};
  cab_protection_of_run(&prot, &opts.cfg, rc == 0 ? &res : NULL);
#ifndef CAB_CORE
  if (opts.net_enabled)
    cab_modelnet_finish(&opts.net, &totals, true);
#endif
  if (rc < 0) {
    /* The result file still tells what happened: nothing ran, so no limit
     * held, whatever was set up for it. */
    res.exit_code = err.exit_code ? err.exit_code : CAB_EXIT_RUNNER;
    res.memory = res.pids = res.cpu = CAB_MECH_NONE;
    cab_error ignored = {0};
    if (opts.result_path)
      cab_run_result_write(opts.result_path, &opts.cfg, &res, model, &prot, &ignored);
    return cab_cli_fail(&err);
  }
  if (res.degraded[0])
    fprintf(stderr, "cab: warning: %s\n", res.degraded);
  /* A kill the user asked for is still news: say which limit fired, so a
   * 137 is not mistaken for the command's own crash. */
  if (res.timed_out)
    fprintf(stderr, "cab: exec: --timeout %g s fired: the command was killed (exit %d)\n",
            opts.cfg.limits.timeout_s, res.exit_code);
  else if (res.oom_killed)
    fprintf(stderr, "cab: exec: --memory fired: the command was killed out of memory (exit %d)\n",
            res.exit_code);
  else if (res.over_budget)
    fprintf(stderr, "cab: exec: %s: the command was killed (exit %d)\n", res.budget_reason,
            res.exit_code);
  if (res.stdio_nulled)
    fprintf(stderr, "cab: warning: a directory or O_PATH fd given as stdin, stdout or stderr "
                    "was replaced by /dev/null: through /proc it leads out of the sandbox\n");
  if (opts.result_path &&
      cab_run_result_write(opts.result_path, &opts.cfg, &res, model, &prot, &err) < 0)
    return cab_cli_fail(&err);
  /* What held is what counts: a run that came out below --require (the
   * prediction was wrong) is the runner's failure, whatever it printed. */
  char gave[256];
  int short_of = cab_protection_first_missing(&prot, opts.require, false, gave, sizeof gave);
  if (short_of >= 0) {
    cab_error_set(&err, 0, "exec: --require %s: %s, below what was predicted",
                  cab_protection_item_name((enum cab_protection_item)short_of), gave);
    return cab_cli_fail(&err);
  }
  if (opts.net.start_failed)
    return cab_cli_fail(&opts.net.start_err);
  return res.exit_code;
}
