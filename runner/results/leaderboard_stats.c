/* The leaderboard's statistics (see leaderboard_stats.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/results/leaderboard_stats.h"

/* Continued fraction for the incomplete beta (modified Lentz). */
static double
betacf(double a, double b, double x)
{
  const double tiny = 1e-300, eps = 1e-15;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (fabs(d) < tiny)
    d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; m++) {
    int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny)
      d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny)
      d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < eps)
      break;
  }
  return h;
}

static double
lgam(double x)
{
  int sign;
  return lgamma_r(x, &sign);
}

/* The regularized incomplete beta I_x(a, b). */
static double
ibeta(double a, double b, double x)
{
  if (x <= 0)
    return 0;
  if (x >= 1)
    return 1;
  double front = exp(lgam(a + b) - lgam(a) - lgam(b) + a * log(x) + b * log1p(-x));
  if (x < (a + 1) / (a + b + 2))
    return front * betacf(a, b, x) / a;
  return 1 - front * betacf(b, a, 1 - x) / b;
}

/* P(|T| > t) for Student's t with DF degrees of freedom (normal when DF is infinite). */
static double
t_two_tail(double t, double df)
{
  if (!isfinite(df))
    return erfc(t / sqrt(2));
  return ibeta(df / 2, 0.5, df / (df + t * t));
}

double
cab_stats_t_critical(double df, double alpha)
{
  if (!(df > 0) || !(alpha > 0 && alpha < 1))
    return NAN;
  double lo = 0, hi = 1;
  for (int i = 0; i < 200 && t_two_tail(hi, df) > alpha; i++)
    hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    double mid = (lo + hi) / 2;
    if (t_two_tail(mid, df) > alpha)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

double
cab_stats_mean(const double *x, size_t n, size_t *used)
{
  double sum = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i])) {
      sum += x[i];
      k++;
    }
  if (used)
    *used = k;
  return k ? sum / (double)k : NAN;
}

void
cab_stats_t_ci95(const double *x, size_t n, struct cab_ci *ci)
{
  ci->mean = cab_stats_mean(x, n, &ci->n);
  ci->half = ci->lo = ci->hi = NAN;
  if (ci->n < 2)
    return;
  double ss = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i]))
      ss += (x[i] - ci->mean) * (x[i] - ci->mean);
  double k = (double)ci->n;
  double s = sqrt(ss / (k - 1));
  ci->half = cab_stats_t_critical(k - 1, 0.05) * s / sqrt(k);
  ci->lo = ci->mean - ci->half;
  ci->hi = ci->mean + ci->half;
}

void
cab_stats_pareto(const double *score, const double *cost, size_t n, bool *on)
{
  for (size_t i = 0; i < n; i++) {
    on[i] = isfinite(score[i]) && isfinite(cost[i]);
    for (size_t j = 0; j < n && on[i]; j++) {
      if (j == i || !isfinite(score[j]) || !isfinite(cost[j]))
        continue;
      if (score[j] >= score[i] && cost[j] <= cost[i] && (score[j] > score[i] || cost[j] < cost[i]))
        on[i] = false;
    }
  }
}

double
cab_stats_stays(const char *const *task, const double *verdict, size_t n, size_t *considered)
{
  size_t tasks = 0, stable = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(verdict[i]))
      continue;
    bool first = true;
    for (size_t j = 0; j < i && first; j++)
      if (isfinite(verdict[j]) && strcmp(task[j], task[i]) == 0)
        first = false;
    if (!first)
      continue;
    size_t runs = 0;
    bool same = true;
    for (size_t j = i; j < n; j++)
      if (isfinite(verdict[j]) && strcmp(task[j], task[i]) == 0) {
        runs++;
        same = same && verdict[j] == verdict[i];
      }
    if (runs >= 2) {
      tasks++;
      stable += same;
    }
  }
  if (considered)
    *considered = tasks;
  return tasks ? (double)stable / (double)tasks : NAN;
}

void
cab_stats_group(const struct cab_lb_cell *cells, size_t n, struct cab_lb_stats *s)
{
  memset(s, 0, sizeof *s);
  s->cells = n;
  s->pass_at_1 = s->composite = s->ships = s->stays = NAN;
  s->tokens = s->wall_ms = s->off_plan = NAN;
  s->composite_ci = s->pass_ci = (struct cab_ci){NAN, NAN, NAN, NAN, 0};
  for (size_t i = 0; i < n; i++)
    s->infra += cells[i].infra;
  s->scored = n - s->infra;
  if (s->scored == 0)
    return;

  /* Columns of the scored cells; per-task means in first-seen order. */
  size_t k = s->scored;
  double *buf = calloc(8 * k, sizeof *buf);
  const char **task = calloc(k, sizeof *task);
  if (buf == NULL || task == NULL) {
    free(buf);
    free(task);
    return;
  }
  double *pass = buf, *comp = buf + k, *tokens = buf + 2 * k, *wall = buf + 3 * k;
  double *off = buf + 4 * k, *ship = buf + 5 * k, *task_comp = buf + 6 * k;
  double *task_pass = buf + 7 * k;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const struct cab_lb_cell *c = &cells[i];
    if (c->infra)
      continue;
    task[m] = c->task;
    pass[m] = c->pass;
    comp[m] = c->composite;
    tokens[m] = c->tokens;
    wall[m] = c->wall_ms;
    off[m] = c->off_plan;
    ship[m] = isfinite(c->pass) ? (c->pass == 1 && c->blast == 0) : NAN;
    m++;
  }
  s->pass_at_1 = cab_stats_mean(pass, k, NULL);
  s->composite = cab_stats_mean(comp, k, NULL);
  s->ships = cab_stats_mean(ship, k, NULL);
  s->tokens = cab_stats_mean(tokens, k, NULL);
  s->wall_ms = cab_stats_mean(wall, k, NULL);
  s->off_plan = cab_stats_mean(off, k, NULL);
  s->stays = cab_stats_stays(task, pass, k, &s->stays_tasks);

  /* Each task's reruns averaged first; the interval is over tasks. */
  size_t nt = 0;
  for (size_t i = 0; i < k; i++) {
    bool first = true;
    for (size_t j = 0; j < i && first; j++)
      first = strcmp(task[j], task[i]) != 0;
    if (!first)
      continue;
    double sc = 0, sp = 0, nc = 0, np = 0;
    for (size_t j = i; j < k; j++) {
      if (strcmp(task[j], task[i]) != 0)
        continue;
      if (isfinite(comp[j]))
        sc += comp[j], nc++;
      if (isfinite(pass[j]))
        sp += pass[j], np++;
    }
    task_comp[nt] = nc ? sc / nc : NAN;
    task_pass[nt] = np ? sp / np : NAN;
    nt++;
  }
  s->tasks = nt;
  cab_stats_t_ci95(task_comp, nt, &s->composite_ci);
  cab_stats_t_ci95(task_pass, nt, &s->pass_ci);
  free(buf);
  free(task);
}
