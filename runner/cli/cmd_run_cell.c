/* cab run-cell: one CodingAgentBench cell, end to end. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "common/shquote.h"
#include "runner/cell/cell.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/cli/json_out.h"
#include "runner/proxy/wire.h"
#include "runner/record/artifacts.h"
#include "scorers/axes.h"

static const char run_cell_usage[] =
    "usage: cab run-cell --tui T --model M --task ID [OPTIONS]\n"
    "\n"
    "  --tui T              the agent (see 'cab adapters list')\n"
    "  --model M            model id, e.g. openai/gpt-oss-120b\n"
    "  --task ID            family/name (see 'cab tasks list')\n"
    "  --image REF          image to run in (default: the task's, else the adapter's)\n"
    "  --host-rootfs        run agent and verifier on the host's / (read-only)\n"
    "  --endpoint URL       model endpoint (default $CAB_ENDPOINT)\n"
    "  --key-env VAR        host variable holding the key (default CAB_KEY)\n"
    "  --endpoint-wire W    what the endpoint speaks: chat (default), responses or\n"
    "                       anthropic; agents of another wire are translated to chat\n"
    "  --sweep-id S         default local-YYYYMMDD\n"
    "  --run N              rerun number: adds run-N/ to the cell directory\n"
    "  --out DIR            default ./results\n"
    "  --tasks-dir DIR      default $CAB_TASKS_DIR or the bundled tasks\n"
    "  --record FILE        record every model call to a cassette\n"
    "  --replay FILE        answer model calls from a cassette (offline)\n"
    "  --replay-match M     order (default: the Nth call of a path gets the Nth\n"
    "                       answer; agents' requests carry session ids and dates)\n"
    "                       or hash (a request must be byte-identical)\n"
    "  --scoring PROFILE    codingagentbench-v0.1 (default) or cab-v1, or a file\n"
    "  --model-retries N    retry 429/5xx/connect failures N times\n"
    "  --memory SIZE --pids N --cpus X   limits (default 4G, 4096, none)\n"
    "  --cgroup-parent PATH a pre-created, writable cgroup to create the cell's\n"
    "                       sandboxes under (as cab exec's)\n"
    "  --timeout SECONDS    the agent's timeout (default: the task's timeout_s)\n"
    "  --max-turns N        the agent's turn budget, passed through the adapter's\n"
    "                       max_turns_args (default: the task's max_turns)\n"
    "  --verbose            show the agent's terminal while it runs\n"
    "  --quiet              no progress on stderr (on a terminal one live line with\n"
    "                       the phase, the time, the turns and tokens; else a line\n"
    "                       per phase)\n"
    "  --json               print the result as one JSON object on stdout (schema\n"
    "                       cab.run_cell/v1: the strip's axes, the outcome, the\n"
    "                       cell directory); with --dry-run, what would run\n"
    "                       (schema cab.run_cell.dry_run/v1)\n"
    "  --dry-run            print what would run (image and digest, argv, env with\n"
    "                       the key redacted, files, limits, workdir, verify\n"
    "                       command) after the same checks; nothing run or written\n"
    "  --require LIST       refuse to start below this protection: comma-separated\n"
    "                       namespaces, seccomp, cgroup, memory, pids, cpu, image,\n"
    "                       overlay, or none (default namespaces,seccomp); a cell\n"
    "                       that ran below it is recorded as infra_error\n"
    "  --preflight          only the checks made before any work (the options,\n"
    "                       agent, task, endpoint, user namespaces, --require):\n"
    "                       exit 0 or 125, nothing run or written\n"
    "\n"
    "Exit status: 0 when the cell is a measurement (pass, fail, timeout,\n"
    "agent_error), 3 when it was recorded as infra_error, 125 when no cell\n"
    "could be run (bad options, setup problems), 128+N when signal N\n"
    "interrupted it (nothing is recorded then).\n";

/* --json: the strip's axes (their headline figures, null when none), the
 * outcome and where the cell is, as one object.  0, or 125 after one line. */
static int
print_result_json(const struct cab_cell_summary *sum)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "schema", "cab.run_cell/v1");
  cJSON_AddStringToObject(j, "cell_id", sum->cell_id);
  cJSON_AddStringToObject(j, "cell_dir", sum->cell_dir);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/" CAB_CELL_JSON, sum->cell_dir);
  cJSON_AddStringToObject(j, "cell_json", path);
  cJSON_AddStringToObject(j, "outcome", sum->outcome);
  cJSON_AddStringToObject(j, "outcome_reason", sum->outcome_reason);
  cJSON_AddNumberToObject(j, "agent_exit_code", sum->agent_exit_code);
  cJSON *axes = cJSON_AddObjectToObject(j, "axes");
  for (size_t i = 0; i < cab_n_axes; i++) {
    if (cab_axes[i].strip_label == NULL)
      continue; /* not in the strip */
    if (sum->axes[i].has)
      cJSON_AddNumberToObject(axes, cab_axes[i].key, sum->axes[i].v);
    else
      cJSON_AddNullToObject(axes, cab_axes[i].key);
  }
  cJSON_AddStringToObject(j, "strip", sum->scores_strip);
  return cab_cli_print_json(j);
}

/* "KEY  VALUE" for a dry run's strings and numbers (null: "-"), the values
 * in one column whatever the indent. */
static void
print_scalar(const char *indent, const char *key, const cJSON *v)
{
  int w = 21 - (int)strlen(indent);
  if (cJSON_IsString(v))
    printf("%s%-*s %s\n", indent, w, key, v->valuestring);
  else if (cJSON_IsNumber(v))
    printf("%s%-*s %.15g\n", indent, w, key, v->valuedouble);
  else if (cJSON_IsBool(v))
    printf("%s%-*s %s\n", indent, w, key, cJSON_IsTrue(v) ? "yes" : "no");
  else
    printf("%s%-*s -\n", indent, w, key);
}

/* --dry-run: the JSON (--json), or as lines.  0, or 125 after one line. */
static int
print_dry_run(const char *text, bool json)
{
  cJSON *j = cJSON_Parse(text);
  if (j == NULL) {
    cab_error err = {0};
    cab_error_set(&err, 0, "run-cell --dry-run: could not read back its description");
    return cab_cli_fail(&err);
  }
  if (json)
    return cab_cli_print_json(j);
  printf("dry run: nothing was run or written\n");
  const cJSON *it;
  cJSON_ArrayForEach(it, j)
  {
    if (strcmp(it->string, "schema") == 0)
      continue;
    if (strcmp(it->string, "argv") == 0) {
      printf("%-21s", "argv");
      const cJSON *a;
      cJSON_ArrayForEach(a, it)
      {
        putchar(' ');
        cab_shell_quote(stdout, a->valuestring, false);
      }
      putchar('\n');
    } else if (strcmp(it->string, "env") == 0) {
      printf("env\n");
      const cJSON *e;
      cJSON_ArrayForEach(e, it) printf("  %s\n", e->valuestring);
    } else if (strcmp(it->string, "files") == 0) {
      printf("files\n");
      const cJSON *f;
      cJSON_ArrayForEach(f, it)
      {
        const char *content = cJSON_GetStringValue(cJSON_GetObjectItem(f, "content"));
        printf("  %s (%s)\n", cJSON_GetStringValue(cJSON_GetObjectItem(f, "path")),
               cJSON_GetStringValue(cJSON_GetObjectItem(f, "mode")));
        for (const char *l = content; l && *l;) {
          const char *nl = strchr(l, '\n');
          int n = nl ? (int)(nl - l) : (int)strlen(l);
          printf("    | %.*s\n", n, l);
          l = nl ? nl + 1 : l + n;
        }
      }
    } else if (cJSON_IsObject(it)) {
      printf("%s\n", it->string);
      const cJSON *k;
      cJSON_ArrayForEach(k, it) print_scalar("  ", k->string, k);
    } else {
      print_scalar("", it->string, it);
    }
  }
  cJSON_Delete(j);
  return 0;
}

int
cab_cmd_run_cell(int argc, char **argv)
{
  enum {
    O_TUI = 256, O_MODEL, O_TASK, O_IMAGE, O_HOST, O_ENDPOINT, O_KEY_ENV, O_SWEEP, O_RUN, O_OUT,
    O_TASKS_DIR, O_RECORD, O_REPLAY, O_SCORING, O_RETRIES, O_MEMORY, O_PIDS, O_CPUS, O_VERBOSE,
    O_HELP, O_ENDPOINT_WIRE, O_REPLAY_MATCH, O_REQUIRE, O_PREFLIGHT, O_CGROUP_PARENT,
    O_TIMEOUT, O_MAX_TURNS, O_QUIET, O_JSON, O_DRY_RUN,
  };
  static const struct option longopts[] = {
      {"tui", required_argument, 0, O_TUI},         {"model", required_argument, 0, O_MODEL},
      {"task", required_argument, 0, O_TASK},       {"image", required_argument, 0, O_IMAGE},
      {"host-rootfs", no_argument, 0, O_HOST},      {"endpoint", required_argument, 0, O_ENDPOINT},
      {"key-env", required_argument, 0, O_KEY_ENV}, {"sweep-id", required_argument, 0, O_SWEEP},
      {"run", required_argument, 0, O_RUN},         {"out", required_argument, 0, O_OUT},
      {"tasks-dir", required_argument, 0, O_TASKS_DIR},
      {"record", required_argument, 0, O_RECORD},   {"replay", required_argument, 0, O_REPLAY},
      {"scoring", required_argument, 0, O_SCORING},
      {"model-retries", required_argument, 0, O_RETRIES},
      {"memory", required_argument, 0, O_MEMORY},   {"pids", required_argument, 0, O_PIDS},
      {"cpus", required_argument, 0, O_CPUS},       {"verbose", no_argument, 0, O_VERBOSE},
      {"endpoint-wire", required_argument, 0, O_ENDPOINT_WIRE},
      {"replay-match", required_argument, 0, O_REPLAY_MATCH},
      {"require", required_argument, 0, O_REQUIRE},
      {"preflight", no_argument, 0, O_PREFLIGHT},
      {"cgroup-parent", required_argument, 0, O_CGROUP_PARENT},
      {"timeout", required_argument, 0, O_TIMEOUT},
      {"max-turns", required_argument, 0, O_MAX_TURNS},
      {"quiet", no_argument, 0, O_QUIET},           {"json", no_argument, 0, O_JSON},
      {"dry-run", no_argument, 0, O_DRY_RUN},
      {"help", no_argument, 0, O_HELP},             {0, 0, 0, 0},
  };
  struct cab_cell_options o = {.require = CAB_PROTECTION_REQUIRE_DEFAULT};
  cab_error err = {0};
  bool quiet = false, json = false;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    char *end = NULL;
    switch (opt) {
    case O_TUI: o.tui = optarg; break;
    case O_MODEL: o.model = optarg; break;
    case O_TASK: o.task_id = optarg; break;
    case O_IMAGE: o.image = optarg; break;
    case O_HOST: o.host_rootfs = true; break;
    case O_ENDPOINT: o.endpoint = optarg; break;
    case O_KEY_ENV: o.key_env = optarg; break;
    case O_REPLAY_MATCH:
      if (strcmp(optarg, "hash") != 0 && strcmp(optarg, "order") != 0) {
        cab_error_set(&err, 0, "--replay-match %s: expected order or hash", optarg);
        return cab_cli_fail(&err);
      }
      o.replay_exact = strcmp(optarg, "hash") == 0;
      break;
    case O_ENDPOINT_WIRE: {
      enum cab_wire w;
      char wires[128];
      if (cab_wire_parse_endpoint(optarg, &w) < 0) {
        cab_error_set(&err, 0, "--endpoint-wire %s: expected %s", optarg,
                      cab_wire_list(wires, sizeof wires, true, NULL));
        return cab_cli_fail(&err);
      }
      o.endpoint_wire = (int)w;
      break;
    }
    case O_REQUIRE:
      if (cab_protection_parse(optarg, "run-cell: --require", &o.require, &err) < 0)
        return cab_cli_fail(&err);
      break;
    case O_PREFLIGHT: o.preflight = true; break;
    case O_CGROUP_PARENT: o.cgroup_parent = optarg; break;
    case O_SWEEP: o.sweep_id = optarg; break;
    case O_OUT: o.out_dir = optarg; break;
    case O_TASKS_DIR: o.tasks_dir = optarg; break;
    case O_RECORD: o.record = optarg; break;
    case O_REPLAY: o.replay = optarg; break;
    case O_SCORING: o.scoring = optarg; break;
    case O_VERBOSE: o.verbose = true; break;
    case O_QUIET: quiet = true; break;
    case O_JSON: json = true; break;
    case O_DRY_RUN: o.dry_run = true; break;
    case O_TIMEOUT:
      o.timeout_s = strtol(optarg, &end, 10);
      if (*end || end == optarg || o.timeout_s < 1 || o.timeout_s > 7 * 24 * 3600) {
        cab_error_set(&err, 0, "--timeout %s: expected whole seconds from 1 to 604800", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_MAX_TURNS:
      o.max_turns = strtol(optarg, &end, 10);
      if (*end || end == optarg || o.max_turns < 1 || o.max_turns > 100000) {
        cab_error_set(&err, 0, "--max-turns %s: expected a whole number from 1 to 100000",
                      optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_RUN:
      o.run = (int)strtol(optarg, &end, 10);
      if (*end || o.run < 1) {
        cab_error_set(&err, 0, "--run %s: expected a whole number from 1", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_RETRIES:
      o.model_retries = (int)strtol(optarg, &end, 10);
      if (*end || o.model_retries < 0) {
        cab_error_set(&err, 0, "--model-retries %s: expected a whole number", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_MEMORY:
      if (cab_parse_size(optarg, &o.memory_bytes) < 0) {
        cab_error_set(&err, 0, "--memory %s: expected a size such as 4G", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_PIDS:
      o.pids = strtoll(optarg, &end, 10);
      if (*end || o.pids < 2) {
        cab_error_set(&err, 0, "--pids %s: expected a whole number of at least 2", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_CPUS:
      o.cpus = strtod(optarg, &end);
      if (*end || o.cpus <= 0) {
        cab_error_set(&err, 0, "--cpus %s: expected a positive number", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_HELP:
      fputs(run_cell_usage, stdout);
      return 0;
    default:
      return cab_cli_option_error("run-cell", longopts, argv);
    }
  }
  if (optind < argc) {
    cab_error_set(&err, 0, "run-cell: unexpected argument '%s'", argv[optind]);
    return cab_cli_fail(&err);
  }
  if (!o.tui || !o.model || !o.task_id)
    return cab_cli_usage_error("run-cell", "--tui, --model and --task are required");
  if (o.dry_run && o.preflight) {
    cab_error_set(&err, 0, "run-cell: --dry-run and --preflight exclude each other");
    return cab_cli_fail(&err);
  }
  if (o.record && o.replay) {
    cab_error_set(&err, 0, "run-cell: --record and --replay exclude each other");
    return cab_cli_fail(&err);
  }
  if (!o.endpoint)
    o.endpoint = getenv("CAB_ENDPOINT");
  if (!o.key_env && getenv("CAB_KEY"))
    o.key_env = "CAB_KEY";

  /* The phase line: live on a terminal (lines when the agent's own
   * terminal is shown), a line per phase otherwise; none when asked, or
   * when nothing runs. */
  if (!quiet && !o.preflight && !o.dry_run) {
    bool live = isatty(STDERR_FILENO) && !o.verbose;
    if (cab_cell_progress_new(live ? CAB_CELL_PROGRESS_LIVE : CAB_CELL_PROGRESS_LINES, stderr,
                              o.task_id, &o.progress, &err) < 0)
      return cab_cli_fail(&err);
  }
  struct cab_cell_summary sum;
  memset(&sum, 0, sizeof sum);
  int rc = cab_cell_run(&o, &sum, &err);
  cab_cell_progress_free(o.progress); /* the live line erased before anything is said */
  if (rc < 0)
    return cab_cli_fail(&err);
  if (o.preflight)
    return 0;
  if (o.dry_run) {
    rc = print_dry_run(sum.dry_run_json, json);
    free(sum.dry_run_json);
    return rc;
  }
  if (json && print_result_json(&sum) != 0)
    return CAB_EXIT_RUNNER;
  if (!json) {
    cab_cell_print_strip(&sum, stdout);
    printf("%s/" CAB_CELL_JSON "\n", sum.cell_dir);
  }
  if (strcmp(sum.outcome, "pass") != 0 && strcmp(sum.outcome, "fail") != 0)
    fprintf(stderr, "cab: cell %s: %s\n", sum.outcome, sum.outcome_reason);
  /* pass, fail, timeout and agent_error are measurements: 0. */
  return strcmp(sum.outcome, "infra_error") == 0 ? CAB_CELL_EXIT_INFRA : 0;
}
