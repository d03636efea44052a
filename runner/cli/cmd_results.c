/* cab results ls|show|index|export|leaderboard: the results store's commands.
 * ('cab export' is image export; a cell export is 'cab results export'.) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/options.h"
#include "runner/cli/results_run.h"
#include "runner/results/results.h"

static const char results_usage[] =
    "usage: cab results COMMAND DIR [OPTIONS]\n"
    "\n"
    "  ls DIR            the cells below DIR, filtered, as a table or JSON\n"
    "  show CELL         one cell: outcome, the strip, limits, protection, artifacts\n"
    "  index DIR         (re)build DIR/results.db; the same as 'cab index'\n"
    "  export DIR        one row per cell as JSON lines or CSV\n"
    "  leaderboard DIR   per TUI x model; the same as 'cab leaderboard'\n";

static const char ls_usage[] =
    "usage: cab results ls DIR [--tui T] [--model M] [--task T] [--outcome O] [--sweep S]\n"
    "                      [--json] [--db FILE] [--tasks-dir D]\n"
    "\n"
    "The cells below DIR (or of a results.db), ordered by cell path, as an aligned\n"
    "table (SWEEP TUI MODEL TASK RUN OUTCOME PASS COMPOSITE TOKENS WALL_S PATH) or\n"
    "JSON. Each filter is a glob ('polyglot/*'); filters combine with AND. The index\n"
    "is DIR/results.db when 'cab index' made it and it is fresh, else --db FILE or a\n"
    "file in the user's cache, built there when missing or stale (one line on stderr\n"
    "says where); DIR itself is never written.\n"
    "\n"
    "  --tui T, --model M, --task T, --outcome O, --sweep S   only the cells matching\n"
    "  --json          one JSON object (schema cab.results.ls/v1) instead of the table\n"
    "  --db FILE       where to build the index when DIR has no fresh one\n"
    "  --tasks-dir D   for a rebuild of the index (see 'cab index --help')\n";

static const char show_usage[] =
    "usage: cab results show CELL [--json]\n"
    "\n"
    "One cell (its directory, or its cell.json): identity, image, timing, outcome,\n"
    "the seven-axis strip, the scoring profile, the timeout, the limits and what\n"
    "enforced each, the protection level, and the artifacts present with their sizes.\n"
    "\n"
    "  --json          one JSON object (schema cab.results.show/v1)\n";

static const char export_usage[] =
    "usage: cab results export DIR [--format jsonl|csv] [--out FILE] [--attempts]\n"
    "                          [--db FILE] [--tasks-dir D]\n"
    "\n"
    "One row per cell below DIR (or of a results.db), ordered by cell path: every\n"
    "column of the index (run identity, outcome, per-axis scores) and the sha256 of\n"
    "the prompt, the agent's stdout (agent.log) and the verifier's grade (verify.log).\n"
    "The index is found or built as for 'cab results ls' (DIR is never written).\n"
    "\n"
    "  --format F      jsonl (default: one JSON object a line) or csv (a header line)\n"
    "  --out FILE      write FILE atomically instead of stdout\n"
    "  --attempts      add the rows of earlier attempts (their 'attempt' is set)\n"
    "  --db FILE       where to build the index when DIR has no fresh one\n"
    "  --tasks-dir D   for a rebuild of the index (see 'cab index --help')\n";

struct export_args {
  enum cab_results_format fmt;
  bool attempts;
  const char *out; /* NULL: stdout */
};

static int
export_query(struct sqlite3 *db, const void *arg, cab_error *err)
{
  const struct export_args *a = arg;
  if (a->out)
    return cab_results_export_file(db, a->fmt, a->attempts, a->out, err);
  if (cab_results_export(db, a->fmt, a->attempts, stdout, err) < 0)
    return -1;
  return fflush(stdout) == 0 ? 0 : cab_error_sys(err, "results export: write stdout");
}

static int
cmd_export(int argc, char **argv)
{
  enum { O_FORMAT = 256, O_OUT, O_ATTEMPTS, O_TASKS_DIR, O_DB, O_HELP };
  static const struct option longopts[] = {
      {"format", required_argument, 0, O_FORMAT},
      {"db", required_argument, 0, O_DB},
      {"out", required_argument, 0, O_OUT},
      {"attempts", no_argument, 0, O_ATTEMPTS},
      {"tasks-dir", required_argument, 0, O_TASKS_DIR},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  struct cab_results_opts o = {.warn = stderr};
  enum cab_results_format fmt = CAB_RESULTS_JSONL;
  const char *out = NULL;
  bool attempts = false;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (opt) {
    case O_FORMAT:
      if (strcmp(optarg, "jsonl") == 0)
        fmt = CAB_RESULTS_JSONL;
      else if (strcmp(optarg, "csv") == 0)
        fmt = CAB_RESULTS_CSV;
      else {
        cab_error_set(&err, 0, "results export: --format %s: expected jsonl or csv", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_OUT: out = optarg; break;
    case O_ATTEMPTS: attempts = true; break;
    case O_TASKS_DIR: o.tasks_dir = optarg; break;
    case O_DB: o.db = optarg; break;
    case O_HELP: return cab_cli_help(export_usage);
    default:
      return cab_cli_option_error("results export", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("results export", "give exactly one results directory");
  struct export_args a = {fmt, attempts, out};
  return cab_cli_results_run("results export", argv[optind], &o, export_query, &a, true);
}

struct ls_args {
  const struct cab_results_filter *filter;
  bool json;
};

static int
ls_query(struct sqlite3 *db, const void *arg, cab_error *err)
{
  const struct ls_args *a = arg;
  return cab_results_ls(db, a->filter, a->json, stdout, err);
}

static int
cmd_ls(int argc, char **argv)
{
  enum { O_TUI = 256, O_MODEL, O_TASK, O_OUTCOME, O_SWEEP, O_JSON, O_DB, O_TASKS_DIR, O_HELP };
  static const struct option longopts[] = {
      {"tui", required_argument, 0, O_TUI},
      {"model", required_argument, 0, O_MODEL},
      {"task", required_argument, 0, O_TASK},
      {"outcome", required_argument, 0, O_OUTCOME},
      {"sweep", required_argument, 0, O_SWEEP},
      {"json", no_argument, 0, O_JSON},
      {"db", required_argument, 0, O_DB},
      {"tasks-dir", required_argument, 0, O_TASKS_DIR},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  struct cab_results_opts o = {.warn = stderr};
  struct cab_results_filter f = {0};
  bool json = false;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (opt) {
    case O_TUI: f.tui = optarg; break;
    case O_MODEL: f.model = optarg; break;
    case O_TASK: f.task = optarg; break;
    case O_OUTCOME: f.outcome = optarg; break;
    case O_SWEEP: f.sweep = optarg; break;
    case O_JSON: json = true; break;
    case O_DB: o.db = optarg; break;
    case O_TASKS_DIR: o.tasks_dir = optarg; break;
    case O_HELP: return cab_cli_help(ls_usage);
    default:
      return cab_cli_option_error("results ls", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("results ls", "give exactly one results directory");
  struct ls_args a = {&f, json};
  return cab_cli_results_run("results ls", argv[optind], &o, ls_query, &a, false);
}

static int
cmd_show(int argc, char **argv)
{
  enum { O_JSON = 256, O_HELP };
  static const struct option longopts[] = {
      {"json", no_argument, 0, O_JSON},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  bool json = false;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (opt) {
    case O_JSON: json = true; break;
    case O_HELP: return cab_cli_help(show_usage);
    default:
      return cab_cli_option_error("results show", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("results show", "give exactly one cell directory or cell.json");
  if (cab_results_show(argv[optind], json, stdout, &err) < 0) {
    cab_error_prefix(&err, "results show");
    return cab_cli_fail(&err);
  }
  return 0;
}

int
cab_cmd_results(int argc, char **argv)
{
  static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
  } subs[] = {
      {"ls", cmd_ls},
      {"show", cmd_show},
      {"index", cab_cmd_index},
      {"export", cmd_export},
      {"leaderboard", cab_cmd_leaderboard},
  };
  static const char *const names[] = {"ls", "show", "index", "export", "leaderboard"};
  const char *sub = argc > 1 ? argv[1] : NULL;
  if (sub && (cab_cli_is_help(sub) || strcmp(sub, "help") == 0))
    return cab_cli_help(results_usage);
  if (!sub)
    return cab_cli_usage_error("results", "no command; expected ls, show, index, export or leaderboard");
  for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
    if (strcmp(sub, subs[i].name) == 0)
      return subs[i].run(argc - 1, argv + 1);
  return cab_cli_bad_subcommand("results", sub, names, sizeof names / sizeof *names);
}
