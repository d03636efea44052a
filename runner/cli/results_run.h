/* What the commands that query a results tree share (cab results ls,
 * cab results export, cab leaderboard, cab score --all): the tree's index
 * opened (fresh, or built where cab_results_open says), one query run on
 * it, the index closed, and one error line prefixed with the command. */
#ifndef CAB_RUNNER_CLI_RESULTS_RUN_H
#define CAB_RUNNER_CLI_RESULTS_RUN_H

#include <stdbool.h>

#include "common/error.h"
#include "runner/results/results.h"

/* A query on an open index; ARG is the command's own. 0 or -1 with ERR. */
typedef int (*cab_cli_results_query)(struct sqlite3 *db, const void *arg, cab_error *err);

/* Open DIR with O, run QUERY(db, ARG), close.  Returns 0, or 125 after one
 * line on stderr: "cab: CMD: ..." for a failed open, and for a failed query
 * too unless QUERY_SAYS_IT (its errors name what failed themselves, as
 * "results export: --out FILE: ..."). */
int cab_cli_results_run(const char *cmd, const char *dir, const struct cab_results_opts *o,
                        cab_cli_results_query query, const void *arg, bool query_says_it);

/* The leaderboard on stdout; ARG is a struct cab_leaderboard_opts (cab
 * leaderboard, cab score --all). */
int cab_cli_leaderboard_query(struct sqlite3 *db, const void *arg, cab_error *err);

#endif
