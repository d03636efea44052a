/* The results tree: where each cell's directory is, and the names of what
 * stands beside it for a while.
 *
 *   OUT/<sweep>/<tui>/<model>/<family>/<task>[/run-N]/   a cell
 *   OUT/<sweep>/.sweep/                 the sweep's journal, plan and logs
 *   .../.staging-<leaf>-<pid>-XXXXXX/   run-cell builds a cell here, then renames it
 *   .../.merge-<leaf>-<pid>-XXXXXX/     cab merge builds a copied cell here, then renames it
 *   .../<leaf>.old-<pid>/               the previous cell, moved aside while publishing
 *   .../<leaf>.attempt-<N>/             an earlier attempt at the cell (sweep retries)
 *
 * The model id may hold '/' (vendor/name) and the task id is <family>/<task>:
 * both nest as directories.  Directories starting with '.' and "*.old-PID"
 * are never cells; "X.attempt-N" and ".attempt-N" hold attempts at X. */
#ifndef CAB_RUNNER_RECORD_LAYOUT_H
#define CAB_RUNNER_RECORD_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

#define CAB_RECORD_STAGING_PREFIX ".staging-"
#define CAB_RECORD_MERGE_PREFIX ".merge-"
#define CAB_RECORD_OLD_INFIX ".old-"
#define CAB_RECORD_ATTEMPT_INFIX ".attempt-"
#define CAB_RECORD_SWEEP_META ".sweep"

/* OUT/<sweep> into BUF; -1 with ENAMETOOLONG in ERR when it does not fit. */
int cab_record_sweep_dir(char *buf, size_t size, const char *out, const char *sweep_id,
                         cab_error *err);

/* OUT/<sweep>/.sweep into BUF. */
int cab_record_sweep_meta_dir(char *buf, size_t size, const char *out, const char *sweep_id,
                              cab_error *err);

/* "<tui>/<model>/<task>[/run-N]": the cell's directory below OUT/<sweep>/
 * (RUN 0: no run level).  Malloc'd, NULL with errno set. */
char *cab_record_cell_key(const char *tui, const char *model, const char *task_id, int run);

/* OUT/<sweep>/<key> into BUF; -1 with ENAMETOOLONG in ERR when it does not fit. */
int cab_record_cell_dir(char *buf, size_t size, const char *out, const char *sweep_id,
                        const char *tui, const char *model, const char *task_id, int run,
                        cab_error *err);

/* PARENT/.staging-LEAF-PID-XXXXXX (a mkdtemp template) into BUF. */
int cab_record_staging_template(char *buf, size_t size, const char *parent, const char *leaf,
                                pid_t pid, cab_error *err);

/* PARENT/.merge-LEAF-PID-XXXXXX (a mkdtemp template) into BUF. */
int cab_record_merge_template(char *buf, size_t size, const char *parent, const char *leaf,
                              pid_t pid, cab_error *err);

/* CELL_DIR.old-PID into BUF. */
int cab_record_aside_path(char *buf, size_t size, const char *cell_dir, pid_t pid,
                          cab_error *err);

/* BASE.attempt-N into BUF (BASE a leaf or a path). */
int cab_record_attempt_path(char *buf, size_t size, const char *base, int attempt,
                            cab_error *err);

/* "X.attempt-N" or ".attempt-N": N (> 0) and the length of X; else 0. */
long cab_record_attempt_suffix(const char *name, size_t *stem_len);

/* "NAME.old-PID": a cell moved aside while another replaced it. */
bool cab_record_is_aside(const char *name);

/* LEAF.old-PID: the pid, or 0 when NAME is not an aside of LEAF. */
long cab_record_aside_of(const char *name, const char *leaf);

#endif
