/* Sharding: a deterministic partition of a sweep's cells into N shards,
 * balanced by expected time.  Greedy longest-processing-time: the cells,
 * heaviest first (ties by key, bytewise), each go to the shard with the
 * least load so far (ties to the lowest shard).  Every cell lands in exactly
 * one shard, and the loads differ by at most the heaviest cell's weight.
 * The partition depends only on the plan (keys and weights), never on what
 * has run, so shards on different hosts agree. */
#ifndef CAB_RUNNER_SWEEP_SHARD_H
#define CAB_RUNNER_SWEEP_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/sweep/cells.h"

/* SHARD_OF[i] gets the 0-based shard of cell i; LOADS (NSHARDS entries, may
 * be NULL) the summed weights. */
int cab_sweep_shard(const struct cab_sweep_cell *cells, size_t n, unsigned nshards,
                    unsigned *shard_of, int64_t *loads, cab_error *err);

/* "K/N" with 1 <= K <= N: *K is 1-based. */
int cab_sweep_parse_shard(const char *text, unsigned *k, unsigned *n, cab_error *err);

#endif
