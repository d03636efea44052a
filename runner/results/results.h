/* The results store: cell directories stay the source of truth; results.db
 * (SQLite) indexes them for queries, exports and the leaderboard.
 *
 * A results tree is what `cab run-cell --out DIR` (and a sweep) writes:
 *   DIR/<sweep>/<tui>/<model...>/<family>/<task>/[run-N/]cell.json
 * (model ids contain '/' and nest as directories).  Every cell.json below DIR
 * is one row of table `cells`, keyed by its directory relative to DIR.  A
 * directory whose name ends in ".attempt-N" (or is ".attempt-N") holds an
 * earlier attempt at the cell named without that suffix: it is a row of
 * table `attempts`, never of `cells`.  Directories starting with '.'
 * (run-cell's .staging-*) and "*.old-PID" (a cell being replaced) are not
 * cells.  A cell.json that cannot be read or is not a cab cell is a warning
 * and a row of table `skipped` (path, reason); the others are indexed.
 *
 * Hashes (bare lowercase hex sha256, as sha256sum prints them), the
 * provenance page's three: prompt_sha256 = the prompt the cell saw (cell.json
 * "prompt_sha256" or the cell's prompt.md when a runner keeps one, else the
 * task's workdir/README.md under the tasks directory: prompt_source says
 * which), agent_log_sha256 = agent.log (the agent's stdout), and
 * verify_log_sha256 = verify.log (the verifier's grade); plus
 * cell_json_sha256.  A missing file gives NULL. */
#ifndef CAB_RUNNER_RESULTS_RESULTS_H
#define CAB_RUNNER_RESULTS_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

#define CAB_RESULTS_SCHEMA "cab.results/v1"
#define CAB_RESULTS_DB "results.db"

struct sqlite3;

struct cab_results_opts {
  const char *tasks_dir; /* where prompts are found; NULL = the default tasks root */
  bool strict;           /* any unreadable cell.json fails the whole index */
  FILE *warn;            /* per-cell warnings go here ("cab: warning: ..."); NULL = none */
  /* cab_results_open: where the index of a tree is built when it has no
   * fresh one; NULL = the user's cache (cab_results_cache_path) */
  const char *db;
  /* Re-score every cell from its artifacts under this profile (a name or a
   * file, scorers/scorers.h) instead of reading its recorded scores. */
  const char *profile;
};

struct cab_results_summary {
  size_t cells, attempts, skipped;
  size_t no_prompt, no_agent_log, no_verify_log; /* rows whose hash is NULL */
  bool rebuilt;   /* cab_results_open: the index was (re)built */
  bool in_memory; /* cab_results_open: DIR is not writable; the index lives in memory */
  char db_path[4200];
};

/* (Re)build ROOT/results.db from every cell.json below ROOT: into a temp file
 * beside it, renamed into place, so readers see the old index or the new one.
 * Fails (and writes nothing) when ROOT holds no readable cell.json, or with
 * opts->strict when any cell.json is unreadable. */
int cab_results_index(const char *root, const struct cab_results_opts *o,
                      struct cab_results_summary *sum, cab_error *err);

/* A read-only handle on the index of ROOT.  ROOT is a results.db file (used
 * as is) or a results tree.  A tree is never written to: its own results.db
 * (from `cab index`) is used when it is fresh (the same cell.json files,
 * sizes and mtimes as when it was built) and no profile is asked for; else
 * the index at o->db, or at cab_results_cache_path, is used when fresh and
 * built there when not, with one line on stderr saying where; when the cache
 * cannot be written, the index is built in memory (said in the same line). */
int cab_results_open(const char *root, const struct cab_results_opts *o, struct sqlite3 **db,
                     struct cab_results_summary *sum, cab_error *err);
void cab_results_close(struct sqlite3 *db);

/* ${XDG_CACHE_HOME:-$HOME/.cache}/cab/results/<hash of ROOT's real path and
 * PROFILE>.db into BUF, its directory created (0700). */
int cab_results_cache_path(const char *root, const char *profile, char *buf, size_t size,
                           cab_error *err);

/* One row per cell (with ATTEMPTS, the attempts too), ordered by cell path,
 * as JSON lines or CSV (a header line, RFC 4180 quoting, LF line ends), every
 * column of `cells`. */
enum cab_results_format { CAB_RESULTS_JSONL, CAB_RESULTS_CSV };
int cab_results_export(struct sqlite3 *db, enum cab_results_format fmt, bool attempts, FILE *out,
                       cab_error *err);
/* The same into PATH: a temporary file beside it, renamed over it when
 * complete, so a reader never sees half an export. */
int cab_results_export_file(struct sqlite3 *db, enum cab_results_format fmt, bool attempts,
                            const char *path, cab_error *err);

/* The leaderboard (runner/results/leaderboard.c). */
struct cab_leaderboard_opts {
  const char *sweep; /* only this sweep_id; NULL = every cell */
  bool json;
};
int cab_results_leaderboard(struct sqlite3 *db, const struct cab_leaderboard_opts *o, FILE *out,
                            cab_error *err);

/* cab results ls: the cells matching F (each field a glob, NULL = any),
 * ordered by cell path, as an aligned table with a header or (JSON) one
 * object, schema cab.results.ls/v1 (runner/results/ls.c). */
struct cab_results_filter {
  const char *tui, *model, *task, *outcome, *sweep;
};
int cab_results_ls(struct sqlite3 *db, const struct cab_results_filter *f, bool json, FILE *out,
                   cab_error *err);

/* cab results show: one cell (a directory or its cell.json) read through
 * runner/record: identity, outcome, the strip, limits and what enforced
 * them, protection, artifacts; text or (JSON) schema cab.results.show/v1
 * (runner/results/show.c). */
int cab_results_show(const char *cell, bool json, FILE *out, cab_error *err);

/* cab compare A B (runner/results/compare.c): A and B each a cell's
 * directory, its cell.json or a results tree, read through the walker
 * (nothing written).  *DIFFER: a task's mean pass or composite differs, a
 * task is on one side only, or a cell flipped. */
int cab_results_compare(const char *a, const char *b, bool json, FILE *out, FILE *warn,
                        bool *differ, cab_error *err);

#endif
