/* cab report RESULTS --out SITE [--tasks-dir DIR] [--sweep S] [--base-url URL]
 *                  [--title T]
 *
 * Writes the static site of a results tree (runner/report/report.h): the
 * leaderboard, one page per cell, per task and per TUI x model, badges and
 * charts; readable from file:// with no server. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/strfmt.h"
#include "common/error.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/report/report.h"

static void
usage(FILE *out)
{
  fputs("usage: cab report RESULTS --out SITE [--tasks-dir DIR] [--sweep S]\n"
        "                  [--base-url URL] [--title TEXT]\n"
        "\n"
        "Write a static site from every cell.json below RESULTS (as cab run-cell --out\n"
        "and cab sweep write them): a sortable leaderboard, one page per cell, task and\n"
        "TUI x model, SVG badges and charts.  Open SITE/index.html; no server needed.\n"
        "SITE is built beside itself and renamed into place; an existing SITE is\n"
        "replaced only when it is empty or an earlier cab report.\n"
        "\n"
        "  --out SITE        the site's directory\n"
        "  --tasks-dir DIR   where the tasks' prompts are (default: $CAB_TASKS_DIR, else\n"
        "                    tasks/ beside cab)\n"
        "  --sweep S         only the cells of sweep S\n"
        "  --base-url URL    the site's public URL, for absolute links in badge snippets\n"
        "  --title TEXT      the site's title (default: cab report)\n",
        out);
}

int
cab_cmd_report(int argc, char **argv)
{
  enum { O_TASKS = 256, O_SWEEP, O_BASE, O_TITLE };
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},       {"tasks-dir", required_argument, NULL, O_TASKS},
      {"sweep", required_argument, NULL, O_SWEEP}, {"base-url", required_argument, NULL, O_BASE},
      {"title", required_argument, NULL, O_TITLE}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct cab_report_opts o = {.warn = stderr};
  const char *out = NULL;
  int c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case O_TASKS: o.tasks_dir = optarg; break;
    case O_SWEEP: o.sweep = optarg; break;
    case O_BASE: o.base_url = optarg; break;
    case O_TITLE: o.title = optarg; break;
    case 'h': usage(stdout); return 0;
    default: return cab_cli_option_error("report", opts, argv);
    }
  }
  if (optind != argc - 1 || out == NULL) {
    fprintf(stderr, "cab report: give one RESULTS directory and --out SITE\n");
    usage(stderr);
    return CAB_EXIT_RUNNER;
  }
  cab_error err = {0};
  struct cab_report_summary sum = {0};
  if (cab_report_build(argv[optind], out, &o, &sum, &err) < 0)
    return cab_cli_fail(&err);
  printf("wrote %s: %zu %s, %zu TUI x model, %zu %s%s; open %s/index.html\n", out, sum.cells,
         cab_plural(sum.cells, "cell", "cells"), sum.groups, sum.tasks,
         cab_plural(sum.tasks, "task", "tasks"), sum.skipped ? " (some cell.json files skipped)" : "",
         out);
  return 0;
}
