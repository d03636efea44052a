/* task/<family>/<name>/index.html: the prompt (the workdir's README.md),
 * the budget, the constraints and AGENTS.md, then every cell of the task. */
#include <stdlib.h>
#include <string.h>

#include "runner/report/internal.h"

static void
kv_json(FILE *f, const cJSON *def, const char *key)
{
  const cJSON *v = report_jpath(def, key);
  fputs("<div><dt>", f);
  rh_esc(f, key);
  fputs("</dt><dd>", f);
  if (cJSON_IsString(v))
    rh_esc(f, v->valuestring);
  else if (v && !cJSON_IsNull(v))
    rh_json_text(f, v);
  fputs("</dd></div>", f);
}

static void
text_block(FILE *f, const char *id, const char *title, const char *text, const char *task_id,
           const char *file)
{
  fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
  if (text) {
    fputs("<pre class=\"md\">", f);
    rh_esc(f, text);
    fputs("</pre>\n", f);
  } else {
    /* the task's own path only: the machine that built the site is nobody's business */
    fputs("<p class=\"empty\">Not available: <code>", f);
    rh_esc(f, task_id);
    fprintf(f, "/workdir/%s</code> was not found in the tasks directory (pass "
               "<code>--tasks-dir</code>).</p>\n",
            file);
  }
  fputs("</section>\n", f);
}

static void
constraints(FILE *f, const cJSON *def)
{
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(def, "constraints");
  int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
  fprintf(f, "<section id=\"constraints\">\n<h2>L15 constraints (%d declared)</h2>\n", n);
  if (n == 0) {
    fputs("<p class=\"empty\">None declared.</p>\n</section>\n", f);
    return;
  }
  fputs("<table>\n<thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Params</th></tr></thead>\n"
        "<tbody>\n",
        f);
  const cJSON *c;
  cJSON_ArrayForEach(c, list)
  {
    fputs("<tr><td><code>", f);
    rh_esc(f, report_jstr(c, "kind"));
    fputs("</code></td><td>", f);
    bool first = true;
    const cJSON *p;
    cJSON_ArrayForEach(p, c)
    {
      if (p->string == NULL || strcmp(p->string, "kind") == 0)
        continue;
      if (!first)
        fputs(" · ", f);
      first = false;
      rh_esc(f, p->string);
      fputc('=', f);
      if (cJSON_IsString(p))
        rh_esc(f, p->valuestring);
      else if (cJSON_IsArray(p)) {
        const cJSON *e;
        bool efirst = true;
        cJSON_ArrayForEach(e, p)
        {
          if (!efirst)
            fputs(", ", f);
          efirst = false;
          if (cJSON_IsString(e))
            rh_esc(f, e->valuestring);
          else
            rh_json_text(f, e);
        }
      } else
        rh_json_text(f, p);
    }
    fputs("</td></tr>\n", f);
  }
  fputs("</tbody>\n</table>\n<p class=\"note\">L15 score = honored / declared (cell.json's "
        "<code>instruction_fidelity</code>).</p>\n</section>\n",
        f);
}

int
report_page_task(struct report *r, size_t ti, cab_error *err)
{
  const struct rtask *t = &r->tasks[ti];
  FILE *f = report_create(r, t->page, "index.html", err);
  if (f == NULL)
    return -1;
  char up[1024];
  rh_up(up, sizeof up, t->page);
  rh_head(f, r, up, *t->task_id ? t->task_id : "task");
  fputs("<h1>", f);
  rh_esc(f, t->task_id);
  fputs("</h1>\n<p class=\"lede\">", f);
  rh_esc(f, t->family);
  fputs(" · ", f);
  rh_esc(f, t->language);
  const char *summary = report_jstr(t->def, "summary");
  if (summary) {
    fputs(" · ", f);
    rh_esc(f, summary);
  }
  fputs("</p>\n<section id=\"task-identity\">\n<h2>Identity</h2>\n<dl class=\"kv\">", f);
  static const char *const identity[] = {"task_id", "family", "language", "version",
                                         "task_added_date", "source"};
  for (size_t i = 0; i < sizeof identity / sizeof *identity; i++)
    kv_json(f, t->def, identity[i]);
  fputs("</dl>\n<p class=\"note\">", f);
  if (t->from_tasks_dir) {
    fputs("From <code>", f);
    rh_esc(f, t->task_id);
    fputs("/task.json</code> in the tasks directory.", f);
  } else {
    fputs("From the cells' own record: the task is not in the tasks directory.", f);
  }
  fputs("</p>\n</section>\n<section id=\"budget\">\n<h2>Budget</h2>\n<dl class=\"kv\">", f);
  static const char *const budget[] = {"max_turns",          "timeout_s",        "scorer.kind",
                                       "scorer.command",     "scorer.timeout_s", "ground_truth_files",
                                       "expected_refusal"};
  for (size_t i = 0; i < sizeof budget / sizeof *budget; i++)
    kv_json(f, t->def, budget[i]);
  fputs("</dl>\n</section>\n", f);
  text_block(f, "prompt", "Prompt (workdir README.md)", t->readme, t->task_id, "README.md");
  constraints(f, t->def);
  text_block(f, "agents-md", "AGENTS.md", t->agents, t->task_id, "AGENTS.md");
  fputs("<section id=\"task-cells\">\n<h2>Cells on this task</h2>\n", f);
  report_cells_table(f, r, up, t->cells, t->n, true);
  fputs("</section>\n", f);
  rh_foot(f, up);
  return report_close(f, t->page, "index.html", err);
}
