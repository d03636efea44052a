/* The axis table: one row per scorer axis, in the order cell.json
 * publishes them under "scorers".  A row says the axis's key, how it is
 * scored from the artifacts (and the axes before it), how the CLI strip
 * shows it, and its headline figure.  cab_score_all and the strip loop over
 * it; so do the results columns (runner/results/columns.c) and the report's
 * cell page (runner/report/axis_figure.c) for every axis without
 * .published_columns.  A new axis is its scorer (scorers/<axis>.c, declared
 * in axes.c beside its row) and its row in axes.c.
 *
 * The eight axes of today keep hand-placed results columns (interleaved
 * with the cell's identity, in the schema's order) and hand-made report
 * figures, and typed figures in struct cab_scores (scorers/scores.h). */
#ifndef CAB_SCORERS_AXES_H
#define CAB_SCORERS_AXES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "scorers/scorers.h"

/* What an axis is scored from: the cell's inputs, the profile, and the
 * "scorers" object so far (the axes above it in the table). */
struct cab_axis_inputs {
  const struct cab_cell_inputs *in;
  const struct cab_profile *profile;
  cJSON *so_far;
};

struct cab_axis_def {
  const char *key;                                   /* under "scorers" in cell.json */
  cJSON *(*score)(const struct cab_axis_inputs *ai); /* the axis's object */
  /* The CLI strip ("Pass 1.000 | ... | Composite 0.999"): its label, NULL
   * when the axis is not in the strip, and its figure ("—" for none). */
  const char *strip_label;
  void (*strip_figure)(const struct cab_scores *s, char *buf, size_t size);
  /* The axis's headline figure: its key in the axis's object (a number or
   * null) and how the report prints it (a printf format for a double). */
  const char *headline;
  const char *headline_format;
  /* The seven published axes (and fidelity) have hand-placed columns in
   * results.db and hand-made figures in the report, in an order and shape
   * of their own.  Any other axis gets, from this row alone, a REAL column
   * named KEY appended after those columns (its headline, NULL when null)
   * and a figure row in the report's cell page (KEY, its headline). */
  bool published_columns;
};

/* Bounds the table, so per-axis arrays need no allocation. */
#define CAB_AXES_MAX 32

/* In the order cell.json publishes them; an axis may read those above it. */
extern const struct cab_axis_def cab_axes[];
extern const size_t cab_n_axes;

/* "Pass 1.000 | Tokens/correct 3080 | ... | Composite 0.999": every axis
 * with a strip label, in table order, into BUF. */
void cab_axes_strip(const struct cab_scores *s, char *buf, size_t size);

/* The headline figure of axis A in SCORERS (cell.json's "scorers" object,
 * NULL allowed): !has when absent, null or not a number. */
struct cab_num cab_axis_headline(const struct cab_axis_def *a, const cJSON *scorers);
/* That figure in A's format into BUF; "" when !has. */
void cab_axis_headline_format(const struct cab_axis_def *a, struct cab_num n, char *buf,
                              size_t size);

#endif
