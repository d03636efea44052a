/* The protection block: the --require vocabulary and the summary levels as
 * tables, the judgement of a block against them, and its JSON. */
#include "runner/record/protection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define BIT CAB_PROT_BIT

/* --require's vocabulary, in enum order. */
static const char *const item_names[CAB_PROT_N_ITEMS] = {
    [CAB_PROT_NAMESPACES] = "namespaces", [CAB_PROT_SECCOMP] = "seccomp",
    [CAB_PROT_CGROUP] = "cgroup",         [CAB_PROT_MEMORY] = "memory",
    [CAB_PROT_PIDS] = "pids",             [CAB_PROT_CPU] = "cpu",
    [CAB_PROT_IMAGE] = "image",           [CAB_PROT_OVERLAY] = "overlay",
};

/* The summary levels, strongest first: a run's level is the first row whose
 * items it all holds.  A lower level is named by what it lacks.  Running on
 * the host's / (read-only, masked) exposes more than limits held by rlimits
 * and watchdogs, so "no-cgroup" ranks above "host-root". */
static const struct {
  const char *name;
  cab_protection_set needs;
} levels[] = {
    {"full", BIT(CAB_PROT_NAMESPACES) | BIT(CAB_PROT_SECCOMP) | BIT(CAB_PROT_CGROUP) |
                 BIT(CAB_PROT_IMAGE)},
    {"no-cgroup", BIT(CAB_PROT_NAMESPACES) | BIT(CAB_PROT_SECCOMP) | BIT(CAB_PROT_IMAGE)},
    {"host-root", BIT(CAB_PROT_NAMESPACES) | BIT(CAB_PROT_SECCOMP) | BIT(CAB_PROT_CGROUP)},
    {"host-root-no-cgroup", BIT(CAB_PROT_NAMESPACES) | BIT(CAB_PROT_SECCOMP)},
    {"no-seccomp", BIT(CAB_PROT_NAMESPACES)},
    {"none", 0},
};

static const struct {
  unsigned bit;
  const char *name;
} namespaces[] = {
    {CAB_NS_USER, "user"}, {CAB_NS_MOUNT, "mount"}, {CAB_NS_PID, "pid"},
    {CAB_NS_NET, "net"},   {CAB_NS_IPC, "ipc"},     {CAB_NS_UTS, "uts"},
    {CAB_NS_CGROUP, "cgroup"},
};
#define N_NAMESPACES (sizeof namespaces / sizeof *namespaces)

const char *
cab_protection_item_name(enum cab_protection_item item)
{
  return (unsigned)item < CAB_PROT_N_ITEMS ? item_names[item] : NULL;
}

char *
cab_protection_format(cab_protection_set set, char *buf, size_t size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < CAB_PROT_N_ITEMS && used < size; i++)
    if (set & BIT(i))
      used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", item_names[i]);
  if (used == 0)
    snprintf(buf, size, "none");
  return buf;
}

int
cab_protection_parse(const char *list, const char *option, cab_protection_set *out,
                     cab_error *err)
{
  char valid[160];
  cab_protection_format((1u << CAB_PROT_N_ITEMS) - 1, valid, sizeof valid);
  *out = 0;
  if (strcmp(list, "none") == 0)
    return 0;
  const char *p = list;
  for (;;) {
    size_t n = strcspn(p, ",");
    int found = -1;
    for (int i = 0; i < CAB_PROT_N_ITEMS && found < 0; i++)
      if (n == strlen(item_names[i]) && strncmp(p, item_names[i], n) == 0)
        found = i;
    if (found < 0)
      return cab_error_set(err, 0, "%s %s: %s%.*s%s is no protection item; expected a "
                           "comma-separated list of %s, or none",
                           option, list, n ? "'" : "", (int)n, p, n ? "'" : "an empty item",
                           valid);
    *out |= BIT(found);
    if (p[n] == '\0')
      return 0;
    p += n + 1;
  }
}

static bool
by_cgroup(const char *limit)
{
  return strncmp(limit, "cgroup-", 7) == 0;
}

static bool
unlimited(const char *limit)
{
  return strcmp(limit, CAB_PROT_UNLIMITED) == 0;
}

cab_protection_set
cab_protection_held(const struct cab_protection *p)
{
  if (!p->ran)
    return 0;
  cab_protection_set s = 0;
  if ((p->namespaces & CAB_NS_ALL) == CAB_NS_ALL)
    s |= BIT(CAB_PROT_NAMESPACES);
  if (p->seccomp[0] && strcmp(p->seccomp, "unconfined") != 0 &&
      strcmp(p->verifier_seccomp, "unconfined") != 0)
    s |= BIT(CAB_PROT_SECCOMP);
  const char *lim[] = {p->limits.memory, p->limits.pids, p->limits.cpu};
  bool any = false, all = true;
  for (int i = 0; i < 3; i++) {
    if (by_cgroup(lim[i]))
      s |= BIT(CAB_PROT_MEMORY + i);
    any |= by_cgroup(lim[i]);
    all &= by_cgroup(lim[i]) || unlimited(lim[i]);
  }
  if (any && all)
    s |= BIT(CAB_PROT_CGROUP);
  if (p->root[0] && strcmp(p->root, "host") != 0)
    s |= BIT(CAB_PROT_IMAGE);
  if (strcmp(p->root, "overlay") == 0)
    s |= BIT(CAB_PROT_OVERLAY);
  return s;
}

const char *
cab_protection_level(const struct cab_protection *p)
{
  cab_protection_set held = cab_protection_held(p);
  size_t i = 0;
  while ((held & levels[i].needs) != levels[i].needs)
    i++; /* the last row needs nothing */
  return levels[i].name;
}

/* "memory would be enforced by rlimit+watchdog", "cpu is not limited"... */
static void
limit_phrase(const char *name, const char *value, bool predicted, char *buf, size_t size)
{
  const char *is = predicted ? "would be" : "was";
  if (unlimited(value)) {
    snprintf(buf, size, "%s %s limited at all", name, predicted ? "would not be" : "was not");
    return;
  }
  const char *by = value;
  if (strcmp(value, "rlimit") == 0)
    by = strcmp(name, "memory") == 0 ? "rlimit+watchdog" : strcmp(name, "pids") == 0 ? "RLIMIT_NPROC" : "an rlimit";
  if (strcmp(value, "none") == 0)
    snprintf(buf, size, "%s %s enforced by nothing", name, is);
  else
    snprintf(buf, size, "%s %s enforced by %s", name, is, by);
}

int
cab_protection_first_missing(const struct cab_protection *p, cab_protection_set required,
                             bool predicted, char *buf, size_t size)
{
  cab_protection_set missing = required & ~cab_protection_held(p);
  int item = -1;
  for (int i = 0; i < CAB_PROT_N_ITEMS && item < 0; i++)
    if (missing & BIT(i))
      item = i;
  buf[0] = '\0';
  if (item < 0)
    return -1;
  const char *is = predicted ? "would be" : "was";
  if (!p->ran) {
    snprintf(buf, size, "the sandbox did not run");
    return item;
  }
  const char *lim_names[] = {"memory", "pids", "cpu"};
  const char *lim[] = {p->limits.memory, p->limits.pids, p->limits.cpu};
  switch ((enum cab_protection_item)item) {
  case CAB_PROT_NAMESPACES: {
    size_t used = (size_t)snprintf(buf, size, "the sandbox %s only in the namespaces:",
                                   predicted ? "would be" : "was");
    for (size_t i = 0; i < N_NAMESPACES && used < size; i++)
      if (p->namespaces & namespaces[i].bit)
        used += (size_t)snprintf(buf + used, size - used, " %s", namespaces[i].name);
    break;
  }
  case CAB_PROT_SECCOMP:
    snprintf(buf, size, "the %sseccomp policy %s unconfined",
             strcmp(p->seccomp, "unconfined") == 0 ? "" : "verifier's ", is);
    break;
  case CAB_PROT_CGROUP: {
    int first = -1;
    for (int i = 0; i < 3 && first < 0; i++)
      if (!by_cgroup(lim[i]) && !unlimited(lim[i]))
        first = i;
    if (first < 0)
      snprintf(buf, size, "no memory, pids or cpu limit %s asked for", is);
    else
      limit_phrase(lim_names[first], lim[first], predicted, buf, size);
    break;
  }
  case CAB_PROT_MEMORY:
  case CAB_PROT_PIDS:
  case CAB_PROT_CPU:
    limit_phrase(lim_names[item - CAB_PROT_MEMORY], lim[item - CAB_PROT_MEMORY], predicted, buf,
                 size);
    break;
  case CAB_PROT_IMAGE:
    snprintf(buf, size, "the root %s the host's /", is);
    break;
  case CAB_PROT_OVERLAY:
    snprintf(buf, size, "the root %s %s", is,
             strcmp(p->root, "copy") == 0    ? "a private copy (overlayfs cannot be mounted in a "
                                               "user namespace here)"
             : strcmp(p->root, "host") == 0 ? "the host's /"
                                            : "a read-only directory, without an overlay");
    break;
  case CAB_PROT_N_ITEMS:
    break;
  }
  return item;
}

static cJSON *
set_json(cab_protection_set set)
{
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < CAB_PROT_N_ITEMS; i++)
    if (set & BIT(i))
      cJSON_AddItemToArray(a, cJSON_CreateString(item_names[i]));
  return a;
}

static const char *
or_none(const char *v)
{
  return v[0] ? v : "none";
}

cJSON *
cab_protection_to_json(const struct cab_protection *p)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "level", cab_protection_level(p));
  cJSON_AddItemToObject(j, "required", set_json(p->required));
  cJSON *ns = cJSON_AddArrayToObject(j, "namespaces");
  for (size_t i = 0; i < N_NAMESPACES; i++)
    if (p->ran && (p->namespaces & namespaces[i].bit))
      cJSON_AddItemToArray(ns, cJSON_CreateString(namespaces[i].name));
  if (p->ran && p->seccomp[0])
    cJSON_AddStringToObject(j, "seccomp", p->seccomp);
  else
    cJSON_AddNullToObject(j, "seccomp");
  if (p->verifier_seccomp[0])
    cJSON_AddStringToObject(j, "verifier_seccomp", p->verifier_seccomp);
  else
    cJSON_AddNullToObject(j, "verifier_seccomp");
  cJSON *caps = cJSON_AddArrayToObject(j, "capabilities");
  for (const char *c = p->capabilities; p->ran && *c;) {
    size_t n = strcspn(c, ",");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)n, c);
    cJSON_AddItemToArray(caps, cJSON_CreateString(name));
    c += n + (c[n] == ',');
  }
  /* A sandbox that was never composed (a cell stopped before its agent)
   * says "none" for each. */
  cJSON *lim = cJSON_AddObjectToObject(j, "limits");
  cJSON_AddStringToObject(lim, "memory", or_none(p->limits.memory));
  cJSON_AddStringToObject(lim, "pids", or_none(p->limits.pids));
  cJSON_AddStringToObject(lim, "cpu", or_none(p->limits.cpu));
  cJSON_AddStringToObject(lim, "time", or_none(p->limits.time));
  cJSON_AddStringToObject(lim, "disk", or_none(p->limits.disk));
  cJSON_AddStringToObject(j, "root", or_none(p->root));
  if (strcmp(p->root, "host") == 0)
    cJSON_AddNumberToObject(j, "masked_paths", (double)p->masked_paths);
  cJSON_AddStringToObject(j, "network", or_none(p->network));
  return j;
}

static void
copy_str(const cJSON *o, const char *key, char *dst, size_t size)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  snprintf(dst, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int
cab_protection_from_json(const cJSON *j, struct cab_protection *p)
{
  memset(p, 0, sizeof *p);
  if (!cJSON_IsObject(j))
    return -1;
  copy_str(j, "level", p->level, sizeof p->level);
  copy_str(j, "seccomp", p->seccomp, sizeof p->seccomp);
  p->ran = p->seccomp[0] != '\0';
  copy_str(j, "verifier_seccomp", p->verifier_seccomp, sizeof p->verifier_seccomp);
  const cJSON *v;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "namespaces"))
    for (size_t i = 0; i < N_NAMESPACES; i++)
      if (cJSON_IsString(v) && strcmp(v->valuestring, namespaces[i].name) == 0)
        p->namespaces |= namespaces[i].bit;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "required"))
    for (int i = 0; i < CAB_PROT_N_ITEMS; i++)
      if (cJSON_IsString(v) && strcmp(v->valuestring, item_names[i]) == 0)
        p->required |= BIT(i);
  size_t used = 0;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "capabilities"))
    if (cJSON_IsString(v) && used < sizeof p->capabilities)
      used += (size_t)snprintf(p->capabilities + used, sizeof p->capabilities - used, "%s%s",
                               used ? "," : "", v->valuestring);
  const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
  copy_str(lim, "memory", p->limits.memory, sizeof p->limits.memory);
  copy_str(lim, "pids", p->limits.pids, sizeof p->limits.pids);
  copy_str(lim, "cpu", p->limits.cpu, sizeof p->limits.cpu);
  copy_str(lim, "time", p->limits.time, sizeof p->limits.time);
  copy_str(lim, "disk", p->limits.disk, sizeof p->limits.disk);
  copy_str(j, "root", p->root, sizeof p->root);
  v = cJSON_GetObjectItemCaseSensitive(j, "masked_paths");
  p->masked_paths = cJSON_IsNumber(v) && v->valuedouble > 0 ? (size_t)v->valuedouble : 0;
  copy_str(j, "network", p->network, sizeof p->network);
  return 0;
}
