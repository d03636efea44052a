/* cab results show: one cell, read through runner/record: who and what ran,
 * the outcome and the strip, the limits and what enforced them, the
 * protection level, and the artifacts the directory holds. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strfmt.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "runner/results/results.h"
#include "scorers/axes.h"
#include "scorers/scorers.h"

static const char *const artifact_names[] = {
    CAB_CELL_JSON,     CAB_CELL_MODEL_CALLS,   CAB_CELL_TRACE, CAB_CELL_AGENT_LOG,
    CAB_CELL_VERIFY_LOG, CAB_CELL_TERMINAL_CAST, CAB_CELL_DIFF,  CAB_CELL_CHANGES,
};
#define N_ARTIFACTS (sizeof artifact_names / sizeof *artifact_names)

/* CELL: a cell's directory, or its cell.json. */
static int
cell_dir_of(const char *cell, char *dir, size_t size, cab_error *err)
{
  struct stat st;
  if (stat(cell, &st) < 0)
    return cab_error_sys(err, "%s", cell);
  if (S_ISDIR(st.st_mode))
    return cab_path_printf(dir, size, err, "%s", cell);
  const char *slash = strrchr(cell, '/');
  const char *base = slash ? slash + 1 : cell;
  if (!S_ISREG(st.st_mode) || strcmp(base, CAB_CELL_JSON) != 0)
    return cab_error_set(err, 0, "%s: give a cell's directory or its " CAB_CELL_JSON, cell);
  if (slash == NULL)
    return cab_path_printf(dir, size, err, ".");
  if (slash == cell)
    return cab_path_printf(dir, size, err, "/");
  return cab_path_printf(dir, size, err, "%.*s", (int)(slash - cell), cell);
}

static const char *
or_dash(const char *s)
{
  return s && *s ? s : "-";
}

/* "name: value" of every member of OBJ (strings and numbers), "; " apart. */
static void
members_line(const cJSON *obj, char *buf, size_t size)
{
  size_t used = 0;
  buf[0] = '\0';
  const cJSON *m;
  cJSON_ArrayForEach(m, obj) {
    char v[512];
    if (cJSON_IsString(m))
      snprintf(v, sizeof v, "%s", m->valuestring);
    else if (cJSON_IsNumber(m))
      snprintf(v, sizeof v, "%g", m->valuedouble);
    else if (cJSON_IsBool(m))
      snprintf(v, sizeof v, "%s", cJSON_IsTrue(m) ? "true" : "false");
    else
      continue;
    int n = snprintf(buf + used, used < size ? size - used : 0, "%s%s %s", used ? "; " : "",
                     m->string, v);
    if (n > 0)
      used += (size_t)n;
    if (used >= size)
      break;
  }
}

int
cab_results_show(const char *cell, bool json, FILE *out, cab_error *err)
{
  char dir[PATH_MAX];
  if (cell_dir_of(cell, dir, sizeof dir, err) < 0)
    return -1;
  struct cab_cell_record r;
  if (cab_cell_record_read(AT_FDCWD, dir, &r, err) < 0)
    return -1;
  if (r.schema == NULL || strncmp(r.schema, "cab.cell/", 9) != 0) {
    cab_cell_record_free(&r);
    return cab_error_set(err, 0, "%s/" CAB_CELL_JSON ": \"schema\" is not cab.cell/*: not a cab cell record", dir);
  }
  char strip[1024] = "";
  if (r.has_scores)
    cab_axes_strip(&r.scores, strip, sizeof strip);
  const cJSON *limits = cJSON_GetObjectItemCaseSensitive(r.environment.json, "limits");
  const cJSON *prot = cJSON_GetObjectItemCaseSensitive(r.environment.json, "protection");
  const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(r.task, "timeout_s");
  int64_t sizes[N_ARTIFACTS];
  for (size_t i = 0; i < N_ARTIFACTS; i++) {
    char path[PATH_MAX + 64];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, artifact_names[i]);
    sizes[i] = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
  }

  int rc = 0;
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "schema", "cab.results.show/v1");
    cJSON_AddStringToObject(o, "cell_dir", dir);
    const char *keys[] = {"cell_id", "sweep_id", "tui", "model", "task_id", "container_image",
                          "image_digest", "started_at", "ended_at", "outcome", "outcome_reason",
                          "scoring_profile"};
    const char *vals[] = {r.cell_id, r.sweep_id, r.tui, r.model_build_id, r.task_id,
                          r.container_image, r.image_digest, r.started_at, r.ended_at, r.outcome,
                          r.outcome_reason, r.environment.scoring_profile};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
      if (vals[i])
        cJSON_AddStringToObject(o, keys[i], vals[i]);
      else
        cJSON_AddNullToObject(o, keys[i]);
    if (r.run.has)
      cJSON_AddNumberToObject(o, "run", r.run.v);
    else
      cJSON_AddNullToObject(o, "run");
    if (r.duration_s.has)
      cJSON_AddNumberToObject(o, "duration_s", r.duration_s.v);
    else
      cJSON_AddNullToObject(o, "duration_s");
    cJSON_AddStringToObject(o, "strip", strip);
    cJSON_AddItemToObject(o, "scorers",
                          r.has_scores ? cJSON_Duplicate(r.scores.json, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "timeout_s",
                          cJSON_IsNumber(timeout) ? cJSON_CreateNumber(timeout->valuedouble)
                                                  : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "limits", limits ? cJSON_Duplicate(limits, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "protection",
                          prot ? cJSON_Duplicate(prot, true) : cJSON_CreateNull());
    cJSON *arts = cJSON_AddArrayToObject(o, "artifacts");
    for (size_t i = 0; i < N_ARTIFACTS; i++)
      if (sizes[i] >= 0) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "name", artifact_names[i]);
        cJSON_AddNumberToObject(a, "bytes", (double)sizes[i]);
        cJSON_AddItemToArray(arts, a);
      }
    cleanup_free char *text = cab_json_print(o, true);
    cJSON_Delete(o);
    if (text)
      fprintf(out, "%s\n", text);
    else
      rc = cab_error_set(err, ENOMEM, "%s", dir);
    cab_cell_record_free(&r);
    return rc;
  }

  fprintf(out, "cell        %s\n", or_dash(r.cell_id));
  fprintf(out, "directory   %s\n", dir);
  fprintf(out, "tui         %s\n", or_dash(r.tui));
  fprintf(out, "model       %s\n", or_dash(r.model_build_id));
  if (r.run.has)
    fprintf(out, "task        %s (run %g)\n", or_dash(r.task_id), r.run.v);
  else
    fprintf(out, "task        %s\n", or_dash(r.task_id));
  fprintf(out, "image       %s%s%s\n", or_dash(r.container_image), r.image_digest ? " " : "",
          r.image_digest ? r.image_digest : "");
  if (r.duration_s.has)
    fprintf(out, "started     %s (%.1f s)\n", or_dash(r.started_at), r.duration_s.v);
  else
    fprintf(out, "started     %s\n", or_dash(r.started_at));
  fprintf(out, "outcome     %s%s%s%s\n", or_dash(r.outcome), r.outcome_reason ? " (" : "",
          r.outcome_reason ? r.outcome_reason : "", r.outcome_reason ? ")" : "");
  fprintf(out, "scores      %s\n", strip[0] ? strip : "- (not scored)");
  fprintf(out, "profile     %s\n", or_dash(r.environment.scoring_profile));
  char line[2048];
  if (cJSON_IsNumber(timeout))
    fprintf(out, "timeout     %g s\n", timeout->valuedouble);
  members_line(limits, line, sizeof line);
  fprintf(out, "limits      %s\n", line[0] ? line : "- (not recorded)");
  const cJSON *level = cJSON_GetObjectItemCaseSensitive(prot, "level");
  fprintf(out, "protection  %s\n", cJSON_IsString(level) ? level->valuestring : "- (not recorded)");
  fprintf(out, "artifacts\n");
  for (size_t i = 0; i < N_ARTIFACTS; i++) {
    char size_text[32];
    if (sizes[i] >= 0)
      cab_format_bytes(sizes[i], size_text, sizeof size_text);
    fprintf(out, "  %-18s %s\n", artifact_names[i], sizes[i] >= 0 ? size_text : "(missing)");
  }
  cab_cell_record_free(&r);
  return 0;
}
