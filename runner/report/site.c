/* cab_report_build: load the results tree, write every page into a fresh
 * directory beside SITE, then swap it into place in one rename, so that a
 * reader (or a web server) sees the old site or the new one, never half. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "runner/report/internal.h"

FILE *
report_create(struct report *r, const char *dir, const char *name, cab_error *err)
{
  char path[4400];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdirat(r->site_fd, path, 0755) < 0 && errno != EEXIST) {
      cab_error_sys(err, "report: create %s", path);
      return NULL;
    }
    *p = '/';
  }
  if (*path && mkdirat(r->site_fd, path, 0755) < 0 && errno != EEXIST) {
    cab_error_sys(err, "report: create %s", path);
    return NULL;
  }
  snprintf(path, sizeof path, "%s%s%s", dir, *dir ? "/" : "", name);
  int fd = openat(r->site_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    cab_error_sys(err, "report: create %s", path);
    return NULL;
  }
  FILE *f = fdopen(fd, "w");
  if (f == NULL) {
    cab_error_sys(err, "report: create %s", path);
    close(fd);
  }
  return f;
}

int
report_close(FILE *f, const char *dir, const char *name, cab_error *err)
{
  bool bad = ferror(f);
  int saved = errno;
  if (fclose(f) != 0 || bad)
    return cab_error_set(err, bad ? saved : errno, "report: write %s/%s", dir, name);
  return 0;
}

static int
write_assets(struct report *r, cab_error *err)
{
  for (size_t i = 0; i < report_n_assets; i++) {
    FILE *f = report_create(r, "assets", report_assets[i].name, err);
    if (f == NULL)
      return -1;
    fwrite(report_assets[i].data, 1, (size_t)(report_assets[i].end - report_assets[i].data), f);
    if (report_close(f, "assets", report_assets[i].name, err) < 0)
      return -1;
  }
  FILE *f = report_create(r, "", CAB_REPORT_MARKER, err);
  if (f == NULL)
    return -1;
  fprintf(f, "{\"schema\":\"%s\",\"cells\":%zu}\n", CAB_REPORT_SCHEMA, r->ncells);
  return report_close(f, "", CAB_REPORT_MARKER, err);
}

static int
write_badges_and_charts(struct report *r, cab_error *err)
{
  struct rstats *stats = calloc(r->ngroups + 1, sizeof *stats);
  if (stats == NULL)
    return cab_error_sys(err, "out of memory");
  for (size_t g = 0; g < r->ngroups; g++) {
    report_stats(r, &r->groups[g], NULL, NULL, &stats[g]);
    char label[1024];
    snprintf(label, sizeof label, "%s × %s", r->groups[g].tui, r->groups[g].model);
    if (report_write_badge(r, r->groups[g].badge, label, stats[g].mean, err) < 0)
      goto fail;
  }
  static const char *const names[] = {"composite.svg", "pareto-tokens.svg", "pareto-wall.svg"};
  for (int k = 0; k < 3; k++) {
    FILE *f = report_create(r, "charts", names[k], err);
    if (f == NULL)
      goto fail;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    if (k == 0)
      report_chart_distribution(f, r, stats, "../");
    else
      report_chart_pareto(f, r, stats, k == 1 ? REPORT_AXIS_TOKENS : REPORT_AXIS_WALL, "../");
    if (report_close(f, "charts", names[k], err) < 0)
      goto fail;
  }
  free(stats);
  return 0;
fail:
  free(stats);
  return -1;
}

/* SITE may be replaced when it is missing, empty, or a site cab report wrote. */
static int
check_site(const char *site, bool *exists, cab_error *err)
{
  struct stat st;
  *exists = false;
  if (lstat(site, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    return cab_error_sys(err, "report: --out %s", site);
  }
  if (!S_ISDIR(st.st_mode))
    return cab_error_set(err, 0, "report: --out %s exists and is not a directory; choose another path",
                         site);
  *exists = true;
  char marker[4400];
  snprintf(marker, sizeof marker, "%s/" CAB_REPORT_MARKER, site);
  if (access(marker, F_OK) == 0)
    return 0;
  cleanup_dir DIR *d = opendir(site);
  if (d == NULL)
    return cab_error_sys(err, "report: --out %s", site);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      return cab_error_set(err, 0,
                           "report: --out %s is a directory that cab report did not write (no %s); "
                           "remove it or choose another path",
                           site, CAB_REPORT_MARKER);
  return 0;
}

static int
write_site(struct report *r, cab_error *err)
{
  if (write_assets(r, err) < 0 || write_badges_and_charts(r, err) < 0 ||
      report_page_index(r, err) < 0)
    return -1;
  for (size_t g = 0; g < r->ngroups; g++)
    if (report_page_group(r, g, err) < 0)
      return -1;
  for (size_t t = 0; t < r->ntasks; t++)
    if (report_page_task(r, t, err) < 0)
      return -1;
  for (size_t c = 0; c < r->ncells; c++)
    if (report_page_cell(r, c, err) < 0)
      return -1;
  for (size_t k = 0; k < r->nkeys; k++)
    if (report_page_runs(r, k, err) < 0)
      return -1;
  return 0;
}

/* Put TMP (a name in PARENT_FD) at SITE's name; the old site, if any, ends
 * up at TMP's name. */
static int
swap_into_place(int parent_fd, const char *tmp, const char *base, bool *exists, cab_error *err)
{
  if (renameat2(parent_fd, tmp, parent_fd, base, *exists ? RENAME_EXCHANGE : RENAME_NOREPLACE) == 0)
    return 0;
  if (!*exists && errno == EEXIST) {
    /* another cab report got there first: its site is replaced like any earlier one */
    char marker[4400];
    snprintf(marker, sizeof marker, "%s/" CAB_REPORT_MARKER, base);
    if (faccessat(parent_fd, marker, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
        renameat2(parent_fd, tmp, parent_fd, base, RENAME_EXCHANGE) == 0) {
      *exists = true;
      return 0;
    }
    return cab_error_set(err, EEXIST, "report: --out %s appeared while the site was built", base);
  }
  if (errno != EINVAL && errno != ENOSYS)
    return cab_error_sys(err, "report: rename %s to %s", tmp, base);
  /* No renameat2 on this file system: the old site moves aside first. */
  char old[4400];
  if (cab_path_printf(old, sizeof old, err, "%s.old", tmp) < 0)
    return -1;
  if (*exists && renameat(parent_fd, base, parent_fd, old) < 0)
    return cab_error_sys(err, "report: rename %s aside", base);
  if (renameat(parent_fd, tmp, parent_fd, base) < 0)
    return cab_error_sys(err, "report: rename %s to %s", tmp, base);
  if (*exists && renameat(parent_fd, old, parent_fd, tmp) < 0)
    return cab_error_sys(err, "report: rename %s", old);
  return 0;
}

/* The embed snippets put BASE in front of every address, inside Markdown
 * parentheses and HTML quotes: an absolute http(s) URL without characters
 * that would end either. */
static int
check_base_url(const char *base, cab_error *err)
{
  bool scheme = strncmp(base, "https://", 8) == 0 || strncmp(base, "http://", 7) == 0;
  bool clean = strcspn(base, " \t\r\n\"'<>()[]\\`") == strlen(base);
  if (!scheme || !clean || strlen(base) <= (size_t)(base[4] == 's' ? 8 : 7))
    return cab_error_set(err, 0,
                         "report: --base-url %s: not an absolute http(s) URL without spaces, quotes, "
                         "brackets or parentheses; give the site's public address, e.g. "
                         "https://example.org/cab",
                         base);
  return 0;
}

int
cab_report_build(const char *results, const char *site, const struct cab_report_opts *o,
                 struct cab_report_summary *sum, cab_error *err)
{
  if (site == NULL || *site == '\0')
    return cab_error_set(err, 0, "report: --out SITE is required");
  if (o->base_url && check_base_url(o->base_url, err) < 0)
    return -1;
  char sitebuf[4096], parentbuf[4096];
  snprintf(sitebuf, sizeof sitebuf, "%s", site);
  size_t n = strlen(sitebuf);
  while (n > 1 && sitebuf[n - 1] == '/')
    sitebuf[--n] = '\0';
  snprintf(parentbuf, sizeof parentbuf, "%s", sitebuf);
  const char *base = basename(sitebuf);
  const char *parent = dirname(parentbuf);
  if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0)
    return cab_error_set(err, 0, "report: --out %s: name a directory to create or replace", site);
  bool exists;
  if (check_site(site, &exists, err) < 0)
    return -1;

  struct report r = {.root = results, .o = o, .site_fd = -1};
  int rc = report_load(&r, err);
  cleanup_close int parent_fd = -1;
  char tmp[4400] = "";
  if (rc == 0 && cab_mkdir_p(parent, 0755, err) < 0)
    rc = cab_error_prefix(err, "report: --out %s", site);
  if (rc == 0) {
    parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent_fd < 0)
      rc = cab_error_sys(err, "report: --out %s: open %s", site, parent);
  }
  if (rc == 0) {
    char templ[4400];
    snprintf(templ, sizeof templ, "%s/.%s.tmp-XXXXXX", parent, base);
    if (mkdtemp(templ) == NULL)
      rc = cab_error_sys(err, "report: create a directory beside %s", site);
    else {
      snprintf(tmp, sizeof tmp, "%s", strrchr(templ, '/') + 1);
      if (fchmodat(parent_fd, tmp, 0755, 0) < 0 ||
          (r.site_fd = openat(parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = cab_error_sys(err, "report: open %s/%s", parent, tmp);
    }
  }
  if (rc == 0)
    rc = write_site(&r, err);
  if (r.site_fd >= 0)
    close(r.site_fd);
  if (rc == 0)
    rc = swap_into_place(parent_fd, tmp, base, &exists, err);
  if (*tmp && (rc < 0 || exists)) {
    cab_error e2 = {0};
    cab_rm_tree_at(parent_fd, tmp, CAB_RM_PLAIN_NAME, &e2); /* the failed build, or the old site */
  }
  if (rc == 0 && sum) {
    sum->cells = r.ncells;
    sum->skipped = r.skipped;
    sum->groups = r.ngroups;
    sum->tasks = r.ntasks;
  }
  report_free(&r);
  return rc;
}
