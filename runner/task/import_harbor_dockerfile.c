/* The Dockerfiles cab can apply without building (import_harbor.h): FROM,
 * WORKDIR, ENV, COPY into WORKDIR and USER root; instructions that change
 * nothing the agent or the verifier sees (LABEL, EXPOSE, CMD, ENTRYPOINT,
 * HEALTHCHECK, STOPSIGNAL, MAINTAINER) are ignored with a note; anything
 * else is refused with its line. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "runner/task/import_harbor.h"

void
cab_harbor_dockerfile_free(struct cab_harbor_dockerfile *d)
{
  free(d->from);
  free(d->workdir);
  cab_strv_free(&d->env);
  cab_strv_free(&d->copies);
  cab_strv_free(&d->notes);
  memset(d, 0, sizeof *d);
}

struct words {
  char *v[64];
  size_t n;
};

static void
words_free(struct words *w)
{
  for (size_t i = 0; i < w->n; i++)
    free(w->v[i]);
  w->n = 0;
}

/* Split ARGS: a JSON array of strings (exec form), or words separated by
 * blanks, each possibly "double" or 'single' quoted. */
static int
split(const char *args, struct words *w)
{
  w->n = 0;
  if (args[0] == '[') {
    cJSON *j = cJSON_Parse(args);
    const cJSON *e;
    bool ok = cJSON_IsArray(j);
    cJSON_ArrayForEach(e, j) {
      if (!cJSON_IsString(e) || w->n == 64 || (w->v[w->n++] = strdup(e->valuestring)) == NULL)
        ok = false;
    }
    cJSON_Delete(j);
    return ok ? 0 : -1;
  }
  const char *p = args;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      return 0;
    if (w->n == 64)
      return -1;
    char buf[4096];
    size_t n = 0;
    while (*p && *p != ' ' && *p != '\t') {
      if (*p == '"' || *p == '\'') {
        char q = *p++;
        while (*p && *p != q) {
          if (q == '"' && *p == '\\' && p[1])
            p++;
          if (n + 1 >= sizeof buf)
            return -1;
          buf[n++] = *p++;
        }
        if (*p != q)
          return -1;
        p++;
        continue;
      }
      if (*p == '\\' && p[1])
        p++;
      if (n + 1 >= sizeof buf)
        return -1;
      buf[n++] = *p++;
    }
    buf[n] = '\0';
    if ((w->v[w->n++] = strdup(buf)) == NULL)
      return -1;
  }
}

/* "a/./b/../c" against BASE into an absolute, normal path in OUT. */
static int
resolve(const char *base, const char *path, char *out, size_t size)
{
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s/%s", path[0] == '/' ? "" : base, path) >= (int)sizeof buf)
    return -1;
  size_t n = 0;
  out[0] = '\0';
  for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      char *slash = strrchr(out, '/');
      n = slash ? (size_t)(slash - out) : 0;
      out[n] = '\0';
      continue;
    }
    int w = snprintf(out + n, size - n, "/%s", c);
    if (w < 0 || (size_t)w >= size - n)
      return -1;
    n += (size_t)w;
  }
  if (n == 0 && size > 1)
    snprintf(out, size, "/");
  return 0;
}

/* A source inside the build context: relative, no "..", no wildcard. */
static bool
plain_source(const char *s)
{
  if (s[0] == '/' || s[0] == '\0' || strpbrk(s, "*?[") || strchr(s, '$'))
    return false;
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
    if (strcmp(c, "..") == 0)
      return false;
  return true;
}

static int
parse_copy(struct cab_harbor_dockerfile *d, struct words *w, const char *origin, int line,
           cab_error *err)
{
  size_t first = 0;
  while (first < w->n && strncmp(w->v[first], "--", 2) == 0) {
    if (strncmp(w->v[first], "--chown=", 8) == 0 || strncmp(w->v[first], "--chmod=", 8) == 0) {
      char note[256];
      snprintf(note, sizeof note, "%s:%d: COPY %s ignored: the agent's files are the sandbox "
               "user's", origin, line, w->v[first]);
      if (cab_strv_push(&d->notes, note) < 0)
        return cab_error_set(err, ENOMEM, "%s", origin);
      first++;
      continue;
    }
    return cab_error_set(err, 0, "%s:%d: COPY %s is not supported: cab builds no image; copy "
                         "from the build context only", origin, line, w->v[first]);
  }
  if (w->n - first < 2)
    return cab_error_set(err, 0, "%s:%d: COPY needs a source and a destination", origin, line);
  if (d->workdir == NULL)
    return cab_error_set(err, 0, "%s:%d: COPY before WORKDIR: cab puts the copied files in "
                         "the task's workdir, so set WORKDIR first", origin, line);
  const char *dst = w->v[w->n - 1];
  char abs[4096];
  if (resolve(d->workdir, dst, abs, sizeof abs) < 0)
    return cab_error_set(err, ENAMETOOLONG, "%s:%d: COPY destination too long", origin, line);
  size_t wl = strlen(d->workdir);
  const char *rel;
  if (strcmp(abs, d->workdir) == 0)
    rel = "";
  else if (strncmp(abs, d->workdir, wl) == 0 && abs[wl] == '/')
    rel = abs + wl + 1;
  else
    return cab_error_set(err, 0, "%s:%d: COPY to %s, outside WORKDIR %s: cab carries only the "
                         "WORKDIR into the task (it makes no image layer); copy into WORKDIR",
                         origin, line, abs, d->workdir);
  bool into = rel[0] == '\0' || dst[strlen(dst) - 1] == '/' || w->n - first > 2;
  for (size_t i = first; i + 1 < w->n; i++) {
    if (!plain_source(w->v[i]))
      return cab_error_set(err, 0, "%s:%d: COPY source '%s': only plain paths inside the "
                           "build context (no '..', wildcards or variables)", origin, line,
                           w->v[i]);
    char target[4096];
    snprintf(target, sizeof target, "%s%s", rel, into && rel[0] ? "/" : "");
    if (cab_strv_push(&d->copies, w->v[i]) < 0 || cab_strv_push(&d->copies, target) < 0)
      return cab_error_set(err, ENOMEM, "%s", origin);
  }
  return 0;
}

/* ENV NAME=value ... or ENV NAME value. */
static int
parse_env(struct cab_harbor_dockerfile *d, const char *args, struct words *w, const char *origin,
          int line, cab_error *err)
{
  if (strchr(args, '$'))
    return cab_error_set(err, 0, "%s:%d: ENV with $ expansion is not supported; write the "
                         "value out", origin, line);
  if (w->n >= 1 && strchr(w->v[0], '=') == NULL) {
    /* the legacy form: the rest of the line is the value */
    const char *v = args + strlen(w->v[0]);
    while (*v == ' ' || *v == '\t')
      v++;
    cleanup_free char *kv = NULL;
    if (asprintf(&kv, "%s=%s", w->v[0], v) < 0 || cab_strv_push(&d->env, kv) < 0)
      return cab_error_set(err, ENOMEM, "%s", origin);
    return 0;
  }
  for (size_t i = 0; i < w->n; i++) {
    const char *eq = strchr(w->v[i], '=');
    if (eq == NULL || eq == w->v[i])
      return cab_error_set(err, 0, "%s:%d: ENV '%s' is not NAME=value", origin, line, w->v[i]);
    if (cab_strv_push(&d->env, w->v[i]) < 0)
      return cab_error_set(err, ENOMEM, "%s", origin);
  }
  return 0;
}

/* PREBUILT: the Dockerfile only documents [environment] docker_image, which
 * Harbor runs as it is: what built it (RUN, COPY, ADD, ARG, stages) is in
 * the image, and only the last stage's WORKDIR (and USER) matter. */
static int
prebuilt_instruction(struct cab_harbor_dockerfile *d, const char *kw, const char *args,
                     const char *origin, int line, cab_error *err)
{
  if (strcasecmp(kw, "FROM") == 0) {
    free(d->from);
    free(d->workdir);
    d->workdir = NULL;
    d->from = strndup(args, strcspn(args, " \t"));
    return d->from ? 0 : cab_error_set(err, ENOMEM, "%s", origin);
  }
  if (strcasecmp(kw, "WORKDIR") == 0 || strcasecmp(kw, "USER") == 0)
    return 1; /* read as for a Dockerfile cab applies */
  return 0;
}

static int
instruction(struct cab_harbor_dockerfile *d, const char *kw, const char *args, const char *origin,
            int line, cab_error *err)
{
  if (d->prebuilt) {
    int r = prebuilt_instruction(d, kw, args, origin, line, err);
    if (r <= 0)
      return r;
  }
  static const char *const ignored[] = {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK",
                                        "STOPSIGNAL", "MAINTAINER", NULL};
  for (size_t i = 0; ignored[i]; i++)
    if (strcasecmp(kw, ignored[i]) == 0) {
      char note[256];
      snprintf(note, sizeof note, "%s:%d: %s ignored (it changes nothing the agent or the "
               "verifier sees)", origin, line, ignored[i]);
      return cab_strv_push(&d->notes, note) < 0 ? cab_error_set(err, ENOMEM, "%s", origin) : 0;
    }
  struct words w = {0};
  if (split(args, &w) < 0) {
    words_free(&w);
    return cab_error_set(err, 0, "%s:%d: %s: cannot read its arguments (quotes?)", origin, line,
                         kw);
  }
  int rc = 0;
  if (strcasecmp(kw, "FROM") == 0) {
    bool alias = w.n == 3 && strcasecmp(w.v[1], "AS") == 0;
    if (d->from)
      rc = cab_error_set(err, 0, "%s:%d: a second FROM (a multi-stage build): cab builds no "
                         "image; use one FROM", origin, line);
    else if (w.n == 0 || (w.n != 1 && !alias) || strncmp(w.v[0], "--", 2) == 0 ||
             strchr(w.v[0], '$'))
      rc = cab_error_set(err, 0, "%s:%d: FROM must name one image (FROM REF [AS NAME])", origin,
                         line);
    else if ((d->from = strdup(w.v[0])) == NULL)
      rc = cab_error_set(err, ENOMEM, "%s", origin);
  } else if (d->from == NULL) {
    rc = cab_error_set(err, 0, "%s:%d: %s before FROM: cab reads no ARG or other instruction "
                       "before FROM", origin, line, kw);
  } else if (strcasecmp(kw, "WORKDIR") == 0) {
    char abs[4096];
    if (w.n != 1 || strchr(w.v[0], '$') ||
        resolve(d->workdir ? d->workdir : "/", w.v[0], abs, sizeof abs) < 0)
      rc = cab_error_set(err, 0, "%s:%d: WORKDIR must be one path without variables", origin,
                         line);
    else if (strcmp(abs, "/") == 0)
      rc = cab_error_set(err, 0, "%s:%d: WORKDIR / : cab mounts the task's files at WORKDIR, "
                         "which cannot be the root", origin, line);
    else {
      free(d->workdir);
      if ((d->workdir = strdup(abs)) == NULL)
        rc = cab_error_set(err, ENOMEM, "%s", origin);
    }
  } else if (strcasecmp(kw, "ENV") == 0) {
    rc = parse_env(d, args, &w, origin, line, err);
  } else if (strcasecmp(kw, "COPY") == 0) {
    rc = parse_copy(d, &w, origin, line, err);
  } else if (strcasecmp(kw, "USER") == 0) {
    if (w.n != 1 || (strcmp(w.v[0], "root") != 0 && strcmp(w.v[0], "0") != 0 &&
                     strcmp(w.v[0], "0:0") != 0 && strcmp(w.v[0], "root:root") != 0))
      rc = cab_error_set(err, 0, "%s:%d: USER %s: cab runs the agent and the verifier as the "
                         "image's root (in a user namespace); a task needing another user "
                         "cannot be imported yet", origin, line, w.n ? w.v[0] : "");
  } else if (strcasecmp(kw, "RUN") == 0) {
    rc = cab_error_set(err, 0, "%s:%d: RUN: cab builds no image; build it elsewhere, push it "
                       "to a registry and name it as [environment] docker_image", origin, line);
  } else {
    rc = cab_error_set(err, 0, "%s:%d: %s is not supported: cab applies only FROM, WORKDIR, "
                       "ENV, COPY and USER root without building", origin, line, kw);
  }
  words_free(&w);
  return rc;
}

int
cab_harbor_dockerfile_parse(const char *text, const char *origin, bool prebuilt,
                            struct cab_harbor_dockerfile *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  out->prebuilt = prebuilt;
  const char *p = text;
  int line = 0;
  char joined[8192];
  size_t jn = 0;
  int start = 0;
  int rc = 0;
  while (rc == 0 && *p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    line++;
    char buf[4096];
    if (len >= sizeof buf) {
      rc = cab_error_set(err, 0, "%s:%d: a line longer than %zu bytes", origin, line,
                         sizeof buf - 1);
      break;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    p = nl ? nl + 1 : p + len;
    if (len && buf[len - 1] == '\r')
      buf[--len] = '\0';
    const char *s = buf;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s == '#' || (*s == '\0' && jn == 0))
      continue; /* comments, parser directives and blank lines */
    if (jn == 0)
      start = line;
    bool cont = len > 0 && buf[len - 1] == '\\';
    if (cont)
      buf[--len] = '\0';
    size_t add = strlen(s);
    if (jn + add + 2 >= sizeof joined) {
      rc = cab_error_set(err, 0, "%s:%d: an instruction longer than %zu bytes", origin, start,
                         sizeof joined - 2);
      break;
    }
    if (jn)
      joined[jn++] = ' ';
    memcpy(joined + jn, s, add);
    jn += add;
    joined[jn] = '\0';
    if (cont && *p)
      continue;
    char *args = joined;
    while (*args && !isspace((unsigned char)*args))
      args++;
    char kw[32];
    snprintf(kw, sizeof kw, "%.*s", (int)(args - joined), joined);
    while (isspace((unsigned char)*args))
      args++;
    size_t al = strlen(args);
    while (al && isspace((unsigned char)args[al - 1]))
      args[--al] = '\0';
    rc = instruction(out, kw, args, origin, start, err);
    jn = 0;
  }
  if (rc == 0 && out->from == NULL)
    rc = cab_error_set(err, 0, "%s: no FROM", origin);
  if (rc == 0 && out->workdir == NULL)
    rc = cab_error_set(err, 0, "%s: no WORKDIR: cab mounts the task's files at the Dockerfile's "
                       "WORKDIR; add one (Harbor tasks use WORKDIR /app)", origin);
  if (rc < 0)
    cab_harbor_dockerfile_free(out);
  return rc;
}
