/* cab doctor: what this host supports, tried for real (sandbox/host_probe.c
 * performs each operation a cell needs in a throw-away child; this file
 * only prints).  Exit 0 when a cell can run here (degraded limits are
 * warnings), 1 when it cannot. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/datadir.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/cli/core.h"
#include "runner/cell/protection.h"
#include "sandbox/cgroup.h"
#include "sandbox/host_probe.h"
#include "sandbox/seccomp_cache.h"

#ifndef CAB_CORE
#include "runner/cli/json_out.h"
#endif

static const char doctor_usage[] =
    "usage: cab doctor [--json] [--cgroup-parent PATH]\n"
    "\n"
    "Performs each operation a cell needs, in a throw-away child, and prints one\n"
    "line per operation and, when it fails, the command that fixes it.  Exit 0\n"
    "when a cell can run here (limits by rlimits or a copied root are warnings),\n"
    "1 when it cannot.\n"
    "\n"
    "  --json                one JSON object (schema cab.doctor/v1), for CI: ok,\n"
    "                        status and summary (the last line), checks [{name,\n"
    "                        label, kind, status (ok, warn, fail or skip), ok,\n"
    "                        detail, fix}], advice (the fix lines printed),\n"
    "                        limits {memory, pids, cpu: the mechanism a cell's\n"
    "                        limit would have, reason} and the host's facts\n"
    "  --cgroup-parent PATH  probe cells under PATH, as cab exec --cgroup-parent\n";

struct doctor_opts {
  bool json;
  const char *cgroup_parent;
};

/* What doctor prints beside the checks: read, not tried. */
struct facts {
  bool cgroup_known;
  struct cab_cgroup_host host;
  char cgroup_error[1100];
  char seccomp_actions[512];
  long landlock_abi;
  /* Where this cab's data files are, or (not found) the one line that says
   * where it looked: a cab copied without them cannot run a cell. */
  bool data_found[3];
  char data[3][sizeof(((cab_error *)0)->message)];
  /* What would enforce a cell's memory, pids and cpu limits here
   * (cab_limit_mech_name, as cell.json's environment.protection records
   * it), and why not a cgroup ("" when each is one). */
  struct cab_protection predicted;
  char limits_why[600];
};

static const struct {
  enum cab_datadir_kind kind;
  const char *label, *key;
  bool needed; /* the profiles have built-in copies */
} DATA[3] = {
    {CAB_DATA_ADAPTERS, "adapters:", "adapters", true},
    {CAB_DATA_TASKS, "tasks:", "tasks", true},
    {CAB_DATA_PROFILES, "scoring profiles:", "profiles", false},
};

static void
read_data_dirs(struct facts *f)
{
  for (size_t i = 0; i < 3; i++) {
    f->data_found[i] = cab_datadir_present(DATA[i].kind) &&
                       cab_datadir_dir(DATA[i].kind, f->data[i], sizeof f->data[i]) == 0;
    if (f->data_found[i])
      continue;
    cab_error e = {0};
    if (DATA[i].needed)
      cab_datadir_missing(DATA[i].kind, &e, "none");
    snprintf(f->data[i], sizeof f->data[i], "%s", DATA[i].needed ? e.message : "built in only");
  }
}

/* How many kinds a cell needs are missing. */
static int
data_missing(const struct facts *f)
{
  int n = 0;
  for (size_t i = 0; i < 3; i++)
    n += DATA[i].needed && !f->data_found[i];
  return n;
}

static void
read_facts(const struct doctor_opts *o, struct facts *f)
{
  struct cab_cgroup_paths paths = {.parent = o->cgroup_parent};
  cab_error e = {0};
  f->cgroup_known = cab_cgroup_detect(&paths, &f->host, &e) == 0;
  if (!f->cgroup_known)
    cab_error_line(&e, f->cgroup_error, sizeof f->cgroup_error);
  cleanup_free char *actions = NULL;
  if (cab_read_file_at(AT_FDCWD, "/proc/sys/kernel/seccomp/actions_avail", 4096, &actions, NULL,
                       &e) == 0) {
    actions[strcspn(actions, "\n")] = '\0';
    snprintf(f->seccomp_actions, sizeof f->seccomp_actions, "%s", actions);
  }
  f->landlock_abi = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1U /* VERSION */);
  read_data_dirs(f);
  /* A cell asking for every limit, predicted as run-cell predicts it. */
  struct cab_sandbox_config cfg = {.cgroup_parent = o->cgroup_parent};
  cfg.limits.memory_bytes = 1LL << 30;
  cfg.limits.pids = 1024;
  cfg.limits.cpus = 1;
  cab_protection_predict(&f->predicted, &cfg, f->limits_why, sizeof f->limits_why);
}

/* The status word of a check, as --json gives it and the text shows it:
 * ok; fail (a required operation: no cell runs); warn (cells run, less
 * well); skip (not tried, as a step before it failed, or reported only). */
static const char *
check_status(const struct cab_host_probe *p, const struct cab_probe_result *r)
{
  if (r->ok)
    return "ok";
  if (strncmp(r->detail, "not tried:", 10) == 0 || p->kind == CAB_PROBE_INFO)
    return "skip";
  return p->kind == CAB_PROBE_REQUIRED ? "fail" : "warn";
}

/* The fix printed under a failed check ("": none): a step that was not
 * tried has the fix of the one that failed, above it. */
static const char *
check_advice(const struct cab_probe_result *r)
{
  return !r->ok && strncmp(r->detail, "not tried:", 10) != 0 ? r->fix : "";
}

static const char *
v1_state(const char *mount, bool writable)
{
  return mount[0] ? (writable ? "writable" : "read-only") : "absent";
}

static void
print_facts(const struct facts *f)
{
  const struct cab_cgroup_host *h = &f->host;
  if (!f->cgroup_known) {
    printf("  cgroup mode:           unknown (%s)\n", f->cgroup_error);
    return;
  }
  printf("  cgroup mode:           %s\n", cab_cgroup_mode_name(h->mode));
  if (h->mode == CAB_CGROUP_MODE_UNIFIED || h->mode == CAB_CGROUP_MODE_HYBRID)
    printf("  cgroup v2:             %s at %s (controllers: %s; writable: %s)\n",
           h->v2_base[0] ? h->v2_base : "/", h->v2_mount,
           h->v2_controllers[0] ? h->v2_controllers : "none", h->v2_writable ? "yes" : "no");
  if (h->mode == CAB_CGROUP_MODE_HYBRID || h->mode == CAB_CGROUP_MODE_LEGACY) {
    printf("  cgroup v1 memory:      %s\n", v1_state(h->v1_memory.mount, h->v1_memory.writable));
    printf("  cgroup v1 pids:        %s\n", v1_state(h->v1_pids.mount, h->v1_pids.writable));
    printf("  cgroup v1 cpu:         %s\n", v1_state(h->v1_cpu.mount, h->v1_cpu.writable));
    printf("  cgroup v1 freezer:     %s\n",
           v1_state(h->v1_freezer.mount, h->v1_freezer.writable));
  }
  if (f->seccomp_actions[0])
    printf("  seccomp actions:       %s\n", f->seccomp_actions);
  const struct cab_protection *p = &f->predicted;
  printf("  cell limits by:        memory=%s pids=%s cpu=%s\n", p->limits.memory,
         p->limits.pids, p->limits.cpu);
  char cache[PATH_MAX + 256];
  printf("  seccomp cache:         %s\n", cab_seccomp_cache_describe(cache, sizeof cache));
}

static void
print_data_dirs(const struct facts *f)
{
  for (size_t i = 0; i < 3; i++)
    printf("  %-22s %s\n", DATA[i].label, f->data[i]);
}

/* "  label:<pad> yes (detail)" and, on failure, "      fix: ..." */
static void
print_check(const struct cab_host_probe *p, const struct cab_probe_result *r)
{
  char label[32];
  snprintf(label, sizeof label, "%s:", p->label);
  const char *word = r->ok ? "yes" : "no";
  const char *status = check_status(p, r);
  const char *note = strcmp(status, "warn") == 0   ? " [warning: cells still run]"
                     : strcmp(status, "skip") != 0 ? ""
                     : p->kind == CAB_PROBE_INFO   ? " [info]"
                                                   : " [skipped]";
  printf("  %-22s %s (%s)%s\n", label, word, r->detail, note);
  if (check_advice(r)[0])
    printf("  %-22s fix: %s\n", "", check_advice(r));
}

#ifndef CAB_CORE
static const char *const kind_names[] = {
    [CAB_PROBE_REQUIRED] = "required",
    [CAB_PROBE_DEGRADES] = "degrades",
    [CAB_PROBE_INFO] = "info",
};

static cJSON *
facts_json(const struct facts *f)
{
  cJSON *o = cJSON_CreateObject();
  const struct cab_cgroup_host *h = &f->host;
  cJSON_AddStringToObject(o, "cgroup_mode",
                          f->cgroup_known ? cab_cgroup_mode_name(h->mode) : "unknown");
  if (f->cgroup_known && h->v2_mount[0]) {
    cJSON *v2 = cJSON_AddObjectToObject(o, "cgroup_v2");
    cJSON_AddStringToObject(v2, "mount", h->v2_mount);
    cJSON_AddStringToObject(v2, "path", h->v2_base[0] ? h->v2_base : "/");
    cJSON_AddStringToObject(v2, "controllers", h->v2_controllers);
    cJSON_AddBoolToObject(v2, "writable", h->v2_writable);
  }
  if (f->cgroup_known && (h->mode == CAB_CGROUP_MODE_HYBRID || h->mode == CAB_CGROUP_MODE_LEGACY)) {
    cJSON *v1 = cJSON_AddObjectToObject(o, "cgroup_v1");
    cJSON_AddStringToObject(v1, "memory", v1_state(h->v1_memory.mount, h->v1_memory.writable));
    cJSON_AddStringToObject(v1, "pids", v1_state(h->v1_pids.mount, h->v1_pids.writable));
    cJSON_AddStringToObject(v1, "cpu", v1_state(h->v1_cpu.mount, h->v1_cpu.writable));
    cJSON_AddStringToObject(v1, "freezer",
                            v1_state(h->v1_freezer.mount, h->v1_freezer.writable));
  }
  cJSON *actions = cJSON_AddArrayToObject(o, "seccomp_actions");
  char buf[512];
  snprintf(buf, sizeof buf, "%s", f->seccomp_actions);
  char *save = NULL;
  for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
    cJSON_AddItemToArray(actions, cJSON_CreateString(w));
  if (f->landlock_abi > 0)
    cJSON_AddNumberToObject(o, "landlock_abi", (double)f->landlock_abi);
  else
    cJSON_AddNullToObject(o, "landlock_abi");
  /* data: each kind's directory, or null and the line that says why */
  cJSON *data = cJSON_AddObjectToObject(o, "data");
  for (size_t i = 0; i < 3; i++) {
    cJSON *d = cJSON_AddObjectToObject(data, DATA[i].key);
    if (f->data_found[i]) {
      cJSON_AddStringToObject(d, "dir", f->data[i]);
      cJSON_AddNullToObject(d, "missing");
    } else {
      cJSON_AddNullToObject(d, "dir");
      cJSON_AddStringToObject(d, "missing", f->data[i]);
    }
  }
  return o;
}

static cJSON *
limits_json(const struct facts *f)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "memory", f->predicted.limits.memory);
  cJSON_AddStringToObject(o, "pids", f->predicted.limits.pids);
  cJSON_AddStringToObject(o, "cpu", f->predicted.limits.cpu);
  if (f->limits_why[0])
    cJSON_AddStringToObject(o, "reason", f->limits_why);
  else
    cJSON_AddNullToObject(o, "reason");
  return o;
}

static int
print_doctor_json(size_t n, const struct cab_probe_result *results, const struct facts *facts,
                  const char *status, const char *summary)
{
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "schema", "cab.doctor/v1");
  cJSON_AddBoolToObject(root, "ok", strcmp(status, "fail") != 0);
  cJSON_AddStringToObject(root, "status", status);
  cJSON_AddStringToObject(root, "summary", summary);
  cJSON *checks = cJSON_AddArrayToObject(root, "checks");
  cJSON *advice = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    const struct cab_host_probe *p = &cab_host_probes[i];
    const struct cab_probe_result *r = &results[i];
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", p->name);
    cJSON_AddStringToObject(c, "label", p->label);
    cJSON_AddStringToObject(c, "kind", kind_names[p->kind]);
    cJSON_AddStringToObject(c, "status", check_status(p, r));
    cJSON_AddBoolToObject(c, "ok", r->ok);
    cJSON_AddStringToObject(c, "detail", r->detail);
    if (r->ok || r->fix[0] == '\0')
      cJSON_AddNullToObject(c, "fix");
    else
      cJSON_AddStringToObject(c, "fix", r->fix);
    cJSON_AddItemToArray(checks, c);
    if (check_advice(r)[0])
      cJSON_AddItemToArray(advice, cJSON_CreateString(check_advice(r)));
  }
  cJSON_AddItemToObject(root, "advice", advice);
  cJSON_AddItemToObject(root, "limits", limits_json(facts));
  cJSON_AddItemToObject(root, "facts", facts_json(facts));
  return cab_cli_print_json(root);
}
#endif

/* 0 to go on, 1 after --help, -1 after the one-line error. */
static int
parse_args(int argc, char **argv, struct doctor_opts *o)
{
  static const struct option longopts[] = {
      {"json", no_argument, NULL, 'j'},
      {"cgroup-parent", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
    switch (opt) {
    case 'j': o->json = true; break;
    case 'p': o->cgroup_parent = optarg; break;
    case 'h': cab_cli_help(doctor_usage); return 1;
    default: cab_cli_option_error("doctor", longopts, argv); return -1;
    }
  }
  if (optind < argc) {
    cab_cli_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
    return -1;
  }
  return 0;
}

int
cab_cmd_doctor(int argc, char **argv)
{
  struct doctor_opts o = {0};
  int parsed = parse_args(argc, argv, &o);
  if (parsed != 0)
    return parsed > 0 ? 0 : CAB_EXIT_RUNNER;
#ifdef CAB_CORE
  if (o.json)
    return cab_core_run_full(); /* cJSON lives in cab-full only */
#endif
  struct cab_probe_ctx ctx = {.cgroup_parent = o.cgroup_parent};
  struct cab_probe_result results[16];
  size_t n = cab_host_probe_count < 16 ? cab_host_probe_count : 16;
  int failed = 0, untried = 0, warnings = 0;
  if (!o.json) {
    printf("cab doctor: what this host supports, each operation tried in a throw-away child\n");
    fflush(stdout);
  }
  for (size_t i = 0; i < n; i++) {
    const struct cab_host_probe *p = &cab_host_probes[i];
    cab_host_probe_run(p, &ctx, &results[i]);
    /* A required step not tried (one before it failed) stops cells too,
     * but is not counted as a failure of its own. */
    const char *st = check_status(p, &results[i]);
    if (strcmp(st, "fail") == 0)
      failed++;
    else if (strcmp(st, "skip") == 0 && p->kind == CAB_PROBE_REQUIRED)
      untried++;
    else if (strcmp(st, "warn") == 0)
      warnings++;
    if (!o.json) {
      print_check(p, &results[i]);
      fflush(stdout);
    }
  }
  struct facts facts = {0};
  read_facts(&o, &facts);
  int missing = data_missing(&facts);
  char summary[220], more[48] = "";
  if (untried)
    snprintf(more, sizeof more, " (%d more not tried)", untried);
  failed += failed == 0 && untried; /* cannot happen: a step is untried after a failure */
  if (failed)
    snprintf(summary, sizeof summary,
             "cab doctor: a cell cannot run here: %d required operation%s failed%s", failed,
             failed == 1 ? "" : "s", more);
  else if (missing)
    snprintf(summary, sizeof summary,
             "cab doctor: a cell cannot run with this cab: it has no %s (see above)",
             !facts.data_found[0] && !facts.data_found[1] ? "adapters and no tasks"
             : !facts.data_found[0]                       ? "adapters"
                                                          : "tasks");
  else
    snprintf(summary, sizeof summary, "cab doctor: cells can run here%s",
             warnings ? ", with the warnings above" : "");
  if (!o.json) {
    print_facts(&facts);
    print_data_dirs(&facts);
    printf("%s\n", summary);
    return failed || missing ? 1 : 0;
  }
#ifndef CAB_CORE
  int rc = print_doctor_json(n, results, &facts,
                             failed || missing ? "fail" : warnings ? "warn" : "ok", summary);
  if (rc != 0)
    return rc;
#endif
  return failed || missing ? 1 : 0;
}
