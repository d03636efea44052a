/* cab results index|export|leaderboard: the results store's commands.
 * ('cab export' is image export; a cell export is 'cab results export'.) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/commands.h"
#include "runner/results/results.h"

static const char results_usage[] =
    "usage: cab results COMMAND DIR [OPTIONS]\n"
    "\n"
    "  index DIR         (re)build DIR/results.db; the same as 'cab index'\n"
    "  export DIR        one row per cell as JSON lines or CSV\n"
    "  leaderboard DIR   per TUI x model; the same as 'cab leaderboard'\n";

static const char export_usage[] =
    "usage: cab results export DIR [--format jsonl|csv] [--out FILE] [--attempts]\n"
    "                          [--tasks-dir D]\n"
    "\n"
    "One row per cell below DIR (or of a results.db), ordered by cell path: every\n"
    "column of the index (run identity, outcome, per-axis scores) and the sha256 of\n"
    "the prompt, the agent's stdout (agent.log) and the verifier's grade (verify.log).\n"
    "DIR/results.db is (re)built first when it is missing or older than the cells.\n"
    "\n"
    "  --format F      jsonl (default: one JSON object a line) or csv (a header line)\n"
    "  --out FILE      write FILE atomically instead of stdout\n"
    "  --attempts      add the rows of earlier attempts (their 'attempt' is set)\n"
    "  --tasks-dir D   for a rebuild of the index (see 'cab index --help')\n";

static int
cmd_export(int argc, char **argv)
{
  enum { O_FORMAT = 256, O_OUT, O_ATTEMPTS, O_TASKS_DIR, O_HELP };
  static const struct option longopts[] = {
      {"format", required_argument, 0, O_FORMAT},
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
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
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
    case O_HELP: fputs(export_usage, stdout); return 0;
    default:
      cab_error_set(&err, 0,
                    "results export: unknown or incomplete option '%s'; see 'cab results export "
                    "--help'",
                    argv[optind - 1]);
      return cab_cli_fail(&err);
    }
  }
  if (optind != argc - 1) {
    cab_error_set(&err, 0,
                  "results export: give exactly one results directory; see 'cab results export "
                  "--help'");
    return cab_cli_fail(&err);
  }
  struct cab_results_summary sum;
  struct sqlite3 *db;
  if (cab_results_open(argv[optind], &o, &db, &sum, &err) < 0) {
    cab_error_prefix(&err, "results export");
    return cab_cli_fail(&err);
  }
  int r = out ? cab_results_export_file(db, fmt, attempts, out, &err)
              : cab_results_export(db, fmt, attempts, stdout, &err);
  cab_results_close(db);
  if (r == 0 && !out && fflush(stdout) != 0)
    r = cab_error_sys(&err, "results export: write stdout");
  return r < 0 ? cab_cli_fail(&err) : 0;
}

int
cab_cmd_results(int argc, char **argv)
{
  const char *sub = argc > 1 ? argv[1] : NULL;
  if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)) {
    fputs(results_usage, stdout);
    return 0;
  }
  if (sub && strcmp(sub, "export") == 0)
    return cmd_export(argc - 1, argv + 1);
  if (sub && strcmp(sub, "index") == 0)
    return cab_cmd_index(argc - 1, argv + 1);
  if (sub && strcmp(sub, "leaderboard") == 0)
    return cab_cmd_leaderboard(argc - 1, argv + 1);
  cab_error err = {0};
  cab_error_set(&err, 0, "results: %s%s%s; expected index, export or leaderboard",
                sub ? "unknown command '" : "no command", sub ? sub : "", sub ? "'" : "");
  return cab_cli_fail(&err);
}
