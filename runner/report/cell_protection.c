/* The cell page's "Protection" section: what the agent's sandbox ran under,
 * from cell.json's environment.protection (runner/record/protection.h). */
#include <stdio.h>
#include <string.h>

#include "runner/record/protection.h"
#include "runner/report/internal.h"

static void
row(FILE *f, const char *key, const char *value)
{
  fprintf(f, "<tr><th scope=\"row\">%s</th><td>", key);
  rh_esc(f, value);
  fputs("</td></tr>\n", f);
}

/* A JSON array of strings, comma-separated ("none" when empty). */
static void
list_row(FILE *f, const char *key, const cJSON *list)
{
  fprintf(f, "<tr><th scope=\"row\">%s</th><td>", key);
  bool any = false;
  const cJSON *v;
  cJSON_ArrayForEach(v, list)
    if (cJSON_IsString(v)) {
      fputs(any ? ", " : "", f);
      rh_esc(f, v->valuestring);
      any = true;
    }
  fputs(any ? "</td></tr>\n" : "none</td></tr>\n", f);
}

void
report_cell_protection(FILE *f, const struct rcell *c)
{
  const cJSON *block = cJSON_GetObjectItemCaseSensitive(c->rec.environment.json, "protection");
  struct cab_protection p;
  if (cab_protection_from_json(block, &p) < 0)
    return; /* a record from before protection was recorded */
  char buf[1200];
  fputs("<section id=\"protection\">\n<h2>Protection</h2>\n<table class=\"protection\">\n<tbody>\n",
        f);
  row(f, "level", p.level[0] ? p.level : cab_protection_level(&p));
  row(f, "required", cab_protection_format(p.required, buf, sizeof buf));
  list_row(f, "namespaces", cJSON_GetObjectItemCaseSensitive(block, "namespaces"));
  snprintf(buf, sizeof buf, "%s (agent), %s (verifier)", p.seccomp[0] ? p.seccomp : "none",
           p.verifier_seccomp[0] ? p.verifier_seccomp : "did not run");
  row(f, "seccomp", buf);
  list_row(f, "capabilities", cJSON_GetObjectItemCaseSensitive(block, "capabilities"));
  const char *names[] = {"memory", "pids", "cpu", "time", "disk"};
  const char *values[] = {p.limits.memory, p.limits.pids, p.limits.cpu, p.limits.time,
                          p.limits.disk};
  for (size_t i = 0; i < 5; i++) {
    char key[32];
    snprintf(key, sizeof key, "%s limit", names[i]);
    row(f, key, values[i][0] ? values[i] : "none");
  }
  if (strcmp(p.root, "host") == 0)
    snprintf(buf, sizeof buf, "the host's / (read-only, %zu paths masked)", p.masked_paths);
  else
    snprintf(buf, sizeof buf, "%s", p.root[0] ? p.root : "none");
  row(f, "root", buf);
  row(f, "network", p.network[0] ? p.network : "none");
  fputs("</tbody>\n</table>\n</section>\n", f);
}
