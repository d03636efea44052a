/* cab exec [OPTIONS] (IMAGE | --rootfs DIR | --host-rootfs) [OPTIONS] -- CMD [ARG...]
 *
 * Also built into the core cab (-DCAB_CORE, runner/cli/core.h), which links
 * only the sandbox's libraries: it runs --rootfs and --host-rootfs itself and
 * hands an IMAGE (rootfs/, the store) or --net model (the proxy) to cab-full,
 * so the parts for those are compiled into cab-full alone (#ifndef CAB_CORE). */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "runner/cli/commands.h"
#include "runner/cli/core.h"
#include "rootfs/store.h"
#include "runner/cell/modelnet.h"
#include "runner/proxy/proxy.h"
#include "runner/task/task.h"
#include "sandbox/caps.h"
#include "sandbox/host_masks.h"
#include "sandbox/sandbox.h"
#ifndef CAB_CORE
#include "rootfs/rootfs_cache.h"
#include "rootfs/unpack.h"
#include "runner/cell/leftovers.h"
#include "runner/cell/writable_root.h"
#include "sandbox/preflight.h"
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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
  struct cab_bind binds[MAX_LIST];
  char *env[MAX_LIST + 4];
  size_t n_env;
  const char *result_path;
  const char *model_opt;      /* the last model option given, for the check */
  bool net_enabled;
  struct cab_modelnet net;    /* --net model: proxy and DNS on the gateway */
  const char *image;          /* cab exec IMAGE: a stored image's overlay */
  bool workdir_given, user_given;
  int n_args;                 /* the words after the options (cfg.argv) */
  char **image_argv;
  cab_store *store;
  cab_image *img;
  int rootfs_lock;
  char rootfs[PATH_MAX];
  char overlay[PATH_MAX];     /* per-run upper layer, removed afterwards */
  int overlay_lock;           /* held while it exists (runner/cell/leftovers.h) */
  char copy_root[PATH_MAX + 8]; /* without overlay: a private copy */
  struct cab_host_masks masks;  /* --host-rootfs: what the sandbox does not see */
};

static int
usage_error(cab_error *err, const char *fmt, const char *arg)
{
  cab_error_set(err, 0, fmt, arg);
  return -1;
}

static int
parse_bind(const char *arg, struct cab_bind *b, cab_error *err)
{
  /* SRC:DST[:ro] */
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
  return 0;
}

static int
add_env(struct exec_opts *o, const char *kv, cab_error *err)
{
  if (o->n_env >= MAX_LIST)
    return usage_error(err, "too many --env options (at most %s)", "256");
  const char *eq = strchr(kv, '=');
  char *entry;
  if (eq == NULL) {
    const char *v = getenv(kv);
    if (v == NULL)
      return 0; /* pass-through of an unset variable: nothing */
    if (asprintf(&entry, "%s=%s", kv, v) < 0)
      return cab_error_sys(err, "--env");
  } else {
    if (eq == kv)
      return usage_error(err, "--env %s: the name is empty; use K=V", kv);
    entry = strdup(kv);
  }
  size_t klen = (size_t)(strchr(entry, '=') - entry);
  for (size_t i = 0; i < o->n_env; i++)
    if (strncmp(o->env[i], entry, klen + 1) == 0) {
      free(o->env[i]);
      o->env[i] = entry;
      return 0;
    }
  o->env[o->n_env++] = entry;
  return 0;
}

static int
parse_id(const char *arg, uid_t *uid, gid_t *gid, cab_error *err)
{
  char *end;
  errno = 0;
  unsigned long u = strtoul(arg, &end, 10);
  if (errno || end == arg || (*end != '\0' && *end != ':') || u > 0xfffffffeUL)
    return usage_error(err, "--user %s: expected numeric UID[:GID]", arg);
  unsigned long g = u;
  if (*end == ':') {
    const char *gs = end + 1;
    g = strtoul(gs, &end, 10);
    if (errno || end == gs || *end != '\0' || g > 0xfffffffeUL)
      return usage_error(err, "--user %s: expected numeric UID[:GID]", arg);
  }
  *uid = (uid_t)u;
  *gid = (gid_t)g;
  return 0;
}

#ifndef CAB_CORE
/* cab-full only: images and the model network. */

/* cab exec IMAGE: the image's rootfs (unpacked once per manifest digest)
 * under a fresh overlay, with its Env, WorkingDir, User, Entrypoint and
 * Cmd as Docker applies them: a command after the image replaces Cmd. */
static int
apply_image(struct exec_opts *o, cab_error *err)
{
  char *const *rest = o->cfg.argv;
  int n_rest = o->n_args;
  struct cab_sandbox_config *c = &o->cfg;
  bool cached = false;
  if (cab_store_open(NULL, &o->store, err) < 0 || cab_store_use(o->store, err) < 0)
    return -1;
  if (cab_image_resolve(o->store, o->image, &o->img, err) < 0)
    return err->errnum == ENOENT
               ? cab_error_set(err, ENOENT, "exec: image %s is not in the store; run 'cab pull "
                               "%s' or 'cab import'", o->image, o->image)
               : -1;
  if (cab_rootfs_ensure(o->store, o->img, o->rootfs, sizeof o->rootfs, &cached, NULL, err) < 0)
    return -1;
  o->rootfs_lock = cab_store_rootfs_lock(o->store, o->img->digest, err);
  if (o->rootfs_lock < 0)
    return -1;
  cab_store_unuse(o->store);
  /* What killed runs left in TMPDIR (one readdir), then our own layer. */
  static const char *const scratch[] = {"cab-cell-", "cab-exec-", NULL};
  cab_owned_dirs_reap(cab_scratch_parent(), scratch, false, NULL);
  if (cab_owned_dir_make(cab_scratch_parent(), "cab-exec-", o->overlay, sizeof o->overlay,
                         &o->overlay_lock, err) < 0) {
    o->overlay[0] = '\0';
    return cab_error_prefix(err, "exec: the overlay directory");
  }
  if (cab_writable_root(o->rootfs, o->overlay, cab_probe_overlay(), c, o->copy_root,
                        sizeof o->copy_root, err) < 0)
    return -1;

  const cab_image_config *cfg = o->img->config;
  if (cfg && cfg->env)
    for (char **e = cfg->env; *e; e++) {
      size_t klen = strcspn(*e, "=");
      bool set = false;
      for (size_t i = 0; i < o->n_env; i++)
        set = set || (strncmp(o->env[i], *e, klen) == 0 && o->env[i][klen] == '=');
      if (!set && o->n_env < MAX_LIST)
        o->env[o->n_env++] = strdup(*e);
    }
  if (!o->workdir_given && cfg && cfg->working_dir && cfg->working_dir[0] == '/')
    c->workdir = cfg->working_dir;
  if (!o->user_given && cfg && cfg->user && cfg->user[0]) {
    cab_error uerr = {0};
    if (parse_id(cfg->user, &c->uid, &c->gid, &uerr) < 0)
      return cab_error_set(err, 0, "exec: image %s runs as user \"%s\"; cab maps numeric ids "
                           "only: pass --user UID[:GID]", o->image, cfg->user);
  }
  size_t n_entry = 0, n_cmd = 0;
  while (cfg && cfg->entrypoint && cfg->entrypoint[n_entry])
    n_entry++;
  while (cfg && n_rest == 0 && cfg->cmd && cfg->cmd[n_cmd])
    n_cmd++;
  size_t total = n_entry + (n_rest > 0 ? (size_t)n_rest : n_cmd);
  if (total == 0)
    return cab_error_set(err, 0, "exec: image %s has no Entrypoint or Cmd; give a command "
                         "after --", o->image);
  o->image_argv = calloc(total + 1, sizeof *o->image_argv);
  if (o->image_argv == NULL)
    return cab_error_sys(err, "allocate");
  size_t k = 0;
  for (size_t i = 0; i < n_entry; i++)
    o->image_argv[k++] = cfg->entrypoint[i];
  for (int i = 0; i < n_rest; i++)
    o->image_argv[k++] = rest[i];
  for (size_t i = 0; i < n_cmd; i++)
    o->image_argv[k++] = cfg->cmd[i];
  c->argv = o->image_argv;
  return 0;
}

/* What a sandbox on the model network sees: the proxy's URL and a
 * placeholder key, under the names agents and SDKs read. */
static int
set_model_env(struct exec_opts *o, cab_error *err)
{
  for (unsigned i = 0; i < cab_modelnet_env_count; i++)
    if (add_env(o, cab_modelnet_env[i], err) < 0)
      return -1;
  return 0;
}

/* cab exec IMAGE: the run's upper layer; its changes are not kept. */
static void
remove_run_layer(struct exec_opts *o)
{
  if (!o->overlay[0])
    return;
  char *slash = strrchr(o->overlay, '/');
  *slash = '\0';
  int dfd = open(o->overlay, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cab_error ignored = {0};
  if (dfd >= 0) {
    cab_rm_tree_at(dfd, slash + 1, CAB_RM_PLAIN_NAME, &ignored);
    close(dfd);
  }
  o->overlay[0] = '\0';
  if (o->overlay_lock >= 0)
    close(o->overlay_lock);
  o->overlay_lock = -1;
}
#else
/* The core cab: what it cannot run itself, cab-full runs from the same argv. */
static bool
exec_needs_full(const struct exec_opts *o)
{
  return o->image != NULL || o->net_enabled;
}
#endif

/* The real key must not reach the sandbox by way of --env either.  Only
 * compared in place: cab copies the key into its memory only once the
 * sandbox's init has been cloned (cab_proxy_start). */
static int
key_leaks(const struct exec_opts *o, cab_error *err)
{
  const char *key = o->net.pc.key_env ? getenv(o->net.pc.key_env) : NULL;
  if (key == NULL || strlen(key) < 8)
    return 0;
  for (size_t i = 0; i < o->n_env; i++)
    if (strstr(o->env[i], key)) {
      int n = (int)strcspn(o->env[i], "=");
      cab_error_set(err, 0, "exec: --env %.*s would put the --key-env %s key into the sandbox; "
                    "drop it (the proxy adds the key upstream)", n, o->env[i], o->net.pc.key_env);
      return -1;
    }
  return 0;
}

static int
parse_args(int argc, char **argv, struct exec_opts *o, cab_error *err)
{
  enum {
    O_ROOTFS = 256, O_HOST_ROOTFS, O_USER, O_HOSTNAME, O_BIND, O_WORKDIR, O_ENV, O_CAP_ADD,
    O_CAP_DROP, O_SECCOMP, O_READ_ONLY_PROC, O_MEMORY, O_PIDS, O_CPUS, O_TIMEOUT, O_TMPFS, O_TTY, O_RESULT,
    O_CGROUP_PARENT, O_OVERLAY, O_NET, O_ENDPOINT, O_ENDPOINT_WIRE, O_REPLAY_MATCH, O_KEY_ENV, O_MODEL_CALLS, O_RECORD, O_REPLAY,
    O_MODEL_RETRIES, O_MODEL_TIMEOUT, O_NO_CGROUP, O_HELP,
  };
  static const struct option longopts[] = {
      {"rootfs", required_argument, 0, O_ROOTFS},
      {"host-rootfs", no_argument, 0, O_HOST_ROOTFS},
      {"user", required_argument, 0, O_USER},
      {"hostname", required_argument, 0, O_HOSTNAME},
      {"bind", required_argument, 0, O_BIND},
      {"workdir", required_argument, 0, O_WORKDIR},
      {"env", required_argument, 0, O_ENV},
      {"cap-add", required_argument, 0, O_CAP_ADD},
      {"cap-drop", required_argument, 0, O_CAP_DROP},
      {"seccomp", required_argument, 0, O_SECCOMP},
      {"read-only-proc", no_argument, 0, O_READ_ONLY_PROC},
      {"memory", required_argument, 0, O_MEMORY},
      {"pids", required_argument, 0, O_PIDS},
      {"cpus", required_argument, 0, O_CPUS},
      {"timeout", required_argument, 0, O_TIMEOUT},
      {"tmpfs-size", required_argument, 0, O_TMPFS},
      {"tty", no_argument, 0, O_TTY},
      {"result", required_argument, 0, O_RESULT},
      {"cgroup-parent", required_argument, 0, O_CGROUP_PARENT},
      {"no-cgroup", no_argument, 0, O_NO_CGROUP},
      {"overlay", required_argument, 0, O_OVERLAY},
      {"net", required_argument, 0, O_NET},
      {"endpoint", required_argument, 0, O_ENDPOINT},
      {"key-env", required_argument, 0, O_KEY_ENV},
      {"endpoint-wire", required_argument, 0, O_ENDPOINT_WIRE},
      {"replay-match", required_argument, 0, O_REPLAY_MATCH},
      {"model-calls", required_argument, 0, O_MODEL_CALLS},
      {"record", required_argument, 0, O_RECORD},
      {"replay", required_argument, 0, O_REPLAY},
      {"model-retries", required_argument, 0, O_MODEL_RETRIES},
      {"model-timeout", required_argument, 0, O_MODEL_TIMEOUT},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  struct cab_sandbox_config *c = &o->cfg;
  struct cab_proxy_config *pc = &o->net.pc;
  c->caps = cab_caps_default();
  c->seccomp.kind = CAB_SECCOMP_DEFAULT;
  opterr = 0;
  optind = 1;
  int opt;
  /* cab exec [OPTIONS] IMAGE [OPTIONS] -- CMD: options may follow IMAGE. */
again:
  while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
    char *end;
    switch (opt) {
    case O_ROOTFS: c->rootfs = optarg; break;
    case O_HOST_ROOTFS: c->host_rootfs = true; break;
    case O_USER:
      o->user_given = true;
      if (parse_id(optarg, &c->uid, &c->gid, err) < 0)
        return -1;
      break;
    case O_HOSTNAME: c->hostname = optarg; break;
    case O_BIND:
      if (c->n_binds >= MAX_LIST)
        return usage_error(err, "too many --bind options (at most %s)", "256");
      if (parse_bind(optarg, &o->binds[c->n_binds], err) < 0)
        return -1;
      c->n_binds++;
      break;
    case O_WORKDIR:
      o->workdir_given = true;
      if (optarg[0] != '/')
        return usage_error(err, "--workdir %s: must be an absolute path", optarg);
      c->workdir = optarg;
      break;
    case O_ENV:
      if (add_env(o, optarg, err) < 0)
        return -1;
      break;
    case O_CAP_ADD:
    case O_CAP_DROP:
      if (cab_caps_adjust(&c->caps, optarg, opt == O_CAP_ADD, err) < 0)
        return -1;
      break;
    case O_SECCOMP:
      if (cab_seccomp_config_from_option(&c->seccomp, optarg, err) < 0)
        return -1;
      break;
    case O_READ_ONLY_PROC: c->proc_readonly = true; break;
    case O_MEMORY:
      if (cab_parse_size(optarg, &c->limits.memory_bytes) < 0 || c->limits.memory_bytes < 4096)
        return usage_error(err, "--memory %s: expected a size such as 512M or 2G", optarg);
      break;
    case O_NO_CGROUP:
      c->no_cgroup = true;
      break;
    case O_TMPFS:
      if (cab_parse_size(optarg, &c->limits.tmpfs_bytes) < 0 || c->limits.tmpfs_bytes < 4096)
        return usage_error(err, "--tmpfs-size %s: expected a size such as 64M", optarg);
      break;
    case O_PIDS:
      c->limits.pids = strtoll(optarg, &end, 10);
      if (*end || end == optarg || c->limits.pids < 2)
        return usage_error(err, "--pids %s: expected a whole number of at least 2", optarg);
      break;
    case O_CPUS:
      c->limits.cpus = strtod(optarg, &end);
      if (*end || end == optarg || c->limits.cpus <= 0)
        return usage_error(err, "--cpus %s: expected a positive number such as 1.5", optarg);
      break;
    case O_TIMEOUT:
      c->limits.timeout_s = strtod(optarg, &end);
      if (*end || end == optarg || c->limits.timeout_s <= 0)
        return usage_error(err, "--timeout %s: expected seconds, a positive number", optarg);
      break;
    case O_TTY: c->tty = true; break;
    case O_RESULT: o->result_path = optarg; break;
    case O_CGROUP_PARENT: c->cgroup_parent = optarg; break;
    case O_OVERLAY: c->overlay_dir = optarg; break;
    case O_NET:
      if (strcmp(optarg, "model") == 0)
        o->net_enabled = true;
      else if (strcmp(optarg, "none") == 0)
        o->net_enabled = false;
      else
        return usage_error(err, "--net %s: expected none or model", optarg);
      break;
    case O_ENDPOINT: pc->endpoint = optarg; o->model_opt = "--endpoint"; break;
    case O_KEY_ENV: pc->key_env = optarg; o->model_opt = "--key-env"; break;
    case O_REPLAY_MATCH:
      if (strcmp(optarg, "hash") != 0 && strcmp(optarg, "order") != 0)
        return usage_error(err, "--replay-match %s: expected hash or order", optarg);
      pc->replay_order = strcmp(optarg, "order") == 0;
      o->model_opt = "--replay-match";
      break;
    case O_ENDPOINT_WIRE:
      if (cab_wire_parse(optarg, &pc->endpoint_wire, err) < 0 || pc->endpoint_wire == CAB_WIRE_GEMINI)
        return usage_error(err, "--endpoint-wire %s: expected chat, responses or anthropic", optarg);
      o->model_opt = "--endpoint-wire";
      break;
    case O_MODEL_CALLS: pc->calls_path = optarg; o->model_opt = "--model-calls"; break;
    case O_RECORD: pc->record_path = optarg; o->model_opt = "--record"; break;
    case O_REPLAY: pc->replay_path = optarg; o->model_opt = "--replay"; break;
    case O_MODEL_RETRIES: {
      long v = strtol(optarg, &end, 10);
      if (*end || end == optarg || v < 0 || v > 20)
        return usage_error(err, "--model-retries %s: expected a whole number from 0 to 20", optarg);
      pc->retries = (int)v;
      o->model_opt = "--model-retries";
      break;
    }
    case O_MODEL_TIMEOUT: {
      long v = strtol(optarg, &end, 10);
      if (*end || end == optarg || v < 1 || v > 86400)
        return usage_error(err, "--model-timeout %s: expected whole seconds, at least 1", optarg);
      pc->upstream_timeout_s = (int)v;
      o->model_opt = "--model-timeout";
      break;
    }
    case O_HELP:
      fputs(exec_usage, stdout);
      exit(0);
    case '?':
    default:
      return usage_error(err, "exec: unknown or incomplete option '%s'; see 'cab exec --help'",
                         argv[optind - 1]);
    }
  }
  if (o->image == NULL && !c->rootfs && !c->host_rootfs && optind < argc &&
      strcmp(argv[optind - 1], "--") != 0) {
    o->image = argv[optind++];
    goto again;
  }
  if (optind >= argc && o->image == NULL)
    return usage_error(err, "exec: no command given; usage: cab exec %s -- CMD [ARG...]",
                       "(IMAGE | --rootfs DIR | --host-rootfs)");
  if (!c->rootfs && !c->host_rootfs && !o->image)
    return usage_error(err, "exec: no root given; name an IMAGE, or pass --rootfs DIR or "
                       "--host-rootfs%s", "");
  if (o->image && (c->rootfs || c->host_rootfs))
    return usage_error(err, "exec: an IMAGE excludes --rootfs and --host-rootfs%s", "");
  if (c->rootfs && c->host_rootfs)
    return usage_error(err, "exec: --rootfs and --host-rootfs exclude each other%s", "");
  if (c->overlay_dir && c->host_rootfs)
    return usage_error(err, "exec: --overlay works with --rootfs, not --host-rootfs%s", "");
  c->argv = argv + optind;
  o->n_args = argc - optind;
  return 0;
}

/* After the image (if any): the model network's options and the environment. */
static int
finish_config(struct exec_opts *o, cab_error *err)
{
  struct cab_sandbox_config *c = &o->cfg;
  struct cab_proxy_config *pc = &o->net.pc;
  if (o->model_opt && !o->net_enabled)
    return usage_error(err, "exec: %s needs --net model", o->model_opt);
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

  /* The environment: PATH, HOME and TERM unless --env set them, then --env. */
  const char *term = getenv("TERM");
  const char *defaults[3][2] = {
      {"PATH", DEFAULT_PATH},
      {"HOME", c->uid == 0 ? "/root" : "/"},
      {"TERM", term && *term ? term : "xterm"},
  };
  for (int i = 0; i < 3; i++) {
    size_t klen = strlen(defaults[i][0]);
    bool overridden = false;
    for (size_t j = 0; j < o->n_env; j++)
      if (strncmp(o->env[j], defaults[i][0], klen) == 0 && o->env[j][klen] == '=')
        overridden = true;
    if (overridden)
      continue;
    memmove(o->env + 1, o->env, o->n_env * sizeof *o->env);
    if (asprintf(&o->env[0], "%s=%s", defaults[i][0], defaults[i][1]) < 0)
      return cab_error_sys(err, "environment");
    o->n_env++;
  }
  o->env[o->n_env] = NULL;
  if (key_leaks(o, err) < 0)
    return -1;
  c->envp = o->env;
  c->binds = o->binds;
  return 0;
}

/* --host-rootfs: the built-in task tree (its solutions), cab's store and
 * every home are hidden; --bind mounts still appear, even below them. */
static int
host_masks(struct exec_opts *o, cab_error *err)
{
  char path[PATH_MAX];
  cab_error ignored = {0};
  cab_task_default_root(path, sizeof path);
  if (cab_host_masks_add(&o->masks, path, err) < 0)
    return -1;
  if (cab_store_default_home(path, sizeof path, &ignored) == 0 &&
      cab_host_masks_add(&o->masks, path, err) < 0)
    return -1;
  if (cab_host_masks_add_homes(&o->masks, err) < 0)
    return -1;
  o->cfg.masks = (const char *const *)o->masks.paths;
  o->cfg.n_masks = o->masks.n;
  return 0;
}

static void
add_model_totals(cJSON *j, const struct cab_proxy_totals *t)
{
  cJSON *m = cJSON_AddObjectToObject(j, "model");
  cJSON_AddNumberToObject(m, "model_calls", (double)t->model_calls);
  cJSON_AddNumberToObject(m, "prompt_tokens", (double)t->prompt_tokens);
  cJSON_AddNumberToObject(m, "completion_tokens", (double)t->completion_tokens);
  cJSON_AddNumberToObject(m, "total_tokens", (double)t->total_tokens);
  cJSON_AddNumberToObject(m, "cached_tokens", (double)t->cached_tokens);
  cJSON_AddNumberToObject(m, "model_call_ms", (double)t->model_call_ms);
  cJSON_AddNumberToObject(m, "ok", (double)t->ok);
  cJSON_AddNumberToObject(m, "infra_errors", (double)t->infra_errors);
  cJSON_AddNumberToObject(m, "client_errors", (double)t->client_errors);
  cJSON_AddNumberToObject(m, "calls_without_usage", (double)t->calls_without_usage);
  cJSON_AddNumberToObject(m, "usage_clamped", (double)t->usage_clamped);
  cJSON_AddNumberToObject(m, "busy_refusals", (double)t->busy_refusals);
  cJSON_AddNumberToObject(m, "key_reflected", (double)t->key_reflected);
  cJSON_AddNumberToObject(m, "replay_misses", (double)t->replay_misses);
}

static int
write_result(const char *path, const struct exec_opts *o, const struct cab_sandbox_result *r,
             const struct cab_proxy_totals *model, cab_error *err)
{
  cJSON *j = cJSON_CreateObject();
  if (o->cfg.host_rootfs) {
    cJSON_AddStringToObject(j, "rootfs", "host");
    cJSON *masked = cJSON_AddArrayToObject(j, "masked_paths");
    for (size_t i = 0; i < o->masks.n; i++)
      cJSON_AddItemToArray(masked, cJSON_CreateString(o->masks.paths[i]));
    uid_t uid;
    gid_t gid;
    cab_sandbox_host_ids(&o->cfg, &uid, &gid, NULL);
    cJSON_AddNumberToObject(j, "sandbox_host_uid", uid);
    cJSON_AddNumberToObject(j, "sandbox_host_gid", gid);
  }
  cJSON_AddNumberToObject(j, "exit_code", r->exit_code);
  cJSON_AddNumberToObject(j, "signal", r->signal);
  cJSON_AddBoolToObject(j, "timed_out", r->timed_out);
  cJSON_AddBoolToObject(j, "oom_killed", r->oom_killed);
  cJSON_AddNumberToObject(j, "wall_ms", (double)r->wall_ms);
  cJSON_AddNumberToObject(j, "user_ms", (double)r->user_ms);
  cJSON_AddNumberToObject(j, "sys_ms", (double)r->sys_ms);
  if (r->peak_memory_bytes >= 0)
    cJSON_AddNumberToObject(j, "peak_memory_bytes", (double)r->peak_memory_bytes);
  else
    cJSON_AddNullToObject(j, "peak_memory_bytes");
  cJSON *lim = cJSON_AddObjectToObject(j, "limits");
  cJSON_AddStringToObject(lim, "memory", cab_limit_mech_name(r->memory));
  cJSON_AddStringToObject(lim, "pids", cab_limit_mech_name(r->pids));
  cJSON_AddStringToObject(lim, "cpu", cab_limit_mech_name(r->cpu));
  /* What actually held each limit, in words: "watchdog (anon+shmem+memfd+
   * tmpfs, poll 10 ms) and RLIMIT_DATA" against "cgroup v1 (...)". */
  cJSON *how = cJSON_AddObjectToObject(j, "enforced");
  cJSON_AddStringToObject(how, "memory", r->memory_how[0] ? r->memory_how : "none");
  cJSON_AddStringToObject(j, "cgroup_mode", r->cgroup_mode);
  if (r->degraded[0])
    cJSON_AddStringToObject(j, "degraded", r->degraded);
  if (r->seccomp) {
    /* What stood between the command and the host, as it ran. */
    cJSON *d = cJSON_AddObjectToObject(j, "defences");
    cJSON_AddStringToObject(d, "seccomp", r->seccomp);
    cJSON_AddStringToObject(d, "proc", r->proc_readonly ? "read-only" : "read-write");
    cJSON_AddBoolToObject(d, "stdio_relayed", r->stdio_relayed);
    cJSON_AddBoolToObject(d, "output_append_only", r->output_append_only);
    cJSON_AddBoolToObject(d, "stdio_nulled", r->stdio_nulled);
  }
  if (model)
    add_model_totals(j, model);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "render --result");
  size_t len = strlen(text);
  text[len] = '\n';
  int rc = cab_write_file_atomic(path, text, len + 1, 0644, err);
  free(text);
  return rc < 0 ? cab_error_prefix(err, "--result %s", path) : 0;
}

int
cab_cmd_exec(int argc, char **argv)
{
  static struct exec_opts opts; /* CLI-owned state: large arrays */
  memset(&opts, 0, sizeof opts);
  opts.rootfs_lock = -1;
  opts.overlay_lock = -1;
  cab_error err = {0};
  if (parse_args(argc, argv, &opts, &err) < 0)
    return cab_cli_fail(&err);
#ifdef CAB_CORE
  if (exec_needs_full(&opts))
    return cab_core_run_full();
#else
  /* A failure after the run layer exists removes it (an image's bad User
   * used to leave an empty cab-exec-* behind on every run). */
  if (opts.image && apply_image(&opts, &err) < 0) {
    remove_run_layer(&opts);
    return cab_cli_fail(&err);
  }
#endif
  if (finish_config(&opts, &err) < 0 || (opts.cfg.host_rootfs && host_masks(&opts, &err) < 0)) {
#ifndef CAB_CORE
    remove_run_layer(&opts);
#endif
    return cab_cli_fail(&err);
  }
#ifndef CAB_CORE
  if (opts.net_enabled && cab_modelnet_prepare(&opts.net, &opts.cfg, &err) < 0) {
    cab_proxy_free(opts.net.proxy);
    remove_run_layer(&opts);
    cab_error_prefix(&err, "exec --net model");
    return cab_cli_fail(&err);
  }
#endif

  struct cab_sandbox_result res;
  struct cab_proxy_totals totals;
  const struct cab_proxy_totals *model = opts.net_enabled ? &totals : NULL;
  int rc = cab_sandbox_run(&opts.cfg, &res, &err);
#ifndef CAB_CORE
  remove_run_layer(&opts);
  if (opts.net_enabled)
    cab_modelnet_finish(&opts.net, &totals, true);
#endif
  if (rc < 0) {
    /* The result file still tells what happened. */
    res.exit_code = err.exit_code ? err.exit_code : CAB_EXIT_RUNNER;
    cab_error ignored = {0};
    if (opts.result_path)
      write_result(opts.result_path, &opts, &res, model, &ignored);
    return cab_cli_fail(&err);
  }
  if (res.degraded[0])
    fprintf(stderr, "cab: warning: %s\n", res.degraded);
  if (res.stdio_nulled)
    fprintf(stderr, "cab: warning: a directory or O_PATH fd given as stdin, stdout or stderr "
                    "was replaced by /dev/null: through /proc it leads out of the sandbox\n");
  if (opts.result_path && write_result(opts.result_path, &opts, &res, model, &err) < 0)
    return cab_cli_fail(&err);
  if (opts.net.start_failed)
    return cab_cli_fail(&opts.net.start_err);
  return res.exit_code;
}
