/* cab merge: combine sweep outputs (runner/sweep/sweep.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strfmt.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "runner/record/artifacts.h"
#include "runner/record/layout.h"
#include "runner/record/walk.h"
#include "runner/sweep/sweep.h"

#define MAX_DEPTH 48

struct found {
  char *rel;
  size_t input;
  bool skip; /* OUT or an earlier input has it already */
};

struct found_list {
  struct found *v;
  size_t n, cap;
};

/* The outermost cells of INPUT (a cell's subdirectories go with it), the
 * input's own root excepted. */
static int
find_cells(const char *root, size_t input, struct found_list *l, cab_error *err)
{
  struct cab_record_found_list cells;
  if (cab_record_walk(root, CAB_RECORD_WALK_OUTERMOST, &cells, err) < 0)
    return cab_error_prefix(err, "merge");
  int r = 0;
  for (size_t i = 0; r == 0 && i < cells.n; i++) {
    if (strcmp(cells.v[i].rel, ".") == 0)
      continue;
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 256;
      struct found *v = realloc(l->v, cap * sizeof *v);
      if (v == NULL) {
        r = cab_error_sys(err, "merge: memory");
        break;
      }
      l->v = v;
      l->cap = cap;
    }
    /* the walk's string changes hands */
    l->v[l->n++] = (struct found){.rel = cells.v[i].rel, .input = input};
    cells.v[i].rel = NULL;
  }
  cab_record_found_free(&cells);
  return r;
}

static int
by_rel(const void *a, const void *b)
{
  const struct found *x = a, *y = b;
  int c = strcmp(x->rel, y->rel);
  if (c)
    return c;
  return x->input < y->input ? -1 : x->input > y->input;
}

/* 1 when the two files hold the same bytes, 0 when not, -1 on error. */
static int
same_file(const char *a, const char *b, cab_error *err)
{
  cleanup_free char *x = NULL, *y = NULL;
  size_t lx = 0, ly = 0;
  if (cab_read_file_at(AT_FDCWD, a, 256 << 20, &x, &lx, err) < 0 ||
      cab_read_file_at(AT_FDCWD, b, 256 << 20, &y, &ly, err) < 0)
    return -1;
  return lx == ly && memcmp(x, y, lx) == 0;
}

static int
copy_file(int sfd, const char *name, int dfd, mode_t mode, struct cab_merge_summary *sum,
          cab_error *err)
{
  if (linkat(sfd, name, dfd, name, 0) == 0) {
    sum->linked_files++;
    return 0;
  }
  cleanup_close int in = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0)
    return cab_error_sys(err, "merge: open %s", name);
  cleanup_close int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
  if (out < 0)
    return cab_error_sys(err, "merge: create %s", name);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0)
        return cab_error_sys(err, "merge: write %s", name);
      off += w;
    }
  if (n < 0)
    return cab_error_sys(err, "merge: read %s", name);
  sum->copied_files++;
  return 0;
}

/* SRC's tree into the empty directory DST: files hard-linked (copied
 * across filesystems), symlinks recreated.  MERGE: DST may hold some of it
 * already (directories, and files with the same bytes: the same shard
 * merged twice); a file there with other bytes is a conflict. */
static int
copy_tree(const char *src, const char *dst, int depth, bool merge, struct cab_merge_summary *sum,
          cab_error *err)
{
  cleanup_dir DIR *d = opendir(src);
  if (d == NULL)
    return cab_error_sys(err, "merge: read %s", src);
  cleanup_close int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "merge: open %s", dst);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return cab_error_sys(err, "merge: %s/%s", src, e->d_name);
    if (S_ISREG(st.st_mode) && merge && faccessat(dfd, e->d_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
      char a[PATH_MAX], b[PATH_MAX];
      if (cab_path_printf(a, sizeof a, err, "%s/%s", src, e->d_name) < 0 ||
          cab_path_printf(b, sizeof b, err, "%s/%s", dst, e->d_name) < 0)
        return -1;
      int same = same_file(a, b, err);
      if (same < 0)
        return -1;
      if (!same)
        return cab_error_set(err, 0, "merge: conflicting %s: %s differs", b, a);
    } else if (S_ISREG(st.st_mode)) {
      if (copy_file(dirfd(d), e->d_name, dfd, st.st_mode, sum, err) < 0)
        return cab_error_prefix(err, "%s", src);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
      if (n < 0)
        return cab_error_sys(err, "merge: %s/%s", src, e->d_name);
      target[n] = '\0';
      if (symlinkat(target, dfd, e->d_name) < 0)
        return cab_error_sys(err, "merge: %s/%s", dst, e->d_name);
    } else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
      char s2[PATH_MAX], d2[PATH_MAX];
      snprintf(s2, sizeof s2, "%s/%s", src, e->d_name);
      snprintf(d2, sizeof d2, "%s/%s", dst, e->d_name);
      if (mkdir(d2, st.st_mode & 07777) < 0 && !(merge && errno == EEXIST))
        return cab_error_sys(err, "merge: create %s", d2);
      if (copy_tree(s2, d2, depth + 1, merge, sum, err) < 0)
        return -1;
    }
  }
  return 0;
}

/* IN/REL into OUT/REL, whole or not at all: built in a hidden sibling and
 * renamed into place. */
static int
place_cell(const char *in, const char *out, const char *rel, struct cab_merge_summary *sum,
           cab_error *err)
{
  char src[PATH_MAX], dst[PATH_MAX], parent[PATH_MAX], staging[PATH_MAX + 64];
  snprintf(src, sizeof src, "%s/%s", in, rel);
  snprintf(dst, sizeof dst, "%s/%s", out, rel);
  snprintf(parent, sizeof parent, "%s", dst);
  char *slash = strrchr(parent, '/');
  *slash = '\0';
  if (cab_mkdir_p(parent, 0755, err) < 0)
    return -1;
  if (cab_record_merge_template(staging, sizeof staging, parent, slash + 1, getpid(), err) < 0)
    return -1;
  if (mkdtemp(staging) == NULL)
    return cab_error_sys(err, "merge: create a staging directory in %s", parent);
  chmod(staging, 0755);
  if (copy_tree(src, staging, 0, false, sum, err) < 0 || rename(staging, dst) < 0) {
    int saved = errno;
    cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cab_error ignored = {0};
    if (pfd >= 0)
      cab_rm_tree_at(pfd, strrchr(staging, '/') + 1, CAB_RM_PLAIN_NAME, &ignored);
    if (err->message[0] == '\0')
      cab_error_set(err, saved, "merge: put %s in place", dst);
    return -1;
  }
  return 0;
}

/* Each input's IN/<sweep>/.sweep/journal.jsonl appended to OUT's, its
 * plan.json kept when OUT has none, and its recorded cassettes (which the
 * journal names) linked beside it. */
static int
merge_journals(const char *in, const char *out, struct cab_merge_summary *sum, cab_error *err)
{
  cleanup_dir DIR *d = opendir(in);
  if (d == NULL)
    return cab_error_sys(err, "merge: read %s", in);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char src[PATH_MAX], dst_dir[PATH_MAX], dst[PATH_MAX + 32];
    if (cab_record_sweep_meta_dir(src, sizeof src, in, e->d_name, err) < 0 ||
        cab_record_sweep_meta_dir(dst_dir, sizeof dst_dir, out, e->d_name, err) < 0)
      return -1;
    char jpath[PATH_MAX + 32];
    snprintf(jpath, sizeof jpath, "%s/journal.jsonl", src);
    cleanup_free char *text = NULL;
    size_t len = 0;
    cab_error ignored = {0};
    if (cab_read_file_at(AT_FDCWD, jpath, (size_t)1 << 30, &text, &len, &ignored) < 0)
      continue;
    if (cab_mkdir_p(dst_dir, 0755, err) < 0)
      return -1;
    snprintf(dst, sizeof dst, "%s/journal.jsonl", dst_dir);
    cleanup_close int fd = open(dst, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return cab_error_sys(err, "merge: open %s", dst);
    /* whole lines only: a torn last line stays behind */
    while (len > 0 && text[len - 1] != '\n')
      len--;
    if (len > 0 && write(fd, text, len) != (ssize_t)len)
      return cab_error_sys(err, "merge: append to %s", dst);
    char plan_src[PATH_MAX + 32], plan_dst[PATH_MAX + 32];
    snprintf(plan_src, sizeof plan_src, "%s/plan.json", src);
    snprintf(plan_dst, sizeof plan_dst, "%s/plan.json", dst_dir);
    cleanup_free char *plan = NULL;
    size_t plen = 0;
    if (access(plan_dst, F_OK) != 0 &&
        cab_read_file_at(AT_FDCWD, plan_src, 16 << 20, &plan, &plen, &ignored) == 0 &&
        cab_write_file_atomic(plan_dst, plan, plen, 0644, err) < 0)
      return -1;
    char cas_src[PATH_MAX + 32], cas_dst[PATH_MAX + 32];
    snprintf(cas_src, sizeof cas_src, "%s/cassettes", src);
    snprintf(cas_dst, sizeof cas_dst, "%s/cassettes", dst_dir);
    struct stat st;
    if (stat(cas_src, &st) == 0 && S_ISDIR(st.st_mode) &&
        ((mkdir(cas_dst, 0755) < 0 && errno != EEXIST) ||
         copy_tree(cas_src, cas_dst, 0, true, sum, err) < 0))
      return err->message[0] ? -1 : cab_error_sys(err, "merge: create %s", cas_dst);
  }
  return 0;
}

int
cab_sweep_merge(char *const *inputs, size_t n, const char *out_dir, struct cab_merge_summary *sum,
                cab_error *err)
{
  memset(sum, 0, sizeof sum[0]);
  struct found_list l = {0};
  int r = -1;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(inputs[i], &st) < 0) {
      cab_error_sys(err, "merge: %s", inputs[i]);
      goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
      cab_error_set(err, ENOTDIR, "merge: %s", inputs[i]);
      goto out;
    }
    if (find_cells(inputs[i], i, &l, err) < 0)
      goto out;
  }
  qsort(l.v, l.n, sizeof *l.v, by_rel);
  /* Check everything before writing anything. */
  for (size_t k = 0; k < l.n; k++) {
    char a[PATH_MAX + 16], b[PATH_MAX + 16];
    snprintf(a, sizeof a, "%s/%s/" CAB_CELL_JSON, inputs[l.v[k].input], l.v[k].rel);
    bool dup = k > 0 && strcmp(l.v[k].rel, l.v[k - 1].rel) == 0;
    if (dup)
      snprintf(b, sizeof b, "%s/%s/" CAB_CELL_JSON, inputs[l.v[k - 1].input], l.v[k - 1].rel);
    else
      snprintf(b, sizeof b, "%s/%s/" CAB_CELL_JSON, out_dir, l.v[k].rel);
    if (!dup && access(b, F_OK) != 0)
      continue;
    int same = same_file(a, b, err);
    if (same < 0)
      goto out;
    if (!same) {
      cab_error_set(err, 0, "merge: conflicting cell %s: %s and %s differ (the same cell, run "
                            "twice with different results; keep one)",
                    l.v[k].rel, b, a);
      goto out;
    }
    sum->duplicates++;
    l.v[k].skip = true;
  }
  if (cab_mkdir_p(out_dir, 0755, err) < 0)
    goto out;
  for (size_t k = 0; k < l.n; k++) {
    if (l.v[k].skip)
      continue;
    if (place_cell(inputs[l.v[k].input], out_dir, l.v[k].rel, sum, err) < 0)
      goto out;
    sum->cells++;
  }
  for (size_t i = 0; i < n; i++)
    if (merge_journals(inputs[i], out_dir, sum, err) < 0)
      goto out;
  r = 0;
out:
  for (size_t k = 0; k < l.n; k++)
    free(l.v[k].rel);
  free(l.v);
  return r;
}
