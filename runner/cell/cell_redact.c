/* The cell's last check before it is committed: no artifact holds the real
 * API key.
 *
 * The proxy never hands the key to the sandbox (runner/proxy/allow.h,
 * redact.h), but a key that got out some other way (a model that was
 * given it and repeats it, a task file that holds it) would otherwise be
 * published with the cell: in agent.log, terminal.cast, diff.patch,
 * cell.json, and from there on the site.  So every file of the staging
 * directory is searched for the key (any letter case) just before the
 * rename that commits the cell; a file that holds it is rewritten with the
 * placeholder (temp file + rename), and cell.json says so:
 * "key_redacted": true and "key_redacted_in": [the files].  The artifacts
 * are checked once before they are scored as well: the scorers quote them
 * (pass_rate's output tails), and `cab score` must find the same figures
 * in the redacted cell.
 *
 * Cost: two reads of every artifact (a few MB at most, ~1 ms per MB); the
 * rewrite happens only when the key is found. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/ttyline.h"
#include "runner/cell/cell_internal.h"
#include "runner/proxy/redact.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"

struct scan {
  const char *key;
  struct cell *c;   /* the files found so far: c->key_redacted */
  size_t found;     /* by this pass */
};

static void
note_file(struct cell *c, const char *rel)
{
  for (size_t i = 0; i < c->n_key_redacted; i++)
    if (strcmp(c->key_redacted[i], rel) == 0)
      return;
  if (c->n_key_redacted < CAB_CELL_MAX_REDACTED &&
      (c->key_redacted[c->n_key_redacted] = strdup(rel)) != NULL)
    c->n_key_redacted++;
}

static void
closedirp(DIR **d)
{
  if (*d)
    closedir(*d);
}

/* PATH (its name in the cell: REL): rewritten when it holds the key. */
static int
scan_file(struct scan *s, const char *path, const char *rel, off_t size, cab_error *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (cab_read_file_at(AT_FDCWD, path, (size_t)size + 1, &data, &len, err) < 0)
    return -1;
  struct cab_redactor *r = cab_redactor_new(s->key, CAB_PROXY_PLACEHOLDER_KEY);
  if (r == NULL)
    return cab_error_set(err, ENOMEM, "redact %s", rel);
  struct cab_byteq q = {0};
  cab_redactor_feed(r, data, len, NULL, NULL);
  bool hit = cab_redactor_hits(r) > 0;
  cab_redactor_free(r);
  if (!hit)
    return 0;
  r = cab_redactor_new(s->key, CAB_PROXY_PLACEHOLDER_KEY);
  int rc = -1;
  if (r && cab_redactor_feed(r, data, len, cab_byteq_sink, &q) == 0 &&
      cab_redactor_end(r, cab_byteq_sink, &q) == 0)
    rc = cab_write_file_atomic(path, q.data ? q.data : "", q.len, 0644, err);
  else
    cab_error_set(err, ENOMEM, "redact %s", rel);
  cab_redactor_free(r);
  cab_byteq_clear(&q);
  if (rc < 0)
    return -1;
  note_file(s->c, rel);
  s->found++;
  return 0;
}

/* Every regular file under DIR (REL: its path in the cell, "" at the top). */
static int
scan_dir(struct scan *s, const char *dir, const char *rel, int depth, cab_error *err)
{
  __attribute__((cleanup(closedirp))) DIR *d = opendir(dir);
  if (d == NULL)
    return cab_error_sys(err, "open %s", dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char path[PATH_MAX], name[PATH_MAX];
    if (cab_path_printf(path, sizeof path, err, "%s/%s", dir, e->d_name) < 0 ||
        cab_path_printf(name, sizeof name, err, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) < 0)
      return -1;
    struct stat st;
    if (lstat(path, &st) < 0)
      return cab_error_sys(err, "stat %s", path);
    if (S_ISDIR(st.st_mode) && depth < 8) {
      if (scan_dir(s, path, name, depth + 1, err) < 0)
        return -1;
    } else if (S_ISREG(st.st_mode) && scan_file(s, path, name, st.st_size, err) < 0) {
      return -1;
    }
  }
  return 0;
}

/* cell.json gets the flag and the list of files. */
static int
flag_cell_json(const struct cell *c, cab_error *err)
{
  struct cab_cell_record r;
  if (cab_cell_record_read(AT_FDCWD, c->staging, &r, err) < 0)
    return cab_error_prefix(err, "after the key was redacted from it");
  cJSON *in = cJSON_CreateArray();
  for (size_t i = 0; i < c->n_key_redacted; i++)
    cJSON_AddItemToArray(in, cJSON_CreateString(c->key_redacted[i]));
  r.key_redacted = true;
  r.key_redacted_in = in;
  int rc = cab_cell_record_write(c->staging, &r, err);
  cJSON_Delete(in);
  cab_cell_record_free(&r);
  return rc;
}

int
cab_cell_redact_key(struct cell *c, bool commit, cab_error *err)
{
  const char *key = c->o->key_env ? getenv(c->o->key_env) : NULL;
  if (key == NULL || key[0] == '\0')
    return 0; /* no key: nothing of it can be in the cell */
  struct scan s = {.key = key, .c = c};
  int rc = scan_dir(&s, c->staging, "", 0, err);
  if (rc == 0 && commit && c->n_key_redacted > 0) {
    rc = flag_cell_json(c, err);
    cab_warn(stderr,
             "cell %s: the API key was found in %zu artifact(s) (first: %s) and replaced "
             "with the placeholder",
             c->cell_id, c->n_key_redacted, c->key_redacted[0]);
  }
  if (rc < 0)
    cab_error_prefix(err, "checking the cell for the API key");
  return rc;
}

char *
cab_cell_redact_text(const struct cell *c, const char *text)
{
  const char *key = c->o->key_env ? getenv(c->o->key_env) : NULL;
  bool failed = false;
  char *clean = key && key[0] ? cab_redact_string(text, key, CAB_PROXY_PLACEHOLDER_KEY, &failed)
                              : NULL;
  return clean ? clean : failed ? NULL : strdup(text);
}
