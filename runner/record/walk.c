/* Find every cell below a results root (runner/record/walk.h). */
#include "runner/record/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runner/record/artifacts.h"
#include "runner/record/layout.h"

/* Far deeper than sweep/tui/model.../family/task/run-N/X.attempt-N. */
#define MAX_DEPTH 48

struct walk {
  const char *root;
  unsigned flags;
  struct cab_record_found_list *l;
  char rel[4096];
};

/* "a/b/task.attempt-2/run-1" -> attempt 2 of "a/b/task/run-1";
 * "a/b/task/.attempt-2" -> attempt 2 of "a/b/task": the last path component
 * saying ".attempt-N" decides. */
static int
classify(struct cab_record_found *f, const char *rel, cab_error *err)
{
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
      long n = cab_record_attempt_suffix(comp, &stem);
      if (n > 0) {
        free(f->attempt_of);
        size_t keep = start + stem;
        if (stem == 0 && keep > 0)
          keep--; /* drop the '/' before ".attempt-N" */
        if (asprintf(&f->attempt_of, "%.*s%s", (int)keep, rel, rel + i) < 0) {
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
push(struct cab_record_found_list *l, const char *rel, const struct stat *st, cab_error *err)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct cab_record_found *v = realloc(l->v, cap * sizeof *v);
    if (v == NULL)
      return cab_error_sys(err, "list the cells");
    l->v = v;
    l->cap = cap;
  }
  struct cab_record_found *f = &l->v[l->n];
  memset(f, 0, sizeof *f);
  f->rel = strdup(rel);
  if (f->rel == NULL)
    return cab_error_sys(err, "list the cells");
  l->n++;
  f->size = st->st_size;
  f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  return classify(f, rel, err);
}

/* Hidden directories other than ".attempt-N", and asides, hold no cells. */
static bool
enters(const char *name)
{
  if (name[0] == '.' && cab_record_attempt_suffix(name, NULL) == 0)
    return false;
  return !cab_record_is_aside(name);
}

static int
walk_dir(struct walk *w, int dirfd, size_t rel_len, int depth, cab_error *err)
{
  bool tolerant = w->flags & CAB_RECORD_WALK_TOLERANT;
  const char *rel = rel_len ? w->rel : ".";
  struct stat st;
  if (fstatat(dirfd, CAB_CELL_JSON, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISREG(st.st_mode)) {
      if (push(w->l, rel, &st, err) < 0)
        return -1;
      if ((w->flags & CAB_RECORD_WALK_OUTERMOST) && rel_len > 0)
        return 0;
    }
  } else if (errno != ENOENT && !tolerant) {
    return cab_error_sys(err, "stat %s/%s/" CAB_CELL_JSON, w->root, rel);
  }

  int fd = dup(dirfd);
  if (fd < 0)
    return cab_error_sys(err, "%s/%s", w->root, rel);
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return cab_error_sys(err, "read %s/%s", w->root, rel);
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0 && !tolerant)
        return cab_error_sys(err, "read %s/%s", w->root, rel);
      return 0;
    }
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || !enters(name))
      continue;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT || tolerant) /* ENOENT: gone since readdir, a cell being replaced */
        continue;
      return cab_error_sys(err, "stat %s/%s%s%s", w->root, w->rel, rel_len ? "/" : "", name);
    }
    if (!S_ISDIR(st.st_mode))
      continue;
    size_t nlen = strlen(name);
    if (rel_len + 1 + nlen + 1 > sizeof w->rel)
      return cab_error_set(err, ENAMETOOLONG, "%s/%s/%s: path too long", w->root, w->rel, name);
    if (depth >= MAX_DEPTH) {
      if (tolerant)
        return 0;
      return cab_error_set(err, ELOOP, "%s/%s: more than %d directories deep", w->root, w->rel,
                           MAX_DEPTH);
    }
    size_t at = rel_len;
    if (rel_len)
      w->rel[at++] = '/';
    memcpy(w->rel + at, name, nlen + 1);
    cleanup_close int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 && errno != ENOENT && !tolerant)
      return cab_error_sys(err, "open %s/%s", w->root, w->rel);
    if (sub >= 0 && walk_dir(w, sub, at + nlen, depth + 1, err) < 0)
      return -1;
    w->rel[rel_len] = '\0';
  }
}

static int
by_rel(const void *a, const void *b)
{
  return strcmp(((const struct cab_record_found *)a)->rel,
                ((const struct cab_record_found *)b)->rel);
}

int
cab_record_walk(const char *root, unsigned flags, struct cab_record_found_list *l,
                cab_error *err)
{
  memset(l, 0, sizeof *l);
  cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "%s", root);
  cleanup_free struct walk *w = calloc(1, sizeof *w);
  if (w == NULL)
    return cab_error_sys(err, "list the cells");
  w->root = root;
  w->flags = flags;
  w->l = l;
  if (walk_dir(w, fd, 0, 0, err) < 0) {
    cab_record_found_free(l);
    return -1;
  }
  if (l->n > 1)
    qsort(l->v, l->n, sizeof *l->v, by_rel);
  return 0;
}

void
cab_record_found_free(struct cab_record_found_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].rel);
    free(l->v[i].attempt_of);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}
