/* Parse diff.patch (git's unified format, as libgit2 writes it). */
#include <stdlib.h>
#include <string.h>

#include "scorers/patch.h"
#include "scorers/util.h"

/* Git's C-style quoted path: "a/sp\303\251c\tial".  Returns the unquoted
 * string and advances *S past the closing quote. */
static char *
unquote(const char **s, const char *end)
{
  const char *p = *s + 1;
  char *out = cab_xmalloc((size_t)(end - p) + 1), *o = out;
  while (p < end && *p != '"') {
    if (*p == '\\' && p + 1 < end) {
      p++;
      switch (*p) {
      case 'n': *o++ = '\n'; p++; break;
      case 't': *o++ = '\t'; p++; break;
      case 'r': *o++ = '\r'; p++; break;
      case 'a': *o++ = '\a'; p++; break;
      case 'b': *o++ = '\b'; p++; break;
      case 'f': *o++ = '\f'; p++; break;
      case 'v': *o++ = '\v'; p++; break;
      default:
        if (*p >= '0' && *p <= '7') {
          int v = 0;
          for (int k = 0; k < 3 && p < end && *p >= '0' && *p <= '7'; k++, p++)
            v = v * 8 + (*p - '0');
          *o++ = (char)v;
        } else {
          *o++ = *p++;
        }
      }
    } else {
      *o++ = *p++;
    }
  }
  if (p < end)
    p++;
  *s = p;
  *o = '\0';
  return out;
}

/* A path on a ---/+++ line: "a/X", "b/X", "/dev/null" or quoted.  NULL for
 * /dev/null. */
static char *
header_path(const char *p, const char *end)
{
  while (end > p && (end[-1] == '\r' || end[-1] == '\t'))
    end--; /* git appends a tab when the name has spaces (GNU diff style) */
  char *raw;
  if (p < end && *p == '"')
    raw = unquote(&p, end);
  else
    raw = cab_xstrndup(p, (size_t)(end - p));
  if (strcmp(raw, "/dev/null") == 0) {
    free(raw);
    return NULL;
  }
  char *path = raw;
  if ((raw[0] == 'a' || raw[0] == 'b') && raw[1] == '/')
    path = cab_xstrdup(raw + 2);
  if (path != raw)
    free(raw);
  return path;
}

/* "diff --git a/X b/X": the new path X. */
static char *
git_line_path(const char *p, const char *end)
{
  if (p < end && *p == '"') {
    char *a = unquote(&p, end);
    free(a);
    while (p < end && *p == ' ')
      p++;
    return header_path(p, end);
  }
  size_t n = (size_t)(end - p);
  /* Unquoted: "a/" X " b/" X, so X is (n - 5) / 2 long when both match. */
  if (n >= 7 && (n - 5) % 2 == 0) {
    size_t x = (n - 5) / 2;
    if (strncmp(p, "a/", 2) == 0 && strncmp(p + 2 + x, " b/", 3) == 0 &&
        memcmp(p + 2, p + 5 + x, x) == 0)
      return cab_xstrndup(p + 2, x);
  }
  const char *b = NULL;
  for (const char *q = p; q + 3 <= end; q++)
    if (memcmp(q, " b/", 3) == 0)
      b = q;
  if (b)
    return header_path(b + 1, end);
  return cab_xstrndup(p, n);
}

static struct cab_patch_file *
new_file(struct cab_patch *pt)
{
  if (pt->n == pt->cap) {
    pt->cap = pt->cap ? pt->cap * 2 : 8;
    pt->files = cab_xrealloc(pt->files, pt->cap * sizeof *pt->files);
  }
  struct cab_patch_file *f = &pt->files[pt->n++];
  memset(f, 0, sizeof *f);
  return f;
}

static long
num(const char **p)
{
  long v = 0;
  while (**p >= '0' && **p <= '9')
    v = v * 10 + (*(*p)++ - '0');
  return v;
}

/* "@@ -a[,b] +c[,d] @@" */
static bool
parse_hunk(const char *p, long *old_n, long *new_n)
{
  if (strncmp(p, "@@ -", 4) != 0)
    return false;
  p += 4;
  num(&p);
  *old_n = 1;
  if (*p == ',') {
    p++;
    *old_n = num(&p);
  }
  if (strncmp(p, " +", 2) != 0)
    return false;
  p += 2;
  num(&p);
  *new_n = 1;
  if (*p == ',') {
    p++;
    *new_n = num(&p);
  }
  return true;
}

void
cab_patch_parse(const char *text, size_t len, struct cab_patch *out)
{
  memset(out, 0, sizeof *out);
  if (text == NULL)
    return;
  struct cab_patch_file *f = NULL;
  long old_left = 0, new_left = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t n = (size_t)(le - p);
    char *line = cab_xstrndup(p, n); /* NUL-terminated copy for prefix tests */
    bool in_hunk = f && (old_left > 0 || new_left > 0);
    /* A hunk whose counts are off ends at the next file's header. */
    if (in_hunk && strncmp(line, "diff --git ", 11) == 0)
      in_hunk = false, old_left = new_left = 0;
    if (in_hunk) {
      if (line[0] == '+') {
        cab_strv_xpush_n(&f->added, p + 1, n - 1);
        new_left--;
      } else if (line[0] == '-') {
        cab_strv_xpush_n(&f->removed, p + 1, n - 1);
        old_left--;
      } else if (line[0] == ' ' || n == 0) {
        old_left--;
        new_left--;
      } else if (line[0] == '@' && parse_hunk(line, &old_left, &new_left)) {
        /* the next hunk, the previous one's counts were off */
      } else if (line[0] != '\\') {
        old_left = new_left = 0; /* malformed: leave the hunk */
      }
    } else if (strncmp(line, "diff --git ", 11) == 0) {
      f = new_file(out);
      f->path = git_line_path(p + 11, le);
    } else if (f && strncmp(line, "new file mode", 13) == 0) {
      f->is_new = true;
    } else if (f && strncmp(line, "deleted file mode", 17) == 0) {
      f->is_deleted = true;
    } else if (f && (strncmp(line, "Binary files ", 13) == 0 ||
                     strncmp(line, "GIT binary patch", 16) == 0)) {
      f->binary = true;
    } else if (f && strncmp(line, "--- ", 4) == 0) {
      char *old = header_path(p + 4, le);
      if (old && f->path == NULL)
        f->path = cab_xstrdup(old);
      free(old);
    } else if (f && strncmp(line, "+++ ", 4) == 0) {
      char *np = header_path(p + 4, le);
      if (np) {
        free(f->path);
        f->path = np;
      }
    } else if (f && parse_hunk(line, &old_left, &new_left)) {
      /* counts set */
    }
    free(line);
    p = nl ? nl + 1 : end;
  }
  for (size_t i = 0; i < out->n; i++)
    if (out->files[i].path == NULL)
      out->files[i].path = cab_xstrdup("");
}

void
cab_patch_free(struct cab_patch *pt)
{
  for (size_t i = 0; i < pt->n; i++) {
    free(pt->files[i].path);
    cab_strv_free(&pt->files[i].added);
    cab_strv_free(&pt->files[i].removed);
  }
  free(pt->files);
  memset(pt, 0, sizeof *pt);
}

const struct cab_patch_file *
cab_patch_find(const struct cab_patch *pt, const char *path)
{
  for (size_t i = 0; i < pt->n; i++)
    if (strcmp(pt->files[i].path, path) == 0)
      return &pt->files[i];
  return NULL;
}
