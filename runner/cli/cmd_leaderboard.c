/* cab leaderboard DIR [--json] [--sweep S] [--profile P] [--db FILE]
 * (also: cab results leaderboard) */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/options.h"
#include "runner/cli/results_run.h"
#include "runner/results/results.h"

static const char leaderboard_usage[] =
    "usage: cab leaderboard DIR [--json] [--sweep S] [--profile P] [--db FILE]\n"
    "                       [--tasks-dir D]\n"
    "\n"
    "Rank the cells below DIR (or a results.db) per TUI x model: cells and infra_error\n"
    "cells (counted, never in a mean), pass@1, mean composite with a 95% Student t\n"
    "interval over per-task means, Ships, Stays, Costs (mean tokens, wall time and\n"
    "off-plan files), and the Pareto frontier of composite against tokens and wall\n"
    "time. The output ends with how each column is computed. DIR is never written:\n"
    "its results.db is used when 'cab index' made it and it is fresh, else the index\n"
    "is --db FILE or a file in the user's cache (${XDG_CACHE_HOME:-~/.cache}/cab/\n"
    "results/), built there when missing or stale, with one line on stderr saying\n"
    "where. Only cab's cells (cell.json with schema cab.cell/*) are counted.\n"
    "\n"
    "  --json          one JSON object (schema cab.leaderboard/v1) instead of the table\n"
    "  --sweep S       only the cells of sweep S\n"
    "  --profile P     re-score every cell from its artifacts under scoring profile P\n"
    "                  (a name: codingagentbench-v0.1, cab-v1; or a file) and rank those\n"
    "  --db FILE       where to build the index when DIR has no fresh one\n"
    "  --tasks-dir D   for a rebuild of the index (see 'cab index --help')\n";

int
cab_cmd_leaderboard(int argc, char **argv)
{
  enum { O_JSON = 256, O_SWEEP, O_TASKS_DIR, O_PROFILE, O_DB, O_HELP };
  static const struct option longopts[] = {
      {"profile", required_argument, 0, O_PROFILE},
      {"db", required_argument, 0, O_DB},
      {"json", no_argument, 0, O_JSON},
      {"sweep", required_argument, 0, O_SWEEP},
      {"tasks-dir", required_argument, 0, O_TASKS_DIR},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  struct cab_results_opts o = {.warn = stderr};
  struct cab_leaderboard_opts lo = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (opt) {
    case O_JSON: lo.json = true; break;
    case O_SWEEP: lo.sweep = optarg; break;
    case O_TASKS_DIR: o.tasks_dir = optarg; break;
    case O_PROFILE: o.profile = optarg; break;
    case O_DB: o.db = optarg; break;
    case O_HELP: return cab_cli_help(leaderboard_usage);
    default:
      return cab_cli_option_error("leaderboard", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("leaderboard", "give exactly one results directory");
  return cab_cli_results_run("leaderboard", argv[optind], &o, cab_cli_leaderboard_query, &lo, false);
}
