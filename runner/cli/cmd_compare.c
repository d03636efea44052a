/* cab compare A B [--json]: two cells or two results trees, task by task.
 * Exit 0: no difference in pass or composite; 1: they differ (like diff);
 * 125: a side cannot be read. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/options.h"
#include "runner/results/results.h"

static const char compare_usage[] =
    "usage: cab compare A B [--json]\n"
    "\n"
    "Compare two cells, or two results trees (sweeps), task by task. A and B are each\n"
    "a cell's directory, its cell.json, or a directory of cells; nothing is written.\n"
    "Cells are matched on TUI, model and task; when each side holds one TUI x model\n"
    "and they differ, on the task alone. Per task: each side's mean pass and composite\n"
    "over its scored cells (infra_error left out), and the differences B - A in pass,\n"
    "composite, mean tokens and mean wall time; the cells whose verdict flipped\n"
    "(pass -> fail, fail -> pass), run against run (cell against cell when each side\n"
    "has one); and pass@k for k = 1..n when a side has n >= 2 scored reruns of a task\n"
    "(the unbiased estimator 1 - C(n-c,k)/C(n,k), c of them passed).\n"
    "\n"
    "  --json   one JSON object (schema cab.compare/v1)\n"
    "\n"
    "exit: 0 no task differs in pass or composite and none flipped, 1 they differ (or\n"
    "a task is on one side only), 125 a side cannot be read\n";

int
cab_cmd_compare(int argc, char **argv)
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
    case O_HELP: return cab_cli_help(compare_usage);
    default:
      return cab_cli_option_error("compare", longopts, argv);
    }
  }
  if (optind != argc - 2)
    return cab_cli_usage_error("compare", "give two cells or results directories, A and B");
  bool differ;
  if (cab_results_compare(argv[optind], argv[optind + 1], json, stdout, stderr, &differ, &err) <
      0) {
    cab_error_prefix(&err, "compare");
    return cab_cli_fail(&err);
  }
  return differ ? 1 : 0;
}
