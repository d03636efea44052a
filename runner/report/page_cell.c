/* cell/<cell dir>/index.html: one cell, section by section as the published
 * cell page (header, per-axis strip, run identity, timing, cab's
 * protection table (not on the published page), scorer
 * breakdown, trace replay, terminal playback, run it yourself, explore with
 * your own model, trace spans, model calls), then the diff, the logs, the
 * downloads, related cells and the badge. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lines.h"
#include "common/strfmt.h"
#include "runner/record/artifacts.h"
#include "runner/report/internal.h"
#include "scorers/axes.h"

#define DIFF_MAX (2u << 20)
#define LOG_MAX (512u << 10)
#define RELATED_MAX 30

int
report_cell_title(FILE *f, const struct rcell *c, const char *up, cab_error *err)
{
  fputs("<h1><span class=\"tui\">", f);
  rh_esc(f, c->tui);
  fputs("</span> × <span class=\"model\">", f);
  rh_esc(f, c->model);
  fputs("</span></h1>\n<p class=\"crumbs\"><span class=\"family\">", f);
  rh_esc(f, c->family);
  fputs("</span> · ", f);
  char target[4300];
  if (cab_path_printf(target, sizeof target, err, "%s/index.html", c->task->page) < 0)
    return cab_error_prefix(err, "report");
  rh_link(f, up, target, *c->task_id ? c->task_id : "(unknown task)");
  fputs(" · sweep <code>", f);
  rh_esc(f, c->sweep);
  fputs("</code>", f);
  return 0;
}

static int
header(FILE *f, const struct report *r, const struct rcell *c, const char *up, cab_error *err)
{
  if (report_cell_title(f, c, up, err) < 0)
    return -1;
  char target[4300];
  if (c->run)
    fprintf(f, " · run %ld", c->run);
  fputs(" · ", f);
  if (cab_path_printf(target, sizeof target, err, "%s/index.html", c->group->page) < 0)
    return cab_error_prefix(err, "report");
  rh_link(f, up, target, "all cells of this TUI × model");
  fputs("</p>\n", f);
  if (strcmp(c->outcome, "infra_error") == 0 || strcmp(c->outcome, "agent_error") == 0 ||
      strcmp(c->outcome, "timeout") == 0) {
    fputs("<p class=\"banner\" id=\"banner\">Outcome <b>", f);
    rh_esc(f, c->outcome);
    fputs("</b>: ", f);
    rh_esc(f, c->rec.outcome_reason);
    fputs(c->infra ? ". Infra, not capability: this cell is left out of the leaderboard's means."
                   : ". All scores are reported as recorded. A failed run's zero is an honest "
                     "measurement.",
          f);
    fputs("</p>\n", f);
  }
  return 0;
}

static void
strip_item(FILE *f, const char *name, const char *value)
{
  fprintf(f, "<div><dt>%s</dt><dd>", name);
  rh_esc(f, value);
  fputs("</dd></div>", f);
}

static void
strip(FILE *f, const struct rcell *c)
{
  char buf[64];
  fputs("<section id=\"scores\">\n<h2>Per-axis scores</h2>\n<dl class=\"strip\">", f);
  rh_fmt3(buf, sizeof buf, c->pass);
  strip_item(f, "Pass", buf);
  if (c->tokens_per_correct.has)
    rh_fmt_int(buf, sizeof buf, c->tokens_per_correct.v);
  else
    buf[0] = '\0';
  strip_item(f, "Tokens/correct", buf);
  rh_fmt_wall(buf, sizeof buf, c->wall_ms);
  strip_item(f, "Wall", buf);
  rh_fmt3(buf, sizeof buf, c->blast);
  strip_item(f, "Blast", buf);
  strip_item(f, "Refusal", !c->refusal_applicable ? "" : c->refusal.v >= 1 ? "yes" : "no");
  rh_fmt3(buf, sizeof buf, c->integrity);
  strip_item(f, "Integrity", buf);
  for (size_t i = 0; i < cab_n_axes; i++)
    if (!cab_axes[i].published_columns)
      report_axis_figure(f, &cab_axes[i], c->rec.scores.json);
  rh_fmt3(buf, sizeof buf, c->composite);
  fputs("<div class=\"composite\"><dt>Composite</dt><dd>", f);
  rh_esc(f, buf);
  fputs("</dd></div></dl>\n<p>Outcome <b class=\"outcome\">", f);
  rh_esc(f, c->outcome);
  fputs("</b>", f);
  const char *reason = c->rec.outcome_reason;
  if (reason) {
    fputs(": ", f);
    rh_esc(f, reason);
  }
  fputs("</p>\n</section>\n", f);
}

/* <div><dt>KEY</dt><dd>VALUE</dd></div>; null and absent are blank. */
static void
kv(FILE *f, const char *key, const char *value)
{
  fprintf(f, "<div><dt>%s</dt><dd>", key);
  if (value)
    rh_esc(f, value);
  fputs("</dd></div>", f);
}

/* A number as the record holds it (JSON's form). */
static void
kv_num(FILE *f, const char *key, struct cab_num n)
{
  fprintf(f, "<div><dt>%s</dt><dd>", key);
  if (n.has) {
    cJSON *v = cJSON_CreateNumber(n.v);
    rh_json_text(f, v);
    cJSON_Delete(v);
  }
  fputs("</dd></div>", f);
}

static void
identity(FILE *f, const struct rcell *c)
{
  const struct cab_cell_record *r = &c->rec;
  fputs("<section id=\"identity\">\n<h2>Run identity</h2>\n<dl class=\"kv\">", f);
  kv(f, "cell_id", r->cell_id);
  kv(f, "sweep_id", r->sweep_id);
  kv(f, "container_image", r->container_image);
  kv(f, "image_digest", r->image_digest);
  kv(f, "model_build_id", r->model_build_id);
  kv_num(f, "exit_code", r->exit_code);
  fputs("</dl>\n</section>\n", f);
}

static void
timing(FILE *f, const struct rcell *c)
{
  char buf[64];
  fputs("<section id=\"timing\">\n<h2>Timing</h2>\n<dl class=\"kv\">", f);
  kv(f, "started_at", c->rec.started_at);
  kv(f, "ended_at", c->rec.ended_at);
  struct cab_num d = c->rec.duration_s;
  if (d.has)
    snprintf(buf, sizeof buf, "%.2f s", d.v);
  else
    buf[0] = '\0';
  strip_item(f, "duration", buf);
  const char *source = c->rec.tokens_source;
  const struct cab_scores *sc = &c->rec.scores;
  if (source == NULL || strcmp(source, "not recorded") == 0) {
    strip_item(f, "tokens", "not recorded");
  } else {
    static const char *const keys[] = {"prompt_tokens", "completion_tokens", "total_tokens",
                                       "model_calls"};
    const struct cab_num counts[] = {sc->tokens.prompt_tokens, sc->tokens.completion_tokens,
                                     sc->tokens.total_tokens, sc->tokens.model_calls};
    for (size_t i = 0; i < 4; i++) {
      struct cab_num v = counts[i];
      if (v.has)
        rh_fmt_int(buf, sizeof buf, v.v);
      else
        buf[0] = '\0';
      strip_item(f, keys[i], buf);
    }
    strip_item(f, "tokens source", strcmp(source, "stdout") == 0 ? "TUI stdout" : source);
  }
  fputs("</dl>\n</section>\n", f);
}

static void
scorer_table(FILE *f, const struct rcell *c)
{
  fputs("<section id=\"scorers\">\n<h2>Scorer breakdown</h2>\n<table class=\"scorers\">\n"
        "<thead><tr><th scope=\"col\">Axis</th><th scope=\"col\">Keys</th>"
        "<th scope=\"col\">Values</th></tr></thead>\n<tbody>\n",
        f);
  const cJSON *axis;
  cJSON_ArrayForEach(axis, c->rec.scores.json)
  {
    fputs("<tr><th scope=\"row\">", f);
    rh_esc(f, axis->string);
    fputs("</th><td class=\"keys\">", f);
    const cJSON *k;
    bool first = true;
    cJSON_ArrayForEach(k, axis)
    {
      if (k->string == NULL)
        continue;
      if (!first)
        fputs(", ", f);
      first = false;
      rh_esc(f, k->string);
    }
    fputs("</td><td class=\"json\"><code>", f);
    rh_json_text(f, axis);
    fputs("</code></td></tr>\n", f);
  }
  fputs("</tbody>\n</table>\n</section>\n", f);
}

static void
diff_section(FILE *f, const struct rcell *c)
{
  fputs("<section id=\"diff\">\n<h2>Diff</h2>\n", f);
  cleanup_free char *text = NULL;
  size_t len = 0;
  bool truncated = false;
  cab_error e2 = {0};
  if (report_read_file(c->dirfd, CAB_CELL_DIFF, DIFF_MAX, &text, &len, &truncated, &e2) < 0) {
    fputs("<p class=\"empty\">No diff.patch in this cell.</p>\n</section>\n", f);
    return;
  }
  if (len == 0) {
    fputs("<p class=\"empty\">The agent changed nothing.</p>\n</section>\n", f);
    return;
  }
  fputs("<pre class=\"diff\"><code>", f);
  const char *line;
  size_t n;
  for (size_t i = 0; cab_next_line(text, len, &i, &line, &n);) {
    const char *cls = NULL;
    if (n >= 3 && (strncmp(line, "+++", 3) == 0 || strncmp(line, "---", 3) == 0))
      cls = "d-file";
    else if (n >= 1 && line[0] == '+')
      cls = "d-add";
    else if (n >= 1 && line[0] == '-')
      cls = "d-del";
    else if (n >= 2 && strncmp(line, "@@", 2) == 0)
      cls = "d-hunk";
    else if (n >= 5 && (strncmp(line, "diff ", 5) == 0 || strncmp(line, "index", 5) == 0))
      cls = "d-meta";
    if (cls)
      fprintf(f, "<span class=\"%s\">", cls);
    rh_escn(f, line, n);
    if (cls)
      fputs("</span>", f);
    fputc('\n', f);
  }
  fputs("</code></pre>\n", f);
  if (truncated)
    fprintf(f, "<p class=\"note\">The first %u KiB of diff.patch are shown.</p>\n", DIFF_MAX >> 10);
  fputs("</section>\n", f);
}

static void
log_block(FILE *f, const struct rcell *c, const char *name, const char *id)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  bool truncated = false;
  cab_error e2 = {0};
  fprintf(f, "<details id=\"%s\"><summary>%s", id, name);
  if (report_read_file(c->dirfd, name, LOG_MAX, &text, &len, &truncated, &e2) < 0) {
    fputs(": not in this cell</summary></details>\n", f);
    return;
  }
  fprintf(f, " (%zu%s bytes)</summary><pre class=\"log\">", len, truncated ? "+" : "");
  rh_term(f, text, len);
  fputs("</pre>", f);
  if (truncated)
    fprintf(f, "<p class=\"note\">The first %u KiB are shown.</p>", LOG_MAX >> 10);
  fputs("</details>\n", f);
}

static int
related_list(FILE *f, const struct report *r, const struct rcell *c, const char *up,
             const char *title, int which, cab_error *err)
{
  fprintf(f, "<h3>%s</h3>\n<ul class=\"related\">", title);
  size_t shown = 0;
  for (size_t i = 0; i < r->ncells && shown < RELATED_MAX; i++) {
    const struct rcell *o = &r->cells[i];
    if (o == c)
      continue;
    bool same_task = strcmp(o->task_id, c->task_id) == 0;
    bool same_tui = strcmp(o->tui, c->tui) == 0, same_model = strcmp(o->model, c->model) == 0;
    bool match = which == 0   ? same_task && same_model && !same_tui
                 : which == 1 ? same_task && same_tui && !same_model
                              : same_tui && same_model && !same_task &&
                                    strcmp(o->family, c->family) == 0;
    if (!match)
      continue;
    char target[4300], text[1200], comp[32];
    if (cab_path_printf(target, sizeof target, err, "%s/index.html", o->page) < 0)
      return cab_error_prefix(err, "report");
    rh_fmt3(comp, sizeof comp, o->composite);
    if (which == 0)
      snprintf(text, sizeof text, "%s", o->tui);
    else if (which == 1)
      snprintf(text, sizeof text, "%s", o->model);
    else
      snprintf(text, sizeof text, "%s", o->task_id);
    fputs("<li>", f);
    rh_link(f, up, target, text);
    if (o->run)
      fprintf(f, " run %ld", o->run);
    fputs(" · ", f);
    rh_esc(f, o->sweep);
    fprintf(f, " · %s</li>", *comp ? comp : "—");
    shown++;
  }
  if (shown == 0)
    fputs("<li class=\"empty\">none in this report</li>", f);
  fputs("</ul>\n", f);
  return 0;
}

static int
badge(FILE *f, struct report *r, const struct rcell *c, const char *up, cab_error *err)
{
  char label[1024], alt[1200], value[32];
  snprintf(label, sizeof label, "%s × %s", c->tui, c->model);
  report_badge_value(value, sizeof value, c->composite);
  snprintf(alt, sizeof alt, "CodingAgentBench: %s %s", label, value);
  if (report_write_badge(r, c->badge, label, c->composite, err) < 0)
    return -1;
  report_badge_embed(f, r, up, c->badge, c->page, alt);
  return 0;
}

static int
write_cell(FILE *f, struct report *r, struct rcell *c, cab_error *err)
{
  char up[1024], title[2048];
  rh_up(up, sizeof up, c->page);
  snprintf(title, sizeof title, "%s × %s · %s", c->tui, c->model, c->task_id);
  rh_head(f, r, up, title);
  if (header(f, r, c, up, err) < 0)
    return -1;
  strip(f, c);
  identity(f, c);
  timing(f, c);
  report_cell_protection(f, c);
  scorer_table(f, c);
  report_cell_trace(f, c);
  if (report_cell_cast(f, r, c, err) < 0 || report_cell_repro(f, r, c, err) < 0)
    return -1;
  report_cell_explore(f, c);
  report_cell_spans(f, c);
  if (report_cell_calls(f, r, c, err) < 0)
    return -1;
  diff_section(f, c);
  fputs("<section id=\"logs\">\n<h2>Logs</h2>\n", f);
  log_block(f, c, CAB_CELL_AGENT_LOG, "agent-log");
  log_block(f, c, CAB_CELL_VERIFY_LOG, "verify-log");
  fputs("</section>\n", f);
  if (report_cell_downloads(f, r, c, err) < 0)
    return -1;
  fputs("<section id=\"related\">\n<h2>Related cells</h2>\n", f);
  if (related_list(f, r, c, up, "Other CLIs on this task", 0, err) < 0 ||
      related_list(f, r, c, up, "Other models with this CLI", 1, err) < 0 ||
      related_list(f, r, c, up, "Other tasks in this category", 2, err) < 0)
    return -1;
  fputs("</section>\n", f);
  if (badge(f, r, c, up, err) < 0)
    return -1;
  rh_foot(f, up);
  return 0;
}

int
report_page_cell(struct report *r, size_t ci, cab_error *err)
{
  struct rcell *c = &r->cells[ci];
  char dir[8400];
  if (cab_path_printf(dir, sizeof dir, err, "%s/%s", r->root, c->rel) < 0)
    return cab_error_prefix(err, "report");
  c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->dirfd < 0)
    return cab_error_sys(err, "report: open %s", dir);
  FILE *f = report_create(r, c->page, "index.html", err);
  int rc = f ? write_cell(f, r, c, err) : -1;
  if (f && rc < 0)
    fclose(f);
  else if (f)
    rc = report_close(f, c->page, "index.html", err);
  close(c->dirfd);
  c->dirfd = -1;
  return rc;
}
