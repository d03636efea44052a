/* Scoring profiles: versioned data files (scorers/profiles/<name>.json)
 * holding the composite's weights, the cost-efficiency formula, the latency
 * scale, the refusal factor, the note and the methodology version.
 *
 * The files in scorers/profiles are also assembled into cab (.incbin), as a
 * last resort when cab runs away from its source tree; a file found on the
 * data-file search path (common/datadir.h) always wins. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/datadir.h"
#include "common/fsutil.h"
#include "scorers/scorers.h"
#include "scorers/util.h"

#define EMBED(sym, file)                                                                     \
  __asm__(".section .rodata\n"                                                               \
          ".balign 16\n"                                                                     \
          ".globl " #sym "_start\n"                                                          \
          ".hidden " #sym "_start\n" #sym "_start:\n"                                        \
          ".incbin \"" file "\"\n"                                                           \
          ".globl " #sym "_end\n"                                                            \
          ".hidden " #sym "_end\n" #sym "_end:\n"                                            \
          ".byte 0\n"                                                                        \
          ".previous\n");                                                                    \
  extern const char sym##_start[], sym##_end[];

EMBED(cab_profile_v01, "scorers/profiles/codingagentbench-v0.1.json")
EMBED(cab_profile_cabv1, "scorers/profiles/cab-v1.json")

static const struct {
  const char *name;
  const char *start, *end;
} BUILTIN[] = {
    {"codingagentbench-v0.1", cab_profile_v01_start, cab_profile_v01_end},
    {"cab-v1", cab_profile_cabv1_start, cab_profile_cabv1_end},
};

static int
weight(const cJSON *w, const char *key, double *out, cab_error *err)
{
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(w, key);
  if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 1)
    return cab_error_set(err, 0, "profile: weights.%s must be a number in [0,1]", key);
  *out = j->valuedouble;
  return 0;
}

int
cab_profile_parse(const char *json, size_t len, struct cab_profile *p, cab_error *err)
{
  memset(p, 0, sizeof *p);
  cJSON *j = cJSON_ParseWithLength(json, len);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return cab_error_set(err, 0, "profile: not a JSON object");
  }
  int ret = -1;
  const char *schema = cab_jget_str(j, "schema");
  const char *name = cab_jget_str(j, "name"), *mv = cab_jget_str(j, "methodology_version");
  const char *note = cab_jget_str(j, "note");
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "weights");
  const cJSON *cost = cJSON_GetObjectItemCaseSensitive(j, "cost_efficiency");
  const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "latency_efficiency");
  const cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "refusal_factor");
  if (schema == NULL || strcmp(schema, "cab.scoring-profile/v1") != 0) {
    cab_error_set(err, 0, "profile: 'schema' must be \"cab.scoring-profile/v1\"");
    goto out;
  }
  if (name == NULL || strlen(name) >= sizeof p->name || mv == NULL ||
      strlen(mv) >= sizeof p->methodology_version) {
    cab_error_set(err, 0, "profile: needs string 'name' and 'methodology_version'");
    goto out;
  }
  if (note == NULL || strlen(note) >= sizeof p->note) {
    cab_error_set(err, 0, "profile: needs a string 'note' (< %zu bytes)", sizeof p->note);
    goto out;
  }
  if (!cJSON_IsObject(w)) {
    cab_error_set(err, 0, "profile: needs an object 'weights'");
    goto out;
  }
  if (weight(w, "pass_rate", &p->w_pass, err) < 0 ||
      weight(w, "integrity", &p->w_integrity, err) < 0 ||
      weight(w, "cost", &p->w_cost, err) < 0 || weight(w, "latency", &p->w_latency, err) < 0 ||
      weight(w, "blast_radius", &p->w_blast, err) < 0)
    goto out;
  const char *cf = cab_jget_str(cost, "formula");
  if (cf && strcmp(cf, "constant") == 0) {
    p->cost_formula = CAB_COST_CONSTANT;
    p->cost_constant = cab_jget_num(cost, "value", -1);
    if (p->cost_constant < 0 || p->cost_constant > 1) {
      cab_error_set(err, 0, "profile: cost_efficiency.value must be in [0,1]");
      goto out;
    }
  } else if (cf && strcmp(cf, "inv-log10") == 0) {
    p->cost_formula = CAB_COST_INV_LOG10;
    p->cost_scale_tokens = cab_jget_num(cost, "scale_tokens", 0);
    if (!(p->cost_scale_tokens > 0)) {
      cab_error_set(err, 0, "profile: cost_efficiency.scale_tokens must be > 0");
      goto out;
    }
  } else {
    cab_error_set(err, 0, "profile: cost_efficiency.formula must be \"constant\" or \"inv-log10\"");
    goto out;
  }
  const char *lf = cab_jget_str(lat, "formula");
  p->latency_scale_ms = cab_jget_num(lat, "scale_ms", 0);
  if (lf == NULL || strcmp(lf, "inv-log10") != 0 || !(p->latency_scale_ms > 0)) {
    cab_error_set(err, 0,
                  "profile: latency_efficiency must be {\"formula\": \"inv-log10\", \"scale_ms\": > 0}");
    goto out;
  }
  if (!cJSON_IsNumber(rf) || rf->valuedouble < 0 || rf->valuedouble > 1) {
    cab_error_set(err, 0, "profile: refusal_factor must be a number in [0,1]");
    goto out;
  }
  p->refusal_factor = rf->valuedouble;
  snprintf(p->name, sizeof p->name, "%s", name);
  snprintf(p->methodology_version, sizeof p->methodology_version, "%s", mv);
  snprintf(p->note, sizeof p->note, "%s", note);
  ret = 0;
out:
  cJSON_Delete(j);
  return ret;
}

static int
load_file(const char *path, struct cab_profile *p, cab_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, err) < 0)
    return -1;
  if (cab_profile_parse(buf, len, p, err) < 0)
    return cab_error_prefix(err, "%s", path);
  return 0;
}

static bool
valid_name(const char *n)
{
  if (*n == '\0' || *n == '.')
    return false;
  for (; *n; n++)
    if (!(('a' <= *n && *n <= 'z') || ('A' <= *n && *n <= 'Z') || ('0' <= *n && *n <= '9') ||
          *n == '.' || *n == '-' || *n == '_'))
      return false;
  return true;
}

int
cab_profile_load(const char *name, struct cab_profile *p, cab_error *err)
{
  if (name == NULL || *name == '\0')
    name = CAB_PROFILE_DEFAULT;
  size_t nl = strlen(name);
  if (strchr(name, '/') || (nl > 5 && strcmp(name + nl - 5, ".json") == 0))
    return load_file(name, p, err);
  if (!valid_name(name))
    return cab_error_set(err, 0, "profile '%s': not a valid profile name", name);

  char file[NAME_MAX + 1], path[CAB_DATADIR_PATH + NAME_MAX + 1];
  if (snprintf(file, sizeof file, "%s.json", name) < (int)sizeof file &&
      cab_datadir_find(CAB_DATA_PROFILES, file, path, sizeof path) == 0)
    return load_file(path, p, err);
  for (size_t i = 0; i < sizeof BUILTIN / sizeof BUILTIN[0]; i++)
    if (strcmp(BUILTIN[i].name, name) == 0) {
      if (cab_profile_parse(BUILTIN[i].start, (size_t)(BUILTIN[i].end - BUILTIN[i].start), p,
                            err) < 0)
        return cab_error_prefix(err, "built-in profile %s", name);
      return 0;
    }
  return cab_error_set(err, ENOENT,
                       "profile '%s' not found (looked in $CAB_PROFILE_DIR, $CAB_DATA_DIR/profiles, "
                       "scorers/profiles and share/cab/profiles beside cab, and the built-in "
                       "profiles "
                       "codingagentbench-v0.1, cab-v1)",
                       name);
}
