/* cell.json, typed: the one reader and the one writer of a cell's record.
 *
 * Everyone who reads a cell (the scorers' artifact loader, `cab index`, the
 * report, the sweep, `cab tasks validate`) reads it with
 * cab_cell_record_read(); run-cell writes it with cab_cell_record_write().
 * Every field more than one place reads is typed here; the sections that
 * stay untyped (the task as run, the environment's details, the spans, the
 * model section's extras) are reachable as cJSON.
 *
 * The writer reproduces the cell.json run-cell has always written, byte for
 * byte: the published key order (cab.cell/v1, the seed pages' schema),
 * shortest round-trip numbers (cab_json_print), null for an absent image
 * digest and run, two-space indentation and a final newline. */
#ifndef CAB_RUNNER_RECORD_CELL_RECORD_H
#define CAB_RUNNER_RECORD_CELL_RECORD_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "common/error.h"
#include "scorers/scores.h"

#define CAB_CELL_SCHEMA "cab.cell/v1"

/* The largest cell.json read: it holds every span, generous but bounded. */
#define CAB_CELL_JSON_MAX (64u << 20)

/* What the reader returns on failure (ERR says it in words): */
enum {
  CAB_CELL_RECORD_UNREADABLE = -1, /* the OS's error */
  CAB_CELL_RECORD_NOT_JSON = -2,   /* not valid JSON, or over CAB_CELL_JSON_MAX */
  CAB_CELL_RECORD_NOT_OBJECT = -3, /* valid JSON, not an object */
};

/* The model section: the proxy's totals. */
struct cab_cell_model {
  bool present;              /* cell.json has a "model" object (cab's proxy saw every call) */
  bool network;
  struct cab_num model_calls, prompt_tokens, completion_tokens, total_tokens, model_call_ms;
  struct cab_num ok, infra_errors, client_errors;
  /* The rest, written after the totals in its own order (the counts present
   * only when not zero, the cassettes, the refused hosts).  The writer skips
   * the keys typed above, so the reader's whole object round-trips. */
  const cJSON *json;
};

struct cab_cell_record {
  /* identity; a string absent or of another type reads as NULL */
  const char *schema, *cell_id, *sweep_id, *tui, *container_image;
  const char *image_digest;  /* NULL: null (no image: host-rootfs) */
  const char *model_build_id, *task_id, *family;
  struct cab_num run;        /* !has: null (a cell outside a sweep's runs) */
  struct cab_num exit_code;  /* the agent's */
  const char *prompt_sha256; /* NULL: not written */
  const char *task_prompt_sha256; /* older records kept it in the task (read only) */

  /* timing */
  const char *started_at, *ended_at;
  struct cab_num duration_s;
  struct {
    struct cab_num wall_clock_ms, container_active_ms;
    /* older records kept the timestamps here */
    const char *started_at, *ended_at;
  } timing;

  /* outcome */
  const char *tokens_source, *outcome, *outcome_reason;
  bool has_scores; /* the record holds "scorers" (the final record does) */
  struct cab_scores scores;

  struct {
    struct cab_num exit_code, wall_ms;
    bool timed_out;
  } verify;

  struct cab_cell_model model;

  const cJSON *task; /* the task definition as run (task.json verbatim) */
  const char *task_language; /* its "language" (read only) */

  struct {
    const char *cab_version, *scoring_profile, *methodology_version;
    /* The agent's limits as it ran, in "limits" after the mechanisms that
     * enforced them: memory_bytes, cpus (null: no cpu limit), pids_max
     * ("pids" is the mechanism that enforced it), timeout_s and max_turns
     * (run-cell --timeout and --max-turns, else the task's; null: no turn
     * budget).
     * Records older than them have none (has_values false): the writer
     * then adds none. */
    struct {
      bool has_values;
      struct cab_num memory_bytes, cpus, pids_max, timeout_s, max_turns;
    } limits;
    /* the rest: kernel, root, limits' mechanisms, verifier...; the writer
     * skips the keys typed above, so the reader's whole object round-trips */
    const cJSON *json;
  } environment;

  const cJSON *spans; /* NULL: not written */

  /* The real API key was found in the cell's files and replaced
   * (runner/cell/cell_redact.c): written last, only when true. */
  bool key_redacted;
  const cJSON *key_redacted_in; /* the files: an array of strings */

  cJSON *doc; /* the reader's parsed file, which the pointers above point into */
};

/* Read DIR/cell.json (relative to DIRFD, which may be AT_FDCWD; DIR NULL:
 * DIRFD is the cell's directory): a regular file, never through a symlink,
 * at most CAB_CELL_JSON_MAX bytes.  Errors name the file as it was opened:
 * "DIR/cell.json: not valid JSON (near byte N)".  0, or a CAB_CELL_RECORD_*
 * below 0. */
int cab_cell_record_read(int dirfd, const char *dir, struct cab_cell_record *r, cab_error *err);
/* The same from TEXT; NAME names it in errors. */
int cab_cell_record_parse(const char *text, size_t len, const char *name,
                          struct cab_cell_record *r, cab_error *err);
/* What the record owns: DOC and the scores. */
void cab_cell_record_free(struct cab_cell_record *r);

/* cell.json as text (cab_json_print, pretty, with the final newline). */
char *cab_cell_record_render(const struct cab_cell_record *r, size_t *len);
/* Write DIR/cell.json: temporary file and rename. */
int cab_cell_record_write(const char *dir, const struct cab_cell_record *r, cab_error *err);

#endif
