/* The model-calls table: one row per record of model_calls.jsonl (the
 * proxy's log), with per-call tokens, latency and finish reason. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/record/artifacts.h"
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
  double sums[3] = {0, 0, 0}, latency = 0;
  size_t rows = 0, bad = 0;
  static const char *const tok[] = {"prompt_tokens", "completion_tokens", "total_tokens"};
  for (size_t i = 0; i < len;) {
    const char *line = text + i;
    const char *end = memchr(line, '\n', len - i);
    size_t n = end ? (size_t)(end - line) : len - i;
    i += n + 1;
    if (n == 0)
      continue;
    cJSON *j = cJSON_ParseWithLength(line, n);
    if (!cJSON_IsObject(j)) {
      bad++;
      cJSON_Delete(j);
      continue;
    }
    for (int k = 0; k < 3; k++) {
      struct rnum v = report_jnum(j, tok[k]);
      sums[k] += v.has ? v.v : 0;
    }
    struct rnum lat = report_jnum(j, "latency_ms");
    latency += lat.has ? lat.v : 0;
    if (++rows > CALLS_ROWS_MAX) {
      cJSON_Delete(j);
      continue;
    }
    struct rnum seq = report_jnum(j, "seq");
    fputs("<tr>", f);
    num_td(f, seq.has ? seq : (struct rnum){true, (double)rows});
    str_td(f, report_jstr(j, "timestamp"));
    const char *hash = report_jstr(j, "request_sha256");
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
      num_td(f, report_jnum(j, tok[k]));
    char ms[32] = "";
    if (lat.has)
      rh_fmt_ms(ms, sizeof ms, lat.v);
    fprintf(f, "<td class=\"num\">%s</td>", ms);
    num_td(f, report_jnum(j, "status"));
    const char *finish = report_jstr(j, "finish_reason");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
    fputs("<td>", f);
    rh_esc(f, finish);
    if (error && !cJSON_IsNull(error)) {
      fputs(" <span class=\"error\">", f);
      if (cJSON_IsString(error))
        rh_esc(f, error->valuestring);
      else
        rh_json_text(f, error);
      fputs("</span>", f);
    }
    fputs("</td></tr>\n", f);
    cJSON_Delete(j);
  }
  fputs("</tbody>\n<tfoot><tr><th scope=\"row\" colspan=\"3\">total</th>", f);
  for (int k = 0; k < 3; k++)
    num_td(f, (struct rnum){true, sums[k]});
  char ms[32];
  rh_fmt_ms(ms, sizeof ms, latency);
  fprintf(f, "<td class=\"num\">%s</td><td></td><td></td></tr></tfoot>\n</table>\n", ms);
  if (rows > CALLS_ROWS_MAX)
    fprintf(f, "<p class=\"note\">The first %d of %zu calls are listed; the totals count all.</p>\n",
            CALLS_ROWS_MAX, rows);
  if (bad || truncated)
    fprintf(f, "<p class=\"note\">%zu unreadable line(s)%s.</p>\n", bad,
            truncated ? "; the file is longer than 16 MiB and was cut" : "");
  fputs("</section>\n", f);
  (void)r;
  (void)err;
  return 0;
}
