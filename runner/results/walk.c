/* Find every cell.json below a results root. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "rootfs/digest.h"
#include "runner/results/internal.h"

/* Far deeper than sweep/tui/model.../family/task/run-N/X.attempt-N. */
#define MAX_DEPTH 48

long
cab_results_attempt_suffix(const char *name, size_t *stem_len)
{
  const char *p = strstr(name, ".attempt-");
  if (p == NULL)
    return 0;
  /* the last occurrence */
  for (const char *q; (q = strstr(p + 1, ".attempt-")) != NULL;)
    p = q;
  const char *d = p + strlen(".attempt-");
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

/* "NAME.old-PID": run-cell moved the previous cell aside for a moment. */
static bool
is_old_aside(const char *name)
{
  const char *p = strstr(name, ".old-");
  if (p == NULL || p == name || p[5] == '\0')
    return false;
  for (p += 5; *p; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  return true;
}

static int
push(struct cab_results_found_list *l, const char *rel, const struct stat *st, cab_error *err)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct cab_results_found *v = realloc(l->v, cap * sizeof *v);
    if (v == NULL)
      return cab_error_sys(err, "list the cells");
    l->v = v;
    l->cap = cap;
  }
  struct cab_results_found *f = &l->v[l->n];
  memset(f, 0, sizeof *f);
  f->rel = strdup(rel);
  if (f->rel == NULL)
    return cab_error_sys(err, "list the cells");
  l->n++;
  f->size = st->st_size;
  f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;

  /* The last path component saying ".attempt-N" makes this an attempt at
   * the cell named without the suffix. */
  size_t len = strlen(rel), start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (rel[i] != '/' && rel[i] != '\0')
      continue;
    char comp[256];
    size_t clen = i - start;
    if (clen > 0 && clen < sizeof comp) {
      memcpy(comp, rel + start, clen);
      comp[clen] = '\0';
      size_t stem = 0;
      long n = cab_results_attempt_suffix(comp, &stem);
      if (n > 0) {
        free(f->attempt_of);
        /* "a/b/task.attempt-2/run-1" -> "a/b/task/run-1";
         * "a/b/task/.attempt-2" -> "a/b/task" */
        size_t keep = start + stem;
        const char *rest = rel + i;
        if (stem == 0 && keep > 0)
          keep--; /* drop the '/' before ".attempt-N" */
        if (asprintf(&f->attempt_of, "%.*s%s", (int)keep, rel, rest) < 0) {
          f->attempt_of = NULL;
          return cab_error_sys(err, "list the cells");
        }
        if (f->attempt_of[0] == '\0') {
          free(f->attempt_of);
          f->attempt_of = strdup(".");
        }
        f->attempt = n;
      }
    }
    start = i + 1;
  }
  return 0;
}

static int
walk(int dirfd, const char *root, char *rel, size_t rel_len, size_t rel_cap, int depth,
     struct cab_results_found_list *l, cab_error *err)
{
  int fd = dup(dirfd);
  if (fd < 0)
    return cab_error_sys(err, "%s/%s", root, rel);
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return cab_error_sys(err, "read %s/%s", root, rel);
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0)
        return cab_error_sys(err, "read %s/%s", root, rel);
      return 0;
    }
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) /* gone since readdir: a cell being replaced */
        continue;
      return cab_error_sys(err, "stat %s/%s%s%s", root, rel, rel_len ? "/" : "", name);
    }
    if (S_ISREG(st.st_mode) && strcmp(name, "cell.json") == 0) {
      if (push(l, rel_len ? rel : ".", &st, err) < 0)
        return -1;
      continue;
    }
    if (!S_ISDIR(st.st_mode))
      continue;
    if ((name[0] == '.' && cab_results_attempt_suffix(name, NULL) == 0) || is_old_aside(name))
      continue;
    size_t nlen = strlen(name);
    if (rel_len + 1 + nlen + 1 > rel_cap)
      return cab_error_set(err, ENAMETOOLONG, "%s/%s/%s: path too long", root, rel, name);
    if (depth >= MAX_DEPTH)
      return cab_error_set(err, ELOOP, "%s/%s: more than %d directories deep", root, rel,
                           MAX_DEPTH);
    size_t at = rel_len;
    if (rel_len)
      rel[at++] = '/';
    memcpy(rel + at, name, nlen + 1);
    cleanup_close int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 && errno != ENOENT)
      return cab_error_sys(err, "open %s/%s", root, rel);
    if (sub >= 0 && walk(sub, root, rel, at + nlen, rel_cap, depth + 1, l, err) < 0)
      return -1;
    rel[rel_len] = '\0';
  }
}

static int
cmp_found(const void *a, const void *b)
{
  return strcmp(((const struct cab_results_found *)a)->rel,
                ((const struct cab_results_found *)b)->rel);
}

int
cab_results_find(const char *root, struct cab_results_found_list *l, char fingerprint[65],
                 cab_error *err)
{
  memset(l, 0, sizeof *l);
  cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "%s", root);
  char rel[4096] = "";
  if (walk(fd, root, rel, 0, sizeof rel, 0, l, err) < 0) {
    cab_results_found_free(l);
    return -1;
  }
  if (l->n > 1)
    qsort(l->v, l->n, sizeof *l->v, cmp_found);

  struct cab_sha256 *h = cab_sha256_new();
  if (h == NULL) {
    cab_results_found_free(l);
    return cab_error_set(err, ENOMEM, "sha256 of the cell list");
  }
  for (size_t i = 0; i < l->n; i++) {
    char line[64];
    int n = snprintf(line, sizeof line, "\n%lld %lld\n", (long long)l->v[i].size,
                     (long long)l->v[i].mtime_ns);
    cab_sha256_update(h, l->v[i].rel, strlen(l->v[i].rel));
    cab_sha256_update(h, line, (size_t)n);
  }
  char digest[CAB_DIGEST_LEN + 1];
  cab_sha256_final(h, digest);
  memcpy(fingerprint, digest + 7, 65);
  return 0;
}

void
cab_results_found_free(struct cab_results_found_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].rel);
    free(l->v[i].attempt_of);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}
