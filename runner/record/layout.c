/* The results tree's paths and names (runner/record/layout.h). */
#include "runner/record/layout.h"

#include "common/strfmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cab_record_sweep_dir(char *buf, size_t size, const char *out, const char *sweep_id, cab_error *err)
{
  return cab_path_printf(buf, size, err, "%s/%s", out, sweep_id);
}

int
cab_record_sweep_meta_dir(char *buf, size_t size, const char *out, const char *sweep_id,
                          cab_error *err)
{
  return cab_path_printf(buf, size, err, "%s/%s/" CAB_RECORD_SWEEP_META, out, sweep_id);
}

char *
cab_record_cell_key(const char *tui, const char *model, const char *task_id, int run)
{
  char *key = NULL;
  int n = run > 0 ? asprintf(&key, "%s/%s/%s/run-%d", tui, model, task_id, run)
                  : asprintf(&key, "%s/%s/%s", tui, model, task_id);
  return n < 0 ? NULL : key;
}

int
cab_record_cell_dir(char *buf, size_t size, const char *out, const char *sweep_id,
                    const char *tui, const char *model, const char *task_id, int run,
                    cab_error *err)
{
  if (run > 0)
    return cab_path_printf(buf, size, err, "%s/%s/%s/%s/%s/run-%d", out, sweep_id, tui, model,
                       task_id, run);
  return cab_path_printf(buf, size, err, "%s/%s/%s/%s/%s", out, sweep_id, tui, model, task_id);
}

int
cab_record_staging_template(char *buf, size_t size, const char *parent, const char *leaf,
                            pid_t pid, cab_error *err)
{
  return cab_path_printf(buf, size, err, "%s/" CAB_RECORD_STAGING_PREFIX "%s-%d-XXXXXX", parent, leaf,
                     (int)pid);
}

int
cab_record_merge_template(char *buf, size_t size, const char *parent, const char *leaf, pid_t pid,
                          cab_error *err)
{
  return cab_path_printf(buf, size, err, "%s/" CAB_RECORD_MERGE_PREFIX "%s-%d-XXXXXX", parent, leaf,
                     (int)pid);
}

int
cab_record_aside_path(char *buf, size_t size, const char *cell_dir, pid_t pid, cab_error *err)
{
  return cab_path_printf(buf, size, err, "%s" CAB_RECORD_OLD_INFIX "%d", cell_dir, (int)pid);
}

int
cab_record_attempt_path(char *buf, size_t size, const char *base, int attempt, cab_error *err)
{
  return cab_path_printf(buf, size, err, "%s" CAB_RECORD_ATTEMPT_INFIX "%d", base, attempt);
}

long
cab_record_attempt_suffix(const char *name, size_t *stem_len)
{
  const char *p = strstr(name, CAB_RECORD_ATTEMPT_INFIX);
  if (p == NULL)
    return 0;
  /* the last occurrence */
  for (const char *q; (q = strstr(p + 1, CAB_RECORD_ATTEMPT_INFIX)) != NULL;)
    p = q;
  const char *d = p + strlen(CAB_RECORD_ATTEMPT_INFIX);
  if (*d == '\0' || *d == '0')
    return 0;
  long n = 0;
  for (; *d; d++) {
    if (!isdigit((unsigned char)*d) || n > 100000000)
      return 0;
    n = n * 10 + (*d - '0');
  }
  if (stem_len)
    *stem_len = (size_t)(p - name);
  return n;
}

bool
cab_record_is_aside(const char *name)
{
  const char *p = strstr(name, CAB_RECORD_OLD_INFIX);
  if (p == NULL || p == name || p[strlen(CAB_RECORD_OLD_INFIX)] == '\0')
    return false;
  for (p += strlen(CAB_RECORD_OLD_INFIX); *p; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  return true;
}

long
cab_record_aside_of(const char *name, const char *leaf)
{
  size_t ll = strlen(leaf), il = strlen(CAB_RECORD_OLD_INFIX);
  if (strncmp(name, leaf, ll) != 0 || strncmp(name + ll, CAB_RECORD_OLD_INFIX, il) != 0)
    return 0;
  char *end;
  long pid = strtol(name + ll + il, &end, 10);
  return *end == '\0' && pid > 0 ? pid : 0;
}
