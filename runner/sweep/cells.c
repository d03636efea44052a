/* The cells of a plan (runner/sweep/cells.h). */
#include "runner/sweep/cells.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/sha256.h"
#include "runner/record/layout.h"

static void
put_str(cJSON *o, const char *k, const char *v)
{
  if (v)
    cJSON_AddStringToObject(o, k, v);
  else
    cJSON_AddNullToObject(o, k);
}

/* The spec: every input that decides the cell's result, as canonical JSON
 * (cJSON keeps insertion order), hashed. */
static int
spec_hash(const struct cab_sweep_plan *p, const struct cab_sweep_cell *c, char *out)
{
  const struct cab_sweep_model *m = &p->models[c->model];
  const struct cab_sweep_task_info *t = &p->tasks[c->task];
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return -1;
  cJSON_AddStringToObject(o, "spec", "cab.sweep.cell/v1");
  put_str(o, "tui", p->tuis[c->tui].tui);
  put_str(o, "image", c->shown_image);
  put_str(o, "model", m->model);
  put_str(o, "endpoint", m->endpoint);
  put_str(o, "endpoint_wire", m->endpoint_wire);
  if (c->replay_sha256[0])
    put_str(o, "replay", c->replay_sha256);
  else
    put_str(o, "replay", m->replay ? m->replay_sha256 : NULL);
  if (c->record) /* only when true: the specs of plans without it stay as they were */
    cJSON_AddTrueToObject(o, "record");
  cJSON_AddNumberToObject(o, "model_retries", (double)m->model_retries);
  put_str(o, "task", t->id);
  put_str(o, "task_json", t->sha256);
  cJSON_AddNumberToObject(o, "run", c->run);
  put_str(o, "scoring", p->scoring);
  cJSON_AddNumberToObject(o, "memory", (double)p->memory_bytes);
  cJSON_AddNumberToObject(o, "cpus", p->cpus);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (text == NULL)
    return -1;
  cab_sha256_buffer(text, strlen(text), out);
  free(text);
  return 0;
}

int
cab_sweep_cells_build(const struct cab_sweep_plan *p, struct cab_sweep_cells *out,
                      cab_error *err)
{
  size_t n = p->n_tuis * p->n_models * p->n_tasks * (size_t)p->reruns;
  out->n = 0;
  out->v = calloc(n ? n : 1, sizeof *out->v);
  if (out->v == NULL)
    return cab_error_sys(err, "%s: %zu cells: memory", p->origin, n);
  for (size_t ti = 0; ti < p->n_tuis; ti++)
    for (size_t mi = 0; mi < p->n_models; mi++)
      for (size_t ki = 0; ki < p->n_tasks; ki++)
        for (long run = 1; run <= p->reruns; run++) {
          struct cab_sweep_cell *c = &out->v[out->n++];
          const struct cab_sweep_tui *t = &p->tuis[ti];
          c->tui = ti;
          c->model = mi;
          c->task = ki;
          c->run = (int)run;
          c->image = t->image ? t->image : p->image;
          c->host_rootfs = c->image == NULL && p->host_rootfs;
          if (c->host_rootfs)
            c->shown_image = "host-rootfs";
          else if (c->image)
            c->shown_image = c->image;
          else if (p->tasks[ki].image)
            c->shown_image = p->tasks[ki].image;
          else
            c->shown_image = t->adapter_image ? t->adapter_image : "(none)";
          c->weight = p->tasks[ki].timeout_s > 0 ? p->tasks[ki].timeout_s : 1;
          c->record = p->models[mi].record && t->needs_model;
          c->key = cab_record_cell_key(t->tui, p->models[mi].model, p->tasks[ki].id, (int)run);
          if (c->key == NULL) {
            cab_sweep_cells_free(out);
            return cab_error_sys(err, "%s: memory", p->origin);
          }
          if (spec_hash(p, c, c->spec_sha256) < 0) {
            cab_sweep_cells_free(out);
            return cab_error_sys(err, "%s: memory", p->origin);
          }
        }
  return 0;
}

int
cab_sweep_cell_respec(const struct cab_sweep_plan *p, struct cab_sweep_cell *c, cab_error *err)
{
  if (spec_hash(p, c, c->spec_sha256) < 0)
    return cab_error_sys(err, "%s: memory", p->origin);
  return 0;
}

void
cab_sweep_cells_free(struct cab_sweep_cells *c)
{
  for (size_t i = 0; i < c->n; i++)
    free(c->v[i].key);
  free(c->v);
  c->v = NULL;
  c->n = 0;
}
