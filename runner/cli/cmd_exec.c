/* cab exec [OPTIONS] (--rootfs DIR | --host-rootfs) -- CMD [ARG...] */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "runner/cli/commands.h"
#include "runner/proxy/dns.h"
#include "runner/proxy/proxy.h"
#include "sandbox/caps.h"
#include "sandbox/sandbox.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_LIST 256
#define MODEL_PORT 80
#define MODEL_BASE_URL "http://" CAB_GATEWAY_IP ":80/v1"
#define MODEL_HOST "model.cab.internal"
#define PLACEHOLDER_KEY "cab-placeholder-key"

static const char exec_usage[] =
    "usage: cab exec [OPTIONS] (--rootfs DIR | --host-rootfs) -- CMD [ARG...]\n"
    "\n"
    "  --rootfs DIR          use DIR, read-only, as the sandbox's /\n"
    "  --host-rootfs         use the host's /, read-only\n"
    "  --overlay DIR         make the root writable: an overlay over it whose\n"
    "                        changes land in DIR/upper (DIR must be empty)\n"
    "  --user UID[:GID]      identity inside (default 0:0, mapped to the caller)\n"
    "  --hostname NAME       default cab\n"
    "  --bind SRC:DST[:ro]   bind a host path (repeatable)\n"
    "  --workdir DIR         working directory inside (default /)\n"
    "  --env K=V | K         set, or pass through, a variable (repeatable)\n"
    "  --cap-add CAP, --cap-drop CAP   adjust Docker's default set (ALL allowed)\n"
    "  --seccomp default|unconfined|FILE   FILE: Docker/OCI seccomp JSON\n"
    "  --memory SIZE --pids N --cpus X --timeout SECONDS --tmpfs-size SIZE\n"
    "  --cgroup-parent PATH  a pre-created cgroup to create cells under\n"
    "  --tty                 run under a pseudo-terminal\n"
    "  --result FILE         write the run's result as JSON\n"
    "\n"
    "model network (--net model: the sandbox reaches only cab's proxy to the endpoint):\n"
    "  --net none|model      none (default): only lo\n"
    "  --endpoint URL        the model endpoint, e.g. https://api.openai.com/v1\n"
    "  --key-env VAR         the host variable holding the API key; the proxy adds\n"
    "                        it upstream, the sandbox only sees a placeholder\n"
    "  --model-calls FILE    append one JSON line per model call\n"
    "  --record FILE         write every call, request and response, to a cassette\n"
    "  --replay FILE         answer from a cassette, without any upstream\n"
    "  --model-retries N     retry connect failures, 429 and 5xx N times (default 0)\n"
    "  --model-timeout SECS  fail a call when upstream sends nothing for SECS (600)\n";

/* --net model: the proxy and DNS responder, started once the gateway's
 * sockets exist.  CLI-owned state. */
struct model_net {
  bool enabled;
  struct cab_proxy_config pc;
  struct cab_proxy *proxy;
  struct cab_dns_server *dns;
  struct cab_dns_zone zone;
  char hosts_line[600];
  const char *extra_hosts[1];
  bool start_failed;
  cab_error start_err;
};

struct exec_opts {
  struct cab_sandbox_config cfg;
  struct cab_bind binds[MAX_LIST];
  char *env[MAX_LIST + 4];
  size_t n_env;
  const char *result_path;
  struct model_net net;
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

/* What a sandbox on the model network sees: the proxy's URL and a
 * placeholder key, under the names agents and SDKs read. */
static int
set_model_env(struct exec_opts *o, cab_error *err)
{
  static const char *const vars[] = {
      "CAB_MODEL_BASE_URL=" MODEL_BASE_URL,
      "OPENAI_BASE_URL=" MODEL_BASE_URL,
      "OPENAI_API_BASE=" MODEL_BASE_URL,
      "ANTHROPIC_BASE_URL=http://" CAB_GATEWAY_IP ":80",
      "OPENAI_API_KEY=" PLACEHOLDER_KEY,
      "ANTHROPIC_API_KEY=" PLACEHOLDER_KEY,
      "CAB_KEY=" PLACEHOLDER_KEY,
  };
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (add_env(o, vars[i], err) < 0)
      return -1;
  return 0;
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
    O_CAP_DROP, O_SECCOMP, O_MEMORY, O_PIDS, O_CPUS, O_TIMEOUT, O_TMPFS, O_TTY, O_RESULT,
    O_CGROUP_PARENT, O_OVERLAY, O_NET, O_ENDPOINT, O_KEY_ENV, O_MODEL_CALLS, O_RECORD, O_REPLAY,
    O_MODEL_RETRIES, O_MODEL_TIMEOUT, O_HELP,
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
      {"memory", required_argument, 0, O_MEMORY},
      {"pids", required_argument, 0, O_PIDS},
      {"cpus", required_argument, 0, O_CPUS},
      {"timeout", required_argument, 0, O_TIMEOUT},
      {"tmpfs-size", required_argument, 0, O_TMPFS},
      {"tty", no_argument, 0, O_TTY},
      {"result", required_argument, 0, O_RESULT},
      {"cgroup-parent", required_argument, 0, O_CGROUP_PARENT},
      {"overlay", required_argument, 0, O_OVERLAY},
      {"net", required_argument, 0, O_NET},
      {"endpoint", required_argument, 0, O_ENDPOINT},
      {"key-env", required_argument, 0, O_KEY_ENV},
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
  const char *model_opt = NULL;
  c->caps = cab_caps_default();
  c->seccomp.kind = CAB_SECCOMP_DEFAULT;
  const char *term = NULL;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
    char *end;
    switch (opt) {
    case O_ROOTFS: c->rootfs = optarg; break;
    case O_HOST_ROOTFS: c->host_rootfs = true; break;
    case O_USER:
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
      if (strcmp(optarg, "default") == 0)
        c->seccomp.kind = CAB_SECCOMP_DEFAULT;
      else if (strcmp(optarg, "unconfined") == 0)
        c->seccomp.kind = CAB_SECCOMP_UNCONFINED;
      else {
        c->seccomp.kind = CAB_SECCOMP_FILE;
        c->seccomp.path = optarg;
      }
      break;
    case O_MEMORY:
      if (cab_parse_size(optarg, &c->limits.memory_bytes) < 0 || c->limits.memory_bytes < 4096)
        return usage_error(err, "--memory %s: expected a size such as 512M or 2G", optarg);
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
        o->net.enabled = true;
      else if (strcmp(optarg, "none") == 0)
        o->net.enabled = false;
      else
        return usage_error(err, "--net %s: expected none or model", optarg);
      break;
    case O_ENDPOINT: pc->endpoint = optarg; model_opt = "--endpoint"; break;
    case O_KEY_ENV: pc->key_env = optarg; model_opt = "--key-env"; break;
    case O_MODEL_CALLS: pc->calls_path = optarg; model_opt = "--model-calls"; break;
    case O_RECORD: pc->record_path = optarg; model_opt = "--record"; break;
    case O_REPLAY: pc->replay_path = optarg; model_opt = "--replay"; break;
    case O_MODEL_RETRIES: {
      long v = strtol(optarg, &end, 10);
      if (*end || end == optarg || v < 0 || v > 20)
        return usage_error(err, "--model-retries %s: expected a whole number from 0 to 20", optarg);
      pc->retries = (int)v;
      model_opt = "--model-retries";
      break;
    }
    case O_MODEL_TIMEOUT: {
      long v = strtol(optarg, &end, 10);
      if (*end || end == optarg || v < 1 || v > 86400)
        return usage_error(err, "--model-timeout %s: expected whole seconds, at least 1", optarg);
      pc->upstream_timeout_s = (int)v;
      model_opt = "--model-timeout";
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
  if (optind >= argc)
    return usage_error(err, "exec: no command given; usage: cab exec %s -- CMD [ARG...]",
                       "(--rootfs DIR | --host-rootfs)");
  if (!c->rootfs && !c->host_rootfs)
    return usage_error(err, "exec: no root given; pass --rootfs DIR or --host-rootfs%s", "");
  if (c->rootfs && c->host_rootfs)
    return usage_error(err, "exec: --rootfs and --host-rootfs exclude each other%s", "");
  if (c->overlay_dir && c->host_rootfs)
    return usage_error(err, "exec: --overlay works with --rootfs, not --host-rootfs%s", "");
  c->argv = argv + optind;
  if (model_opt && !o->net.enabled)
    return usage_error(err, "exec: %s needs --net model", model_opt);
  if (o->net.enabled && !pc->endpoint && !pc->replay_path)
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
  if (o->net.enabled && set_model_env(o, err) < 0)
    return -1;

  /* The environment: PATH, HOME and TERM unless --env set them, then --env. */
  term = getenv("TERM");
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
  cJSON_AddNumberToObject(m, "replay_misses", (double)t->replay_misses);
}

static int
write_result(const char *path, const struct cab_sandbox_result *r,
             const struct cab_proxy_totals *model, cab_error *err)
{
  cJSON *j = cJSON_CreateObject();
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
  cJSON_AddStringToObject(j, "cgroup_mode", r->cgroup_mode);
  if (r->degraded[0])
    cJSON_AddStringToObject(j, "degraded", r->degraded);
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

/* The gateway's sockets exist and the sandbox's init is waiting: start the
 * proxy and the DNS responder on them.  A failure is reported after the
 * run (the command then finds nothing listening). */
static void
net_ready(void *ctx, struct cab_gateway *gw)
{
  struct model_net *m = ctx;
  int tcp = gw->n_tcp > 0 ? gw->tcp_fds[0] : -1;
  int dns = gw->dns_fd;
  gw->tcp_fds[0] = gw->dns_fd = -1;
  cab_gateway_close(gw);
  if (tcp < 0 || cab_proxy_start(m->proxy, tcp, &m->start_err) < 0) {
    if (tcp < 0)
      cab_error_set(&m->start_err, 0, "the gateway gave no proxy socket");
    m->start_failed = true;
  }
  if (dns >= 0 && cab_dns_server_start(dns, &m->zone, &m->dns, &m->start_err) < 0)
    m->start_failed = true;
}

static int
net_prepare(struct exec_opts *o, cab_error *err)
{
  struct model_net *m = &o->net;
  if (cab_proxy_new(&m->pc, &m->proxy, err) < 0)
    return cab_error_prefix(err, "exec --net model");
  const char *host = cab_proxy_endpoint_host(m->proxy);
  inet_pton(AF_INET, CAB_GATEWAY_IP, &m->zone.addr);
  cab_dns_zone_add(&m->zone, MODEL_HOST);
  if (host && cab_dns_zone_add(&m->zone, host) < 0)
    return cab_error_set(err, 0, "exec: --endpoint host %s: not a valid DNS name", host);
  snprintf(m->hosts_line, sizeof m->hosts_line, "%s %s%s%s", CAB_GATEWAY_IP, MODEL_HOST,
           host ? " " : "", host ? host : "");
  m->extra_hosts[0] = m->hosts_line;
  struct cab_sandbox_config *c = &o->cfg;
  c->extra_hosts = m->extra_hosts;
  c->n_extra_hosts = 1;
  c->gateway.enabled = true;
  c->gateway.tcp_ports[0] = MODEL_PORT;
  c->gateway.n_tcp_ports = 1;
  c->gateway.dns = true;
  c->gateway.on_ready = net_ready;
  c->gateway.ctx = m;
  return 0;
}

/* Stop serving and take the totals. */
static void
net_finish(struct model_net *m, struct cab_proxy_totals *t)
{
  cab_dns_server_stop(m->dns);
  m->dns = NULL;
  memset(t, 0, sizeof *t);
  if (m->proxy) {
    cab_proxy_totals(m->proxy, t);
    cab_proxy_free(m->proxy);
    m->proxy = NULL;
  }
  if (t->replay_misses > 0)
    fprintf(stderr, "cab: warning: %lld model call(s) did not match the cassette %s; first: %s\n",
            (long long)t->replay_misses, m->pc.replay_path, t->first_replay_miss);
  if (t->record_errors > 0)
    fprintf(stderr, "cab: warning: --record %s: %lld call(s) could not be written; first: %s\n",
            m->pc.record_path, (long long)t->record_errors, t->first_record_error);
}

int
cab_cmd_exec(int argc, char **argv)
{
  static struct exec_opts opts; /* CLI-owned state: large arrays */
  memset(&opts, 0, sizeof opts);
  cab_error err = {0};
  if (parse_args(argc, argv, &opts, &err) < 0)
    return cab_cli_fail(&err);
  if (opts.net.enabled && net_prepare(&opts, &err) < 0) {
    cab_proxy_free(opts.net.proxy);
    return cab_cli_fail(&err);
  }

  struct cab_sandbox_result res;
  struct cab_proxy_totals totals;
  const struct cab_proxy_totals *model = opts.net.enabled ? &totals : NULL;
  int rc = cab_sandbox_run(&opts.cfg, &res, &err);
  if (opts.net.enabled)
    net_finish(&opts.net, &totals);
  if (rc < 0) {
    /* The result file still tells what happened. */
    res.exit_code = err.exit_code ? err.exit_code : CAB_EXIT_RUNNER;
    cab_error ignored = {0};
    if (opts.result_path)
      write_result(opts.result_path, &res, model, &ignored);
    return cab_cli_fail(&err);
  }
  if (res.degraded[0])
    fprintf(stderr, "cab: warning: %s\n", res.degraded);
  if (opts.result_path && write_result(opts.result_path, &res, model, &err) < 0)
    return cab_cli_fail(&err);
  if (opts.net.start_failed)
    return cab_cli_fail(&opts.net.start_err);
  return res.exit_code;
}
