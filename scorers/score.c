/* cab_score_all, and reading a cell directory's artifacts back into
 * scorer inputs (the mapping is documented in scorers/scorers.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "scorers/axes.h"
#include "scorers/scorers.h"
#include "scorers/util.h"

/* Every axis of the table, in order: each may read the ones above it. */
void
cab_score_all(const struct cab_cell_inputs *in, const struct cab_profile *p, struct cab_scores *out)
{
  cJSON *all = cJSON_CreateObject();
  struct cab_axis_inputs ai = {.in = in, .profile = p, .so_far = all};
  for (size_t i = 0; i < cab_n_axes; i++)
    cJSON_AddItemToObject(all, cab_axes[i].key, cab_axes[i].score(&ai));
  cab_scores_from_json(all, out);
}

/* ---- verify.log ------------------------------------------------------------ */

char *
cab_verify_log_format(const char *out, size_t out_len, const char *err, size_t err_len,
                      size_t *len)
{
  if (out == NULL)
    out_len = 0;
  if (err == NULL)
    err_len = 0;
  char h1[64], h2[64];
  int l1 = snprintf(h1, sizeof h1, "==> stdout (%zu bytes) <==\n", out_len);
  int l2 = snprintf(h2, sizeof h2, "==> stderr (%zu bytes) <==\n", err_len);
  size_t total = (size_t)l1 + out_len + 1 + (size_t)l2 + err_len + 1;
  char *buf = cab_xmalloc(total + 1), *p = buf;
  memcpy(p, h1, (size_t)l1), p += l1;
  if (out_len)
    memcpy(p, out, out_len), p += out_len;
  *p++ = '\n';
  memcpy(p, h2, (size_t)l2), p += l2;
  if (err_len)
    memcpy(p, err, err_len), p += err_len;
  *p++ = '\n';
  *p = '\0';
  *len = total;
  return buf;
}

/* "==> NAME (N bytes) <==\n" at *P: the section's bytes. */
static bool
section(const char **p, const char *end, const char *name, const char **data, size_t *len)
{
  char prefix[32];
  int pl = snprintf(prefix, sizeof prefix, "==> %s (", name);
  if ((size_t)(end - *p) < (size_t)pl || memcmp(*p, prefix, (size_t)pl) != 0)
    return false;
  const char *q = *p + pl;
  char *e;
  errno = 0;
  unsigned long long n = strtoull(q, &e, 10);
  if (errno || e == q || (size_t)(end - e) < 11 || memcmp(e, " bytes) <==\n", 12) != 0)
    return false;
  q = e + 12;
  if (n > (unsigned long long)(end - q))
    return false;
  *data = q;
  *len = (size_t)n;
  q += n;
  if (q < end && *q == '\n')
    q++;
  *p = q;
  return true;
}

void
cab_verify_log_parse(const char *text, size_t len, const char **out, size_t *out_len,
                     const char **err, size_t *err_len)
{
  const char *p = text, *end = text + len;
  *out = *err = "";
  *out_len = *err_len = 0;
  if (text == NULL)
    return;
  if (!section(&p, end, "stdout", out, out_len)) {
    *out = text; /* not framed: all of it is stdout */
    *out_len = len;
    return;
  }
  if (!section(&p, end, "stderr", err, err_len)) {
    *err = "";
    *err_len = 0;
  }
}

/* ---- the cell directory ---------------------------------------------------- */

#define MAX_LOG (64u << 20)
#define MAX_JSON (64u << 20) /* changes.json */

/* Read DIR/NAME; a missing file gives *BUF NULL and returns 0 unless REQUIRED. */
static int
read_opt(int dirfd, const char *name, size_t max, bool required, char **buf, size_t *len,
         cab_error *err)
{
  *buf = NULL;
  *len = 0;
  struct stat st;
  if (fstatat(dirfd, name, &st, 0) < 0) {
    if (errno == ENOENT && !required)
      return 0;
    return cab_error_sys(err, "%s", name);
  }
  if (!S_ISREG(st.st_mode))
    return cab_error_set(err, 0, "%s: not a regular file", name);
  if ((size_t)st.st_size > max)
    return cab_error_set(err, EFBIG, "%s: larger than %zu bytes", name, max);
  return cab_read_file_at(dirfd, name, max, buf, len, err);
}

int
cab_cell_artifacts_load(const char *dir, struct cab_cell_artifacts *a, cab_error *err)
{
  memset(a, 0, sizeof *a);
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "cell directory %s", dir);
  struct cab_cell_inputs *in = &a->inputs;
  cleanup_free char *changes_text = NULL, *calls = NULL;
  size_t len, vlen = 0;

  if (cab_cell_record_read(dfd, NULL, &a->record, err) < 0)
    goto fail;
  const struct cab_cell_record *rec = &a->record;
  if (rec->task == NULL) {
    cab_error_set(err, 0, "cell.json: no 'task' object (the task definition as run)");
    goto fail;
  }
  if (cab_task_from_record(rec->task, "task", &a->task, err) < 0) {
    cab_error_prefix(err, CAB_CELL_JSON);
    goto fail;
  }
  in->task = a->task;

  if (!rec->verify.exit_code.has) {
    cab_error_set(err, 0, "cell.json: 'verify.exit_code' must be a number");
    goto fail;
  }
  in->verify.exit_code = (int)rec->verify.exit_code.v;
  in->verify.timed_out = rec->verify.timed_out;

  if (rec->timing.wall_clock_ms.has) {
    in->wall_clock_ms = rec->timing.wall_clock_ms.v;
  } else {
    const char *s = rec->timing.started_at, *e = rec->timing.ended_at;
    if (s == NULL)
      s = rec->started_at, e = rec->ended_at;
    if (cab_iso_diff_ms(s, e, &in->wall_clock_ms) < 0) {
      cab_error_set(err, 0, "cell.json: needs 'timing.wall_clock_ms' or started_at/ended_at");
      goto fail;
    }
  }
  in->container_active_ms =
      rec->timing.container_active_ms.has ? rec->timing.container_active_ms.v : 0;

  if (read_opt(dfd, CAB_CELL_VERIFY_LOG, MAX_LOG, false, &a->verify_log, &vlen, err) < 0)
    goto fail;
  cab_verify_log_parse(a->verify_log, vlen, &in->verify.out, &in->verify.out_len, &in->verify.err,
                       &in->verify.err_len);
  if (read_opt(dfd, "verify-report.xml", MAX_LOG, false, &a->report, &len, err) < 0)
    goto fail;
  if (a->report == NULL &&
      read_opt(dfd, "verify-report.json", MAX_LOG, false, &a->report, &len, err) < 0)
    goto fail;
  in->verify.report = a->report;
  in->verify.report_len = a->report ? len : 0;
  if (read_opt(dfd, CAB_CELL_VERIFY_REWARD, MAX_JSON, false, &a->reward, &len, err) < 0)
    goto fail;
  in->verify.reward = a->reward;
  in->verify.reward_len = a->reward ? len : 0;

  if (read_opt(dfd, CAB_CELL_MODEL_CALLS, MAX_LOG, false, &calls, &len, err) < 0)
    goto fail;
  cab_model_calls_sum(calls, calls ? len : 0, &in->tokens);

  if (read_opt(dfd, CAB_CELL_CHANGES, MAX_JSON, true, &changes_text, &len, err) < 0)
    goto fail;
  cJSON *cj = cJSON_ParseWithLength(changes_text, len);
  int r = cab_changes_from_json(cj, &a->changes, err);
  cJSON_Delete(cj);
  if (r < 0) {
    cab_error_prefix(err, CAB_CELL_CHANGES);
    goto fail;
  }
  in->changes = &a->changes;

  if (read_opt(dfd, CAB_CELL_DIFF, 1u << 30, false, &a->diff_patch, &len, err) < 0)
    goto fail;
  in->diff_patch = a->diff_patch;
  in->diff_patch_len = a->diff_patch ? len : 0;
  if (read_opt(dfd, CAB_CELL_AGENT_LOG, MAX_LOG, false, &a->agent_log, &len, err) < 0)
    goto fail;
  in->agent_output = a->agent_log;
  in->agent_output_len = a->agent_log ? len : 0;
  return 0;

fail:
  cab_error_prefix(err, "%s", dir);
  cab_cell_artifacts_free(a);
  return -1;
}

void
cab_cell_artifacts_free(struct cab_cell_artifacts *a)
{
  cab_task_free(a->task);
  a->task = NULL;
  cab_change_list_free(&a->changes);
  cab_cell_record_free(&a->record);
  free(a->verify_log);
  free(a->report);
  free(a->reward);
  free(a->diff_patch);
  free(a->agent_log);
  memset(a, 0, sizeof *a);
}

int
cab_score_cell_dir(const char *dir, const char *profile, struct cab_scores *out, cab_error *err)
{
  struct cab_cell_artifacts a;
  if (cab_cell_artifacts_load(dir, &a, err) < 0)
    return -1;
  struct cab_profile p;
  const char *recorded = a.record.environment.scoring_profile;
  const char *name = profile ? profile : recorded && *recorded ? recorded : NULL;
  if (cab_profile_load(name, &p, err) < 0) {
    cab_cell_artifacts_free(&a);
    return -1;
  }
  cab_score_all(&a.inputs, &p, out);
  cab_cell_artifacts_free(&a);
  return 0;
}
