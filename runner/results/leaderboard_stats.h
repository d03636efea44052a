/* The leaderboard's statistics, pure functions on arrays (unit-tested on
 * hand-computed examples in tests/unit/test_results_stats.c).
 *
 * NaN is "no value" throughout: it is skipped by the means and never on a
 * Pareto frontier. */
#ifndef CAB_RUNNER_RESULTS_LEADERBOARD_STATS_H
#define CAB_RUNNER_RESULTS_LEADERBOARD_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Two-sided critical value of Student's t with DF degrees of freedom:
 * P(|T| > t) = ALPHA (t(0.05, 2) = 4.3027, t(0.05, inf) -> 1.9600). */
double cab_stats_t_critical(double df, double alpha);

/* Mean of the finite values of X[0..N), and how many there were (NaN when none). */
double cab_stats_mean(const double *x, size_t n, size_t *used);

/* A Student t 95% interval for the mean of the finite values of X:
 * mean ± t(0.05, n-1)·s/√n, s the sample standard deviation (n-1).  With
 * fewer than 2 values, half (and lo, hi) are NaN. */
struct cab_ci {
  double mean, half, lo, hi;
  size_t n;
};
void cab_stats_t_ci95(const double *x, size_t n, struct cab_ci *ci);

/* The Pareto frontier, higher SCORE and lower COST better: ON[i] is true
 * when no other point has score >= and cost <= with one of them strict.
 * Points with a NaN score or cost are never on it; equal points both are. */
void cab_stats_pareto(const double *score, const double *cost, size_t n, bool *on);

/* One TUI × model group's cells, in any order. */
struct cab_lb_cell {
  const char *task;   /* task_id: the reruns of a task share it */
  bool infra;         /* outcome infra_error: counted, left out of every mean */
  double pass;        /* 0/1 */
  double composite;
  double tokens;      /* total tokens (NaN: not recorded) */
  double wall_ms;
  double blast;       /* blast_radius */
  double off_plan;    /* unexpected_changes, the count */
};

struct cab_lb_stats {
  size_t cells, infra, scored; /* scored = cells - infra */
  size_t tasks;                /* tasks with a scored cell: the CI's n */
  double pass_at_1;            /* mean pass over scored cells */
  double composite;            /* mean composite over scored cells */
  struct cab_ci composite_ci;  /* t interval over per-task mean composites */
  struct cab_ci pass_ci;       /* t interval over per-task mean passes */
  double ships;                /* scored cells that pass with blast_radius == 0 */
  double stays;                /* tasks (>= 2 scored reruns) whose reruns agree on pass */
  size_t stays_tasks;          /* Stays' denominator */
  double tokens, wall_ms, off_plan; /* Costs: means over scored cells */
};

/* Aggregate one group.  The cells are not reordered. */
void cab_stats_group(const struct cab_lb_cell *cells, size_t n, struct cab_lb_stats *s);

/* Stays alone: of the tasks with at least 2 verdicts, the fraction whose
 * verdicts (VERDICT[i] for TASK[i]) are all equal; *CONSIDERED gets how many
 * such tasks there were.  NaN when none. */
double cab_stats_stays(const char *const *task, const double *verdict, size_t n,
                       size_t *considered);

#endif
