/* The model-calls table: one row per record of model_calls.jsonl (the
 * proxy's log, read through runner/record/model_calls.h), with per-call
 * tokens, latency and finish reason.  The foot adds up the columns as
 * shown (the tokens axis's sum is the scorer's, on the cell's page). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/record/artifacts.h"
#include "runner/record/model_calls.h"
#include "runner/report/internal.h"

#define CALLS_READ_MAX (16u << 20)
#define CALLS_ROWS_MAX 5000

static void
num_td(FILE *f, struct rnum v)
{
  char buf[64];
  if (v.has)
    rh_fmt_int(buf, sizeof buf, v.v);
  else
    buf[0] = '\0';
  fprintf(f, "<td class=\"num\">%s</td>", buf);
}

static void
str_td(FILE *f, const char *s)
{
  fputs("<td>", f);
  rh_esc(f, s);
  fputs("</td>", f);
}

static struct rnum
rnum_of(struct cab_num v)
{
  return (struct rnum){v.has, v.v};
}

/* What the rows add up to, for the table's foot. */
struct calls_table {
  FILE *f;
  double sums[3], latency;
  size_t rows;
};

static void
call_row(const struct cab_model_call *call, void *arg)
{
  struct calls_table *t = arg;
  FILE *f = t->f;
  const struct cab_num tok[3] = {call->prompt_tokens, call->completion_tokens,
                                 call->total_tokens};
  for (int k = 0; k < 3; k++)
    t->sums[k] += tok[k].has ? tok[k].v : 0;
  t->latency += call->latency_ms.has ? call->latency_ms.v : 0;
  if (++t->rows > CALLS_ROWS_MAX)
    return;
  fputs("<tr>", f);
  num_td(f, call->seq.has ? rnum_of(call->seq) : (struct rnum){true, (double)t->rows});
  str_td(f, call->timestamp);
  const char *hash = call->request_sha256;
  fputs("<td class=\"hash\"><code title=\"", f);
  rh_esc(f, hash);
  fputs("\">", f);
  if (hash) {
    const char *hex = strncmp(hash, "sha256:", 7) == 0 ? hash + 7 : hash;
    rh_escn(f, hex, strnlen(hex, 12));
    if (strlen(hex) > 12)
      fputs("…", f);
  }
  fputs("</code></td>", f);
  for (int k = 0; k < 3; k++)
    num_td(f, rnum_of(tok[k]));
  char ms[32] = "";
  if (call->latency_ms.has)
    rh_fmt_ms(ms, sizeof ms, call->latency_ms.v);
  fprintf(f, "<td class=\"num\">%s</td>", ms);
  num_td(f, rnum_of(call->status));
  const cJSON *error = call->error;
  fputs("<td>", f);
  rh_esc(f, call->finish_reason);
  if (error && !cJSON_IsNull(error)) {
    fputs(" <span class=\"error\">", f);
    if (cJSON_IsString(error))
      rh_esc(f, error->valuestring);
    else
      rh_json_text(f, error);
    fputs("</span>", f);
  }
  fputs("</td></tr>\n", f);
}

int
report_cell_calls(FILE *f, const struct report *r, const struct rcell *c, cab_error *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  bool truncated = false;
  cab_error e2 = {0};
  int have = report_read_file(c->dirfd, CAB_CELL_MODEL_CALLS, CALLS_READ_MAX, &text, &len,
                              &truncated, &e2);
  size_t lines = 0;
  for (size_t i = 0; have == 0 && i < len; i++)
    lines += text[i] == '\n' || (i + 1 == len && text[i] != '\n');
  fprintf(f, "<section id=\"model-calls\">\n<h2>Model calls (%zu)</h2>\n", lines);
  if (have < 0 || lines == 0) {
    const char *source = c->rec.tokens_source;
    if (source && strcmp(source, "not recorded") == 0)
      fputs("<p class=\"empty\">Per-call token capture is not available for this run.</p>\n", f);
    else
      fputs(have < 0 ? "<p class=\"empty\">No model_calls.jsonl in this cell.</p>\n"
                     : "<p class=\"empty\">The agent made no model calls.</p>\n",
            f);
    fputs("</section>\n", f);
    return 0;
  }
  fputs("<table class=\"calls\">\n<thead><tr><th scope=\"col\">#</th><th scope=\"col\">Timestamp</th>"
        "<th scope=\"col\">Request hash</th><th scope=\"col\">Prompt</th>"
        "<th scope=\"col\">Completion</th><th scope=\"col\">Total</th><th scope=\"col\">Latency</th>"
        "<th scope=\"col\">Status</th><th scope=\"col\">Finish</th></tr></thead>\n<tbody>\n",
        f);
  struct calls_table t = {.f = f};
  size_t bad = cab_model_calls_each(text, len, 0, call_row, &t);
  fputs("</tbody>\n<tfoot><tr><th scope=\"row\" colspan=\"3\">total</th>", f);
  for (int k = 0; k < 3; k++)
    num_td(f, (struct rnum){true, t.sums[k]});
  char ms[32];
  rh_fmt_ms(ms, sizeof ms, t.latency);
  fprintf(f, "<td class=\"num\">%s</td><td></td><td></td></tr></tfoot>\n</table>\n", ms);
  if (t.rows > CALLS_ROWS_MAX)
    fprintf(f, "<p class=\"note\">The first %d of %zu calls are listed; the totals count all.</p>\n",
            CALLS_ROWS_MAX, t.rows);
  if (bad || truncated)
    fprintf(f, "<p class=\"note\">%zu unreadable line(s)%s.</p>\n", bad,
            truncated ? "; the file is longer than 16 MiB and was cut" : "");
  fputs("</section>\n", f);
  (void)r;
  (void)err;
  return 0;
}
