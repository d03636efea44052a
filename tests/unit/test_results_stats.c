/* Unit tests for the leaderboard's statistics (runner/results/leaderboard_stats.c), on
 * hand-computed examples: Student t critical values against the printed
 * tables, a 95% t interval worked by hand, a hand-made Pareto set, Stays on
 * mixed verdicts, and one TUI × model group with an infra_error cell. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "runner/results/internal.h"
#include "runner/results/leaderboard_stats.h"

#define assert_near(a, b, eps)                                                                     \
  do {                                                                                             \
    double a_ = (a), b_ = (b);                                                                     \
    if (!(fabs(a_ - b_) <= (eps)))                                                                 \
      fail_msg("%s = %.12g, expected %.12g (within %g)", #a, a_, b_, (double)(eps));               \
  } while (0)

/* Two-sided 95% critical values, as printed in any t table. */
static void
test_t_critical(void **state)
{
  (void)state;
  assert_near(cab_stats_t_critical(1, 0.05), 12.706204736, 1e-6);
  assert_near(cab_stats_t_critical(2, 0.05), 4.302652730, 1e-8);
  assert_near(cab_stats_t_critical(4, 0.05), 2.776445105, 1e-8);
  assert_near(cab_stats_t_critical(10, 0.05), 2.228138852, 1e-8);
  assert_near(cab_stats_t_critical(24, 0.05), 2.063898562, 1e-8);
  assert_near(cab_stats_t_critical(30, 0.05), 2.042272456, 1e-8);
  assert_near(cab_stats_t_critical(1e6, 0.05), 1.959966, 1e-5);
  assert_near(cab_stats_t_critical(INFINITY, 0.05), 1.959963985, 1e-8);
  assert_near(cab_stats_t_critical(5, 0.01), 4.032142984, 1e-8); /* 99% */
  assert_true(isnan(cab_stats_t_critical(0, 0.05)));
}

/* Per-task means 0.5, 0.7, 0.9: mean 0.7, s = sqrt((0.04 + 0 + 0.04) / 2)
 * = 0.2, s/sqrt(3) = 0.115470, t(0.975, 2) = 4.302653, so half = 0.496828
 * and the interval is [0.203172, 1.196828]. */
static void
test_t_ci_by_hand(void **state)
{
  (void)state;
  double x[] = {0.5, NAN, 0.7, 0.9}; /* NaN: a task with no value */
  struct cab_ci ci;
  cab_stats_t_ci95(x, 4, &ci);
  assert_int_equal(ci.n, 3);
  assert_near(ci.mean, 0.7, 1e-12);
  assert_near(ci.half, 0.4968275, 1e-6);
  assert_near(ci.lo, 0.2031725, 1e-6);
  assert_near(ci.hi, 1.1968275, 1e-6);

  double one[] = {0.42};
  cab_stats_t_ci95(one, 1, &ci);
  assert_int_equal(ci.n, 1);
  assert_near(ci.mean, 0.42, 1e-12);
  assert_true(isnan(ci.half) && isnan(ci.lo) && isnan(ci.hi));

  double same[] = {0.8, 0.8, 0.8};
  cab_stats_t_ci95(same, 3, &ci);
  assert_near(ci.half, 0, 1e-15);

  size_t used;
  double none[] = {NAN, NAN};
  assert_true(isnan(cab_stats_mean(none, 2, &used)));
  assert_int_equal(used, 0);
}

/* (cost, score):  A (100, 0.90)  on: nothing scores more for as little
 *                 B ( 50, 0.80)  on          C (200, 0.85)  A dominates
 *                 D ( 50, 0.70)  B dominates E ( 10, 0.50)  on: cheapest
 *                 F (NaN, 0.99)  no cost: never on it
 *                 G (100, 0.90)  equal to A: both on it
 *                 H ( 10, 0.40)  E dominates (same cost, lower score) */
static void
test_pareto_hand_set(void **state)
{
  (void)state;
  double cost[] = {100, 50, 200, 50, 10, NAN, 100, 10};
  double score[] = {0.90, 0.80, 0.85, 0.70, 0.50, 0.99, 0.90, 0.40};
  bool on[8];
  cab_stats_pareto(score, cost, 8, on);
  bool want[] = {true, true, false, false, true, false, true, false};
  for (int i = 0; i < 8; i++)
    if (on[i] != want[i])
      fail_msg("point %c: on the frontier = %d, expected %d", 'A' + i, on[i], want[i]);

  double s1[] = {0.5}, c1[] = {3};
  cab_stats_pareto(s1, c1, 1, on);
  assert_true(on[0]);
}

/* t1 1,1,1 stable; t2 1,0,1 not; t3 0,0 stable; t4 a single run (not
 * counted); t5 0, NaN (one verdict: not counted).  Stays = 2/3. */
static void
test_stays_mixed(void **state)
{
  (void)state;
  const char *task[] = {"t1", "t2", "t3", "t1", "t2", "t4", "t3", "t1", "t2", "t5", "t5"};
  double verdict[] = {1, 1, 0, 1, 0, 1, 0, 1, 1, 0, NAN};
  size_t considered;
  assert_near(cab_stats_stays(task, verdict, 11, &considered), 2.0 / 3.0, 1e-12);
  assert_int_equal(considered, 3);

  const char *lone[] = {"a", "b"};
  double v[] = {1, 0};
  assert_true(isnan(cab_stats_stays(lone, v, 2, &considered)));
  assert_int_equal(considered, 0);
}

/* One group: task A run 1 passes on plan, run 2 passes with one off-plan
 * file (blast 0.5), run 3 is an infra_error (with absurd values that must
 * not leak into any mean); B fails then passes; C fails once.
 *   pass@1    = (1+1+0+1+0)/5 = 0.6
 *   composite = (0.9+0.8+0.5+0.7+0.4)/5 = 0.66
 *   per-task composite means 0.85, 0.6, 0.4: mean 0.616667, s 0.225462,
 *     half = 4.302653 * 0.225462 / sqrt(3) = 0.560080
 *   per-task pass means 1, 0.5, 0: mean 0.5, s 0.5, half = 1.242069
 *   Ships = A1 and B2 of 5 = 0.4
 *   Stays: A (1,1) agrees, B (0,1) does not, C has one run: 1/2
 *   tokens: mean of 100, 300, 200, 400 (B1 recorded none) = 250
 *   wall 3000 ms; off-plan (0+1+0+0+2)/5 = 0.6 */
static void
test_group_by_hand(void **state)
{
  (void)state;
  struct cab_lb_cell c[] = {
      {"A", false, 1, 0.9, 100, 1000, 0, 0},
      {"A", false, 1, 0.8, 300, 2000, 0.5, 1},
      {"A", true, 1, 1.0, 9999, 60000, 0, 9},
      {"B", false, 0, 0.5, NAN, 3000, 0, 0},
      {"B", false, 1, 0.7, 200, 4000, 0, 0},
      {"C", false, 0, 0.4, 400, 5000, 0.4, 2},
  };
  struct cab_lb_stats s;
  cab_stats_group(c, 6, &s);
  assert_int_equal(s.cells, 6);
  assert_int_equal(s.infra, 1);
  assert_int_equal(s.scored, 5);
  assert_int_equal(s.tasks, 3);
  assert_near(s.pass_at_1, 0.6, 1e-12);
  assert_near(s.composite, 0.66, 1e-12);
  assert_near(s.composite_ci.mean, 0.6166667, 1e-6);
  assert_near(s.composite_ci.half, 0.5600799, 1e-6);
  assert_int_equal(s.composite_ci.n, 3);
  assert_near(s.pass_ci.mean, 0.5, 1e-12);
  assert_near(s.pass_ci.half, 1.2420689, 1e-6);
  assert_near(s.ships, 0.4, 1e-12);
  assert_near(s.stays, 0.5, 1e-12);
  assert_int_equal(s.stays_tasks, 2);
  assert_near(s.tokens, 250, 1e-9);
  assert_near(s.wall_ms, 3000, 1e-9);
  assert_near(s.off_plan, 0.6, 1e-12);
}

/* Only infra_error cells: counted, and every mean is "no value". */
static void
test_group_all_infra(void **state)
{
  (void)state;
  struct cab_lb_cell c[] = {
      {"A", true, 0, 0.2, 10, 100, 0, 0},
      {"B", true, 0, 0.2, 10, 100, 0, 0},
  };
  struct cab_lb_stats s;
  cab_stats_group(c, 2, &s);
  assert_int_equal(s.cells, 2);
  assert_int_equal(s.infra, 2);
  assert_int_equal(s.scored, 0);
  assert_true(isnan(s.pass_at_1) && isnan(s.composite) && isnan(s.ships) && isnan(s.stays));
  assert_true(isnan(s.composite_ci.half) && isnan(s.tokens) && isnan(s.wall_ms));
}

/* An axis without published columns: its column, from its row alone, is
 * "<key>" REAL holding its headline (NULL when null); today's table has
 * none, so the columns are the hand-placed ones. */
static void
test_generic_axis_column(void **state)
{
  (void)state;
  static const struct cab_axis_def speed = {.key = "speed", .headline = "speed_score"};
  struct cab_results_column c = cab_results_axis_column(&speed, 3);
  assert_string_equal(c.name, "speed");
  assert_int_equal(c.type, CAB_COL_REAL);

  struct cab_results_row row;
  memset(&row, 0, sizeof row);
  cJSON *scorers = cJSON_Parse("{\"speed\":{\"speed_score\":0.25,\"x\":1},"
                               "\"other\":{\"speed_score\":9}}");
  row.axis_headline[3] = cab_axis_headline(&speed, scorers).v;
  assert_true(*(const double *)((const char *)&row + c.offset) == 0.25);
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(scorers, "speed"), "speed_score",
                            cJSON_CreateNull());
  assert_false(cab_axis_headline(&speed, scorers).has);
  assert_false(cab_axis_headline(&speed, NULL).has);
  cJSON_Delete(scorers);

  size_t generic = 0;
  for (size_t a = 0; a < cab_n_axes; a++)
    generic += !cab_axes[a].published_columns;
  assert_int_equal(generic, 0);
  assert_int_equal(cab_results_n_columns(), 42);
  assert_string_equal(cab_results_column(0).name, "cell_id");
  assert_string_equal(cab_results_column(40).name, "cell_json_sha256");
  assert_string_equal(cab_results_column(41).name, "protection_level");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_t_critical),      cmocka_unit_test(test_t_ci_by_hand),
      cmocka_unit_test(test_pareto_hand_set), cmocka_unit_test(test_stays_mixed),
      cmocka_unit_test(test_group_by_hand),   cmocka_unit_test(test_group_all_infra),
      cmocka_unit_test(test_generic_axis_column),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
