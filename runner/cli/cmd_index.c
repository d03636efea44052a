/* cab index DIR [--tasks-dir D] [--strict] [--db FILE]  (also: cab results index) */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/options.h"
#include "runner/results/results.h"

static const char index_usage[] =
    "usage: cab index DIR [--tasks-dir D] [--strict] [--db FILE]\n"
    "\n"
    "(Re)build DIR/results.db (SQLite) from every cell.json below DIR, atomically:\n"
    "one row per cell in table cells (run identity, outcome, per-axis scores, and\n"
    "the sha256 of the prompt, agent.log and verify.log), earlier tries in\n"
    "'.attempt-N' directories in table attempts. The cell directories stay the\n"
    "source of truth; re-indexing gives the same rows.\n"
    "\n"
    "  --tasks-dir D   where the prompts (TASK/workdir/README.md) are hashed from when\n"
    "                  the cell keeps none (default $CAB_TASKS_DIR or the bundled tasks)\n"
    "  --db FILE       build the index at FILE instead of DIR/results.db\n"
    "  --strict        fail, writing nothing, if any cell.json cannot be read; by\n"
    "                  default such a cell is a warning line, listed in table skipped,\n"
    "                  and the others are indexed\n"
    "\n"
    "stdout: 'N cells, M attempts, K skipped' and the path of results.db.\n";

int
cab_cmd_index(int argc, char **argv)
{
  enum { O_TASKS_DIR = 256, O_STRICT, O_DB, O_HELP };
  static const struct option longopts[] = {
      {"db", required_argument, 0, O_DB},
      {"tasks-dir", required_argument, 0, O_TASKS_DIR},
      {"strict", no_argument, 0, O_STRICT},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  struct cab_results_opts o = {.warn = stderr};
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (opt) {
    case O_TASKS_DIR: o.tasks_dir = optarg; break;
    case O_STRICT: o.strict = true; break;
    case O_DB: o.db = optarg; break;
    case O_HELP: return cab_cli_help(index_usage);
    default:
      return cab_cli_option_error("index", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("index", "give exactly one results directory");
  struct cab_results_summary sum;
  if (cab_results_index(argv[optind], &o, &sum, &err) < 0)
    return cab_cli_fail(&err);
  printf("%zu %s, %zu %s, %zu skipped\n%s\n", sum.cells, sum.cells == 1 ? "cell" : "cells",
         sum.attempts, sum.attempts == 1 ? "attempt" : "attempts", sum.skipped,
         sum.db_path);
  size_t rows = sum.cells + sum.attempts;
  if (sum.no_prompt || sum.no_agent_log || sum.no_verify_log)
    fprintf(stderr,
            "cab: note: of %zu rows, %zu have no prompt (task not under the tasks directory), "
            "%zu no agent.log, %zu no verify.log: those hashes are null\n",
            rows, sum.no_prompt, sum.no_agent_log, sum.no_verify_log);
  return 0;
}
