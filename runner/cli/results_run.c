#include "runner/cli/results_run.h"

#include <stdio.h>

#include "runner/cli/commands.h"

int
cab_cli_results_run(const char *cmd, const char *dir, const struct cab_results_opts *o,
                    cab_cli_results_query query, const void *arg, bool query_says_it)
{
  cab_error err = {0};
  struct cab_results_summary sum;
  struct sqlite3 *db;
  if (cab_results_open(dir, o, &db, &sum, &err) < 0) {
    cab_error_prefix(&err, "%s", cmd);
    return cab_cli_fail(&err);
  }
  int r = query(db, arg, &err);
  cab_results_close(db);
  if (r < 0 && !query_says_it)
    cab_error_prefix(&err, "%s", cmd);
  return r < 0 ? cab_cli_fail(&err) : 0;
}

int
cab_cli_leaderboard_query(struct sqlite3 *db, const void *arg, cab_error *err)
{
  return cab_results_leaderboard(db, arg, stdout, err);
}
