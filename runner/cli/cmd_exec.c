/* cab exec [OPTIONS] (IMAGE | --rootfs DIR | --host-rootfs) [OPTIONS] -- CMD [ARG...]
 *
 * Also built into the core cab (-DCAB_CORE, runner/cli/core.h), which links
 * only the sandbox's libraries and the store's reading side: it runs
 * --rootfs, --host-rootfs and an IMAGE whose rootfs is unpacked already
 * itself, and hands an image still to unpack (libarchive, zstd) or --net
 * model (the proxy) to cab-full, so the parts for those are compiled into
 * cab-full alone (#ifndef CAB_CORE).
 *
 * This file reads the options (a table) into struct cab_exec_opts; the run
 * itself is runner/cli/exec_run.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "runner/cell/protection.h"
#include "runner/cell/run_spec.h"
#include "runner/cli/commands.h"
#include "runner/cli/core.h"
#include "runner/cli/exec_run.h"
#include "runner/cli/options.h"
#include "runner/proxy/wire.h"
#include "sandbox/caps.h"
#include "sandbox/seccomp.h"

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
  int (*set)(struct cab_exec_opts *o, const char *arg, cab_error *err);
  size_t field;
  bool model;                 /* a model-network option: needs --net model */
  enum opt_kind kind;
  long long min, max;
  const char *expect;
};

static int
opt_bind(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  /* SRC:DST[:ro] */
  if (o->cfg.n_binds >= CAB_EXEC_MAX_LIST)
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
opt_user(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  o->user_given = true;
  if (cab_run_spec_ids(arg, &o->cfg.uid, &o->cfg.gid) < 0)
    return usage_error(err, "--user %s: expected numeric UID[:GID]", arg);
  return 0;
}

static int
opt_workdir(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  o->workdir_given = true;
  if (arg[0] != '/')
    return usage_error(err, "--workdir %s: must be an absolute path", arg);
  o->cfg.workdir = arg;
  return 0;
}

static int
opt_cap_add(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  return cab_caps_adjust(&o->cfg.caps, arg, 1, err);
}

static int
opt_cap_drop(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  return cab_caps_adjust(&o->cfg.caps, arg, 0, err);
}

static int
opt_seccomp(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  return cab_seccomp_config_from_option(&o->cfg.seccomp, arg, err);
}

static int
opt_net(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  if (strcmp(arg, "model") != 0 && strcmp(arg, "none") != 0)
    return usage_error(err, "--net %s: expected none or model", arg);
  o->net_enabled = strcmp(arg, "model") == 0;
  return 0;
}

static int
opt_replay_match(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  if (strcmp(arg, "hash") != 0 && strcmp(arg, "order") != 0)
    return usage_error(err, "--replay-match %s: expected hash or order", arg);
  o->net.pc.replay_order = strcmp(arg, "order") == 0;
  return 0;
}

static int
opt_endpoint_wire(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  enum cab_wire *w = &o->net.pc.endpoint_wire;
  char wires[128];
  if (cab_wire_parse_endpoint(arg, w) < 0)
    return cab_error_set(err, 0, "--endpoint-wire %s: expected %s", arg,
                         cab_wire_list(wires, sizeof wires, true, NULL));
  return 0;
}

static int
opt_require(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  o->require_given = true;
  return cab_protection_parse(arg, "exec: --require", &o->require, err);
}

static int
opt_help(struct cab_exec_opts *o, const char *arg, cab_error *err)
{
  fputs(exec_usage, stdout);
  exit(0);
}

#define AT(member) .field = offsetof(struct cab_exec_opts, member)
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
    CALL("env", cab_exec_env_add),
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
apply_option(struct cab_exec_opts *o, const struct exec_option *opt, const char *arg, cab_error *err)
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
check_args(int argc, char **argv, struct cab_exec_opts *o, cab_error *err)
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
parse_args(int argc, char **argv, struct cab_exec_opts *o, cab_error *err)
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

int
cab_cmd_exec(int argc, char **argv)
{
  static struct cab_exec_opts opts; /* CLI-owned state: large arrays */
  cab_exec_opts_init(&opts);
  cab_error err = {0};
  int parsed = parse_args(argc, argv, &opts, &err);
  if (parsed == PRINTED)
    return CAB_EXIT_RUNNER;
  if (parsed < 0)
    return cab_cli_fail(&err);
#ifdef CAB_CORE
  if (cab_exec_needs_full(&opts))
    return cab_core_run_full();
#endif
  return cab_exec_run(&opts);
}
