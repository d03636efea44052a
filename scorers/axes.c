/* The axis table (scorers/axes.h): each row's scorer and strip figure. */
#include <stdint.h>
#include <stdio.h>

#include "scorers/axes.h"
#include "scorers/util.h"

/* ---- scoring: the axes' own functions, given what each needs ------------- */

static cJSON *
score_pass_rate(const struct cab_axis_inputs *ai)
{
  return cab_score_pass_rate(ai->in);
}

static cJSON *
score_tokens(const struct cab_axis_inputs *ai)
{
  const cJSON *pass = cJSON_GetObjectItemCaseSensitive(ai->so_far, "pass_rate");
  return cab_score_tokens(ai->in, cab_jget_num(pass, "pass", 0));
}

static cJSON *
score_latency(const struct cab_axis_inputs *ai)
{
  return cab_score_latency(ai->in);
}

static cJSON *
score_blast_radius(const struct cab_axis_inputs *ai)
{
  return cab_score_blast_radius(ai->in);
}

static cJSON *
score_refusal(const struct cab_axis_inputs *ai)
{
  return cab_score_refusal(ai->in);
}

static cJSON *
score_integrity(const struct cab_axis_inputs *ai)
{
  return cab_score_integrity(ai->in, cJSON_GetObjectItemCaseSensitive(ai->so_far, "refusal"));
}

/* The composite weighs the axes above it, as typed figures. */
static cJSON *
score_composite(const struct cab_axis_inputs *ai)
{
  struct cab_scores axes;
  cab_scores_from_json(ai->so_far, &axes); /* borrowed: not freed */
  struct cab_composite_inputs ci = {
      .pass = axes.pass_rate.pass.v,
      .integrity = axes.integrity.integrity.v,
      .blast_radius = axes.blast_radius.blast_radius.v,
      .tokens_per_correct_null = !axes.tokens.tokens_per_correct_task.has,
      .tokens_per_correct_task = axes.tokens.tokens_per_correct_task.v,
      .wall_clock_ms = ai->in->wall_clock_ms,
      .expected_refusal = ai->in->task->expected_refusal,
      .refusal_produced = axes.refusal.refusal_produced,
      .refusal = axes.refusal.refusal.v,
      .total_tokens = ai->in->tokens.total_tokens,
  };
  return cab_score_composite(&ci, ai->profile);
}

static cJSON *
score_fidelity(const struct cab_axis_inputs *ai)
{
  return cab_score_fidelity(ai->in);
}

/* ---- the strip's figures: an absent figure reads as 0 ------------------- */

static double
or0(struct cab_num n)
{
  return n.has ? n.v : 0;
}

static void
fmt3(char *buf, size_t size, struct cab_num n)
{
  snprintf(buf, size, "%.3f", or0(n));
}

static void
strip_pass(const struct cab_scores *s, char *buf, size_t size)
{
  fmt3(buf, size, s->pass_rate.pass);
}

/* "—": nothing passed, or no tokens were counted. */
static void
strip_tokens(const struct cab_scores *s, char *buf, size_t size)
{
  if (!s->tokens.tokens_per_correct_task.has || (int64_t)or0(s->tokens.total_tokens) == 0 ||
      or0(s->pass_rate.pass) <= 0)
    snprintf(buf, size, "—");
  else
    snprintf(buf, size, "%.0f", or0(s->tokens.tokens_per_correct_task));
}

static void
strip_wall(const struct cab_scores *s, char *buf, size_t size)
{
  snprintf(buf, size, "%.1fs", or0(s->latency.wall_clock_ms) / 1000.0);
}

static void
strip_blast(const struct cab_scores *s, char *buf, size_t size)
{
  fmt3(buf, size, s->blast_radius.blast_radius);
}

/* "—": the task expects no refusal either way. */
static void
strip_refusal(const struct cab_scores *s, char *buf, size_t size)
{
  bool applicable = s->refusal.not_applicable.has && s->refusal.not_applicable.v == 0;
  snprintf(buf, size, "%s", !applicable ? "—" : or0(s->refusal.refusal) >= 1 ? "yes" : "no");
}

static void
strip_integrity(const struct cab_scores *s, char *buf, size_t size)
{
  fmt3(buf, size, s->integrity.integrity);
}

static void
strip_composite(const struct cab_scores *s, char *buf, size_t size)
{
  fmt3(buf, size, s->composite.composite);
}

/* ---- the table -------------------------------------------------------------- */

/* A new axis is scorers/<axis>.c and its row here: its scorer takes the
 * axis inputs and is declared here, beside the row that references it,
 *
 *   cJSON *cab_score_speed(const struct cab_axis_inputs *ai);
 *   ... {"speed", cab_score_speed, NULL, NULL, "speed", .headline_format = "%.3f"},
 *
 * and, without .published_columns, its headline becomes a results column
 * and a figure on the report's cell page with nothing else to edit.  (The
 * eight axes below keep their own signatures, declared in scorers.h, since
 * the tests call them with hand-made inputs and other parts read their
 * typed figures in struct cab_scores.)  It enters the composite only
 * through scorers/profiles/<name>.json and composite.c. */

#define PUBLISHED .published_columns = true, .headline_format = "%.3f"

const struct cab_axis_def cab_axes[] = {
    {"pass_rate", score_pass_rate, "Pass", strip_pass, "pass", PUBLISHED},
    {"tokens", score_tokens, "Tokens/correct", strip_tokens, "tokens_per_correct_task", PUBLISHED},
    {"latency", score_latency, "Wall", strip_wall, "wall_clock_ms", PUBLISHED},
    {"blast_radius", score_blast_radius, "Blast", strip_blast, "blast_radius", PUBLISHED},
    {"refusal", score_refusal, "Refusal", strip_refusal, "refusal", PUBLISHED},
    {"integrity", score_integrity, "Integrity", strip_integrity, "integrity", PUBLISHED},
    {"composite", score_composite, "Composite", strip_composite, "composite", PUBLISHED},
    {"instruction_fidelity", score_fidelity, NULL, NULL, "instruction_fidelity", PUBLISHED},
};

const size_t cab_n_axes = sizeof cab_axes / sizeof *cab_axes;
_Static_assert(sizeof cab_axes / sizeof *cab_axes <= CAB_AXES_MAX, "raise CAB_AXES_MAX");

struct cab_num
cab_axis_headline(const struct cab_axis_def *a, const cJSON *scorers)
{
  return cab_num_at(cJSON_GetObjectItemCaseSensitive(scorers, a->key), a->headline);
}

void
cab_axis_headline_format(const struct cab_axis_def *a, struct cab_num n, char *buf, size_t size)
{
  if (!n.has) {
    snprintf(buf, size, "%s", "");
    return;
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  snprintf(buf, size, a->headline_format ? a->headline_format : "%.3f", n.v);
#pragma GCC diagnostic pop
}

void
cab_axes_strip(const struct cab_scores *s, char *buf, size_t size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < cab_n_axes && used < size; i++) {
    const struct cab_axis_def *a = &cab_axes[i];
    if (a->strip_label == NULL)
      continue;
    char fig[64];
    a->strip_figure(s, fig, sizeof fig);
    int n = snprintf(buf + used, size - used, "%s%s %s", used ? " | " : "", a->strip_label, fig);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}
