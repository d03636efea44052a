/* The leaderboard's aggregates for one TUI x model, over the cells of an
 * optional family and language: runner/results' statistics (leaderboard_stats.h, the
 * ones `cab leaderboard` prints), applied to the report's cells so that the
 * site's numbers are the store's numbers, also under a filter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/internal.h"
#include "runner/results/leaderboard_stats.h"

static struct rnum
num(double v)
{
  return (struct rnum){isfinite(v), isfinite(v) ? v : 0};
}

static bool
cell_matches(const struct rcell *c, const char *family, const char *language)
{
  return (family == NULL || strcmp(c->family, family) == 0) &&
         (language == NULL || strcmp(c->language, language) == 0);
}

static double
or_nan(struct rnum v)
{
  return v.has ? v.v : NAN;
}

void
report_stats(const struct report *r, const struct rgroup *g, const char *family,
             const char *language, struct rstats *s)
{
  memset(s, 0, sizeof *s);
  struct cab_lb_cell *v = calloc(g->n + 1, sizeof *v);
  if (v == NULL)
    return;
  size_t n = 0;
  for (size_t k = 0; k < g->n; k++) {
    const struct rcell *c = &r->cells[g->cells[k]];
    if (!cell_matches(c, family, language))
      continue;
    v[n++] = (struct cab_lb_cell){
        .task = c->task_id,
        .infra = c->infra,
        .pass = or_nan(c->pass),
        .composite = or_nan(c->composite),
        .tokens = c->tokens_known ? c->total_tokens : NAN,
        .wall_ms = or_nan(c->wall_ms),
        .blast = or_nan(c->blast),
        .off_plan = (double)c->unexpected,
    };
  }
  struct cab_lb_stats st;
  cab_stats_group(v, n, &st);
  free(v);
  s->cells = st.cells;
  s->infra = st.infra;
  s->scored = st.scored;
  s->tasks = st.tasks;
  s->mean = num(st.composite);
  s->ci_lo = num(st.composite_ci.lo);
  s->ci_hi = num(st.composite_ci.hi);
  s->pass1 = num(st.pass_at_1);
  s->ships = num(st.ships);
  s->stays = num(st.stays);
  s->tokens = num(st.tokens);
  s->wall_s = num(st.wall_ms / 1000);
  s->unexpected = num(st.off_plan);
}

void
report_pareto(const struct rstats *stats, size_t n, bool by_tokens, bool *on_front)
{
  double *score = calloc(n + 1, sizeof *score), *cost = calloc(n + 1, sizeof *cost);
  if (score == NULL || cost == NULL) {
    memset(on_front, 0, n * sizeof *on_front);
  } else {
    for (size_t i = 0; i < n; i++) {
      struct rnum c = by_tokens ? stats[i].tokens : stats[i].wall_s;
      score[i] = or_nan(stats[i].mean);
      cost[i] = or_nan(c);
    }
    cab_stats_pareto(score, cost, n, on_front);
  }
  free(score);
  free(cost);
}
