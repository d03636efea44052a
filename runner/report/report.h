/* cab report: a static site from a results tree, readable from file://.
 *
 * RESULTS is what `cab run-cell --out` (and a sweep) writes: every cell.json
 * below it (schema cab.cell/v1) is one cell; directories starting with '.'
 * (staging), "*.old-PID" and ".attempt-N" ones are not.  The site:
 *
 *   index.html                  the leaderboard (one row per TUI x model, for
 *                               every family x language filter), charts, tasks
 *   tm/<tui>/<model>/index.html a TUI x model: its cells, its badge
 *   cell/<tui>/<model>/<family>/<task>/index.html
 *                               one cell at the published address, section by
 *                               section as the published cell page, with its
 *                               downloads beside it (cell.json, trace.otlp.json,
 *                               terminal.cast, diff.patch, cassette.jsonl); a
 *                               rerun is run-N/ below it, and the address
 *                               itself then lists the runs.  With more than
 *                               one sweep, cell/<sweep>/<tui>/...
 *   badge/<tui>/<model>/<family>/<task>[/run-N].svg  a cell's badge (with
 *                               more than one sweep, badge/<sweep>/...)
 *   task/<family>/<name>/       a task: prompt, budget, constraints, AGENTS.md
 *   badge/<tui>/<model>.svg     a TUI x model's badge
 *   charts/{composite,pareto-*}.svg  the charts, also inline in index.html
 *   assets/report.{css,js}      embedded in cab (runner/report/assets/)
 *
 * Everything that comes from a cell is escaped; the pages carry a Content
 * Security Policy that allows only the site's own script and style.  The site
 * is built in a temporary directory beside SITE and renamed into place; an
 * existing SITE is replaced only when it is empty or an earlier cab report. */
#ifndef CAB_RUNNER_REPORT_REPORT_H
#define CAB_RUNNER_REPORT_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

#define CAB_REPORT_SCHEMA "cab.report/v1"
/* The file that marks a directory as a site cab report wrote. */
#define CAB_REPORT_MARKER ".cab-report"

struct cab_report_opts {
  const char *tasks_dir; /* prompts and AGENTS.md; NULL = the default tasks root */
  const char *base_url;  /* absolute URL of the site for embed snippets (BASE/cell/...,
                            BASE/badge/....svg, as the published ones); NULL = relative */
  const char *title;     /* NULL = "cab report" */
  const char *sweep;     /* only this sweep_id; NULL = every cell */
  FILE *warn;            /* "cab: warning: ..." for cells that are skipped; NULL = none */
};

struct cab_report_summary {
  size_t cells, skipped, groups, tasks;
};

int cab_report_build(const char *results, const char *site, const struct cab_report_opts *o,
                     struct cab_report_summary *sum, cab_error *err);

#endif
