/* The one walker of a results tree: every directory holding a cell.json,
 * with the tree's naming rules (runner/record/layout.h) applied once.
 * Hidden directories (.sweep, .staging-*) and "*.old-PID" asides are not
 * entered; "X.attempt-N" and ".attempt-N" are, and what is found below them
 * is an attempt at the cell named without the suffix.  Symlinks are not
 * followed. */
#ifndef CAB_RUNNER_RECORD_WALK_H
#define CAB_RUNNER_RECORD_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct cab_record_found {
  char *rel;        /* the cell's directory relative to the root ("." for the root) */
  long attempt;     /* 0 for a cell, N for one below an ".attempt-N" directory */
  char *attempt_of; /* attempts: rel without the ".attempt-N" */
  int64_t size, mtime_ns; /* of its cell.json */
};

struct cab_record_found_list {
  struct cab_record_found *v;
  size_t n, cap;
};

enum cab_record_walk_flags {
  /* A directory or cell.json that cannot be read is passed over (a report
   * shows what it can) instead of failing the walk. */
  CAB_RECORD_WALK_TOLERANT = 1 << 0,
  /* What is below a cell is part of it, not a cell of its own (merge copies
   * a cell whole).  The root's own cell.json does not stop the walk. */
  CAB_RECORD_WALK_OUTERMOST = 1 << 1,
};

/* Every cell below ROOT, sorted by rel. */
int cab_record_walk(const char *root, unsigned flags, struct cab_record_found_list *l,
                    cab_error *err);
void cab_record_found_free(struct cab_record_found_list *l);

#endif
