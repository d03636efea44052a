/* A sweep's journal and lock, in OUT/<sweep_id>/.sweep/:
 *
 *   journal.jsonl  one JSON object per line, each appended with one write()
 *                  on an O_APPEND descriptor, so that a sweep killed at any
 *                  moment leaves whole lines (a torn last line is ignored
 *                  by readers and closed with a newline by the next writer):
 *                    {"event":"start","cell":KEY,"spec_sha256":..,"attempt":N,
 *                     "time":ISO,"plan_sha256":..}
 *                    {"event":"done", ... ,"outcome":O}   O is a cell outcome,
 *                     or "runner_error" when run-cell wrote no cell.json;
 *                     "cassette": the attempt's recorded cassette, relative
 *                     to OUT/<sweep_id>/ (a model with "record": true), or
 *                     "replayed": the cassette it replayed (sweep --replay)
 *   lock           flock: an unsharded sweep holds it exclusively; a shard
 *                  holds it shared and lock.shard-K-of-N exclusively, so
 *                  shards of one plan may share an output directory. */
#ifndef CAB_RUNNER_SWEEP_JOURNAL_H
#define CAB_RUNNER_SWEEP_JOURNAL_H

#include <cjson/cJSON.h>

#include "common/error.h"

struct cab_sweep_journal {
  int fd;
  int lock_fd, shard_lock_fd;
};

/* Take the lock (SHARD_N 0: unsharded) and open the journal for appending,
 * in META_DIR (created).  Fails with one line when another sweep holds it. */
int cab_sweep_journal_open(const char *meta_dir, unsigned shard_k, unsigned shard_n,
                           struct cab_sweep_journal *j, cab_error *err);
void cab_sweep_journal_close(struct cab_sweep_journal *j);

/* Append LINE (an object) as one line, with one write(). */
int cab_sweep_journal_append(struct cab_sweep_journal *j, const cJSON *line, cab_error *err);

/* Call CB on each well-formed line of META_DIR/journal.jsonl, in order; a
 * missing journal has no lines.  CB returning < 0 stops with that value. */
int cab_sweep_journal_read(const char *meta_dir, int (*cb)(const cJSON *line, void *arg),
                           void *arg, cab_error *err);

#endif
