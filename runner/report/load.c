/* The results tree as the report sees it: every cell.json below the root,
 * grouped by TUI x model and by task, each with a page path in the site. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "runner/record/walk.h"
#include "runner/report/internal.h"
#include "runner/task/task.h"

#define TASK_FILE_MAX (1u << 20)

/* ---- small helpers ------------------------------------------------------------ */

int
report_read_file(int dirfd, const char *name, size_t max, char **out, size_t *len,
                 bool *truncated, cab_error *err)
{
  /* O_NONBLOCK: a FIFO in a cell must not hang the report (it is refused below) */
  cleanup_close int fd =
      openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return cab_error_sys(err, "open %s", name);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return cab_error_sys(err, "stat %s", name);
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return cab_error_set(err, EINVAL, "%s is not a regular file", name);
  }
  size_t cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
  cleanup_free char *buf = malloc(cap + 1);
  if (buf == NULL)
    return cab_error_sys(err, "read %s", name);
  size_t used = 0;
  for (;;) {
    if (used == cap) {
      if (cap > max)
        break;
      size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      char *nbuf = realloc(buf, ncap + 1);
      if (nbuf == NULL)
        return cab_error_sys(err, "read %s", name);
      buf = nbuf;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cab_error_sys(err, "read %s", name);
    if (n == 0)
      break;
    used += (size_t)n;
  }
  if (truncated)
    *truncated = used > max;
  if (used > max)
    used = max;
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = cab_steal_ptr(&buf);
  return 0;
}

void
report_slug(char *buf, size_t size, const char *s, size_t len)
{
  size_t used = strlen(buf), start = used;
  for (size_t i = 0; i < len && used + 1 < size && used - start < 80; i++) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (ch != '\0' && strchr("._+@=-", ch) != NULL);
    buf[used++] = ok ? ch : '_';
  }
  if (used == start && used + 1 < size)
    buf[used++] = '_';
  if (buf[start] == '.')
    buf[start] = '_';
  buf[used] = '\0';
}

void
report_slug_path(char *buf, size_t size, const char *prefix, const char *path)
{
  snprintf(buf, size, "%s", prefix);
  const char *p = path;
  do {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n > 0 || slash == NULL) {
      size_t used = strlen(buf);
      if (used > 0 && used + 1 < size) {
        buf[used] = '/';
        buf[used + 1] = '\0';
      }
      report_slug(buf, size, p, n);
    }
    p = slash ? slash + 1 : NULL;
  } while (p);
}

const char *
report_jstr(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct rnum
report_jnum(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (cJSON_IsNumber(v))
    return (struct rnum){true, v->valuedouble};
  if (cJSON_IsBool(v))
    return (struct rnum){true, cJSON_IsTrue(v) ? 1 : 0};
  return (struct rnum){false, 0};
}

const cJSON *
report_jpath(const cJSON *obj, const char *dotted)
{
  char key[128];
  const char *p = dotted;
  while (obj && p && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof key)
      return NULL;
    memcpy(key, p, n);
    key[n] = '\0';
    obj = cJSON_GetObjectItemCaseSensitive(obj, key);
    p = dot ? dot + 1 : NULL;
  }
  return obj;
}

static const char *
or_empty(const char *s)
{
  return s ? s : "";
}

static struct rnum
rnum_of(struct cab_num n)
{
  return (struct rnum){n.has, n.v};
}

/* A task.json's string (the tasks directory's copy), "" when missing. */
static const char *
str_or_empty(const cJSON *obj, const char *key)
{
  return or_empty(report_jstr(obj, key));
}

static void
warn(const struct report *r, const char *rel, const char *why)
{
  if (r->o->warn)
    fprintf(r->o->warn, "cab: warning: %s/%s/" CAB_CELL_JSON ": %s; skipped\n", r->root, rel, why);
}

/* ---- cells, groups, tasks ---------------------------------------------------------- */

/* Make BUF unique among the N strings of PAGES[i] (appending -2, -3...). */
static int
unique(char *buf, size_t size, char *const *pages, size_t stride, size_t n)
{
  char base[4096];
  if (cab_snprintf_checked(base, sizeof base, "%s", buf) < 0)
    return -1;
  for (int k = 2;; k++) {
    bool taken = false;
    for (size_t i = 0; i < n && !taken; i++) {
      const char *p = *(char *const *)((const char *)pages + i * stride);
      taken = p && strcmp(p, buf) == 0;
    }
    if (!taken)
      return 0;
    if (k > 1000)
      return -1;
    if (cab_snprintf_checked(buf, size, "%s-%d", base, k) < 0)
      return -1; /* a cut name could be another page's */
  }
}

static int
read_cell(struct report *r, int rootfd, const char *rel, bool *kept, cab_error *err)
{
  *kept = false;
  struct cab_cell_record rec;
  cab_error e2 = {0};
  int rc = cab_cell_record_read(rootfd, rel, &rec, &e2);
  if (rc == CAB_CELL_RECORD_UNREADABLE) {
    char line[2300];
    warn(r, rel, cab_error_line(&e2, line, sizeof line));
    r->skipped++;
    return 0;
  }
  if (rc < 0 || rec.schema == NULL || strcmp(rec.schema, CAB_CELL_SCHEMA) != 0) {
    warn(r, rel, rc == CAB_CELL_RECORD_NOT_JSON ? "not JSON"
                                                : "not a cab cell (schema is not cab.cell/v1)");
    cab_cell_record_free(&rec);
    r->skipped++;
    return 0;
  }
  if (r->o->sweep && strcmp(or_empty(rec.sweep_id), r->o->sweep) != 0) {
    cab_cell_record_free(&rec);
    return 0;
  }
  struct rcell *c = &r->cells[r->ncells];
  memset(c, 0, sizeof *c);
  c->rec = rec;
  if ((c->rel = strdup(rel)) == NULL)
    return cab_error_sys(err, "out of memory");
  const struct cab_scores *sc = &rec.scores;
  c->tui = or_empty(rec.tui);
  c->model = or_empty(rec.model_build_id);
  c->family = or_empty(rec.family);
  c->task_id = or_empty(rec.task_id);
  c->sweep = or_empty(rec.sweep_id);
  c->outcome = or_empty(rec.outcome);
  c->language = or_empty(rec.task_language);
  c->run = rec.run.has ? (long)rec.run.v : 0;
  c->composite = rnum_of(sc->composite.composite);
  c->pass = rnum_of(sc->pass_rate.pass);
  c->wall_ms = rnum_of(sc->latency.wall_clock_ms);
  if (!c->wall_ms.has)
    c->wall_ms = rnum_of(rec.timing.wall_clock_ms);
  c->blast = rnum_of(sc->blast_radius.blast_radius);
  c->integrity = rnum_of(sc->integrity.integrity);
  c->refusal = rnum_of(sc->refusal.refusal);
  struct cab_num na = sc->refusal.not_applicable;
  c->refusal_applicable = c->refusal.has && !(na.has && na.v != 0);
  struct cab_num total = sc->tokens.total_tokens;
  if (!total.has)
    total = rec.model.total_tokens;
  c->total_tokens = total.has ? total.v : 0;
  /* as runner/results/cell_row.c: a published cell's "not recorded" zeros are unknown */
  c->tokens_known = rec.model.present ||
                    (rec.tokens_source && strcmp(rec.tokens_source, "not recorded") != 0);
  c->tokens_per_correct = rnum_of(sc->tokens.tokens_per_correct_task);
  /* as the published pages: blank without tokens, or when nothing passed
   * (the scorer's 0 then is no count per correct task) */
  if (c->total_tokens == 0 || !(c->pass.has && c->pass.v > 0))
    c->tokens_per_correct.has = false;
  c->unexpected = sc->blast_radius.unexpected_listed ? (size_t)sc->blast_radius.unexpected_changes.v
                                                     : 0;
  c->infra = strcmp(c->outcome, "infra_error") == 0;

  r->ncells++;
  *kept = true;
  return 0;
}

/* BUF + "/" + the slug of PATH's components (one "_" when PATH is empty). */
static void
append_slugs(char *buf, size_t size, const char *path)
{
  char prefix[4200];
  snprintf(prefix, sizeof prefix, "%s", buf);
  report_slug_path(buf, size, prefix, path);
}

/* The published layout: cell/<tui>/<model>/<family>/<task>, the task without
 * its family; with more than one sweep in the site, each sweep apart under
 * its own prefix (cell/<sweep>/...).  A rerun is a directory below it,
 * run-N. */
static int
cell_pages(struct report *r, cab_error *err)
{
  for (size_t i = 0; i < r->ncells; i++) {
    struct rcell *c = &r->cells[i];
    char key[4200] = "cell";
    if (r->nsweeps > 1)
      append_slugs(key, sizeof key, c->sweep);
    const char *name = c->task_id;
    size_t fl = strlen(c->family);
    if (fl > 0 && strncmp(name, c->family, fl) == 0 && name[fl] == '/')
      name += fl + 1;
    append_slugs(key, sizeof key, c->tui);
    append_slugs(key, sizeof key, c->model);
    append_slugs(key, sizeof key, c->family);
    append_slugs(key, sizeof key, name);
    char page[4300];
    if (c->run)
      snprintf(page, sizeof page, "%s/run-%ld", key, c->run);
    else
      snprintf(page, sizeof page, "%s", key);
    if (unique(page, sizeof page, &r->cells[0].page, sizeof *r->cells, i) < 0 ||
        (c->page = strdup(page)) == NULL || (c->key = strdup(key)) == NULL ||
        asprintf(&c->badge, "badge/%s.svg", page + strlen("cell/")) < 0) {
      c->badge = NULL;
      return cab_error_set(err, ENOMEM, "%s: no unique page name", c->rel);
    }
  }
  return 0;
}

static int
add_index(size_t **v, size_t *n, size_t i, cab_error *err)
{
  size_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (nv == NULL)
    return cab_error_sys(err, "out of memory");
  nv[(*n)++] = i;
  *v = nv;
  return 0;
}

static int
group_of(struct report *r, size_t ci, cab_error *err)
{
  struct rcell *c = &r->cells[ci];
  size_t g;
  for (g = 0; g < r->ngroups; g++)
    if (strcmp(r->groups[g].tui, c->tui) == 0 && strcmp(r->groups[g].model, c->model) == 0)
      break;
  if (g == r->ngroups) {
    struct rgroup *ng = realloc(r->groups, (r->ngroups + 1) * sizeof *ng);
    if (ng == NULL)
      return cab_error_sys(err, "out of memory");
    r->groups = ng;
    struct rgroup *x = &r->groups[r->ngroups];
    memset(x, 0, sizeof *x);
    x->tui = c->tui;
    x->model = c->model;
    char page[4200], tm[4200];
    snprintf(tm, sizeof tm, "%s/%s", c->tui, c->model);
    report_slug_path(page, sizeof page, "tm", tm);
    if (unique(page, sizeof page, &r->groups[0].page, sizeof *r->groups, r->ngroups) < 0 ||
        (x->page = strdup(page)) == NULL || asprintf(&x->badge, "badge/%s.svg", page + 3) < 0)
      return cab_error_set(err, ENOMEM, "%s: no page name", tm);
    r->ngroups++;
  }
  /* groups may have moved: point the cells at them afterwards */
  return add_index(&r->groups[g].cells, &r->groups[g].n, ci, err);
}

static char *
read_task_file(const struct report *r, const char *id, const char *name)
{
  char path[8400];
  snprintf(path, sizeof path, "%s/%s/%s", r->tasks_dir, id, name);
  char *text = NULL;
  cab_error e2 = {0};
  if (report_read_file(AT_FDCWD, path, TASK_FILE_MAX, &text, NULL, NULL, &e2) < 0)
    return NULL;
  return text;
}

static int
task_of(struct report *r, size_t ci, cab_error *err)
{
  struct rcell *c = &r->cells[ci];
  size_t t;
  for (t = 0; t < r->ntasks; t++)
    if (strcmp(r->tasks[t].task_id, c->task_id) == 0)
      break;
  if (t == r->ntasks) {
    struct rtask *nt = realloc(r->tasks, (r->ntasks + 1) * sizeof *nt);
    if (nt == NULL)
      return cab_error_sys(err, "out of memory");
    r->tasks = nt;
    struct rtask *x = &r->tasks[r->ntasks];
    memset(x, 0, sizeof *x);
    x->task_id = c->task_id;
    cab_error e2 = {0};
    /* Only a well-formed id is looked up: no path from a cell leaves the tasks directory. */
    if (cab_task_check_id(c->task_id, &e2) == 0) {
      cleanup_free char *def = read_task_file(r, c->task_id, "task.json");
      x->def = def ? cJSON_Parse(def) : NULL;
      x->from_tasks_dir = cJSON_IsObject(x->def);
      x->readme = read_task_file(r, c->task_id, "workdir/README.md");
      x->agents = read_task_file(r, c->task_id, "workdir/AGENTS.md");
    }
    if (!cJSON_IsObject(x->def)) {
      cJSON_Delete(x->def);
      x->def = cJSON_Duplicate(c->rec.task, true);
    }
    x->family = str_or_empty(x->def, "family");
    if (!*x->family)
      x->family = c->family;
    x->language = str_or_empty(x->def, "language");
    if (!*x->language)
      x->language = c->language;
    char page[4200];
    report_slug_path(page, sizeof page, "task", *c->task_id ? c->task_id : "unknown");
    if (unique(page, sizeof page, &r->tasks[0].page, sizeof *r->tasks, r->ntasks) < 0 ||
        (x->page = strdup(page)) == NULL)
      return cab_error_set(err, ENOMEM, "%s: no page name", c->task_id);
    r->ntasks++;
  }
  return add_index(&r->tasks[t].cells, &r->tasks[t].n, ci, err);
}

/* A published path whose cells are all reruns (run-N below it) gets a page
 * of its own listing them, and a badge: the address the published site
 * serves always exists. */
static int
run_keys(struct report *r, cab_error *err)
{
  for (size_t i = 0; i < r->ncells; i++) {
    const struct rcell *c = &r->cells[i];
    if (c->run == 0)
      continue;
    bool is_page = false;
    for (size_t j = 0; j < r->ncells && !is_page; j++)
      is_page = strcmp(r->cells[j].page, c->key) == 0;
    if (is_page)
      continue;
    size_t k;
    for (k = 0; k < r->nkeys; k++)
      if (strcmp(r->keys[k].page, c->key) == 0)
        break;
    if (k == r->nkeys) {
      struct rkey *nk = realloc(r->keys, (r->nkeys + 1) * sizeof *nk);
      if (nk == NULL)
        return cab_error_sys(err, "out of memory");
      r->keys = nk;
      struct rkey *x = &r->keys[r->nkeys];
      memset(x, 0, sizeof *x);
      x->first = i;
      if ((x->page = strdup(c->key)) == NULL ||
          asprintf(&x->badge, "badge/%s.svg", c->key + strlen("cell/")) < 0) {
        x->badge = NULL;
        free(x->page);
        return cab_error_sys(err, "out of memory");
      }
      r->nkeys++;
    }
    if (add_index(&r->keys[k].cells, &r->keys[k].n, i, err) < 0)
      return -1;
  }
  return 0;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_distinct(char ***v, size_t *n, const char *s, cab_error *err)
{
  if (*s == '\0')
    return 0;
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*v)[i], s) == 0)
      return 0;
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (nv == NULL)
    return cab_error_sys(err, "out of memory");
  *v = nv;
  if ((nv[*n] = strdup(s)) == NULL)
    return cab_error_sys(err, "out of memory");
  (*n)++;
  qsort(*v, *n, sizeof **v, cmp_str);
  return 0;
}

/* Every distinct sweep id, "" (none recorded) included, in order of first
 * appearance. */
static int
add_sweep(struct report *r, const char *sweep, cab_error *err)
{
  for (size_t i = 0; i < r->nsweeps; i++)
    if (strcmp(r->sweeps[i], sweep) == 0)
      return 0;
  const char **nv = realloc(r->sweeps, (r->nsweeps + 1) * sizeof *nv);
  if (nv == NULL)
    return cab_error_sys(err, "out of memory");
  r->sweeps = nv;
  r->sweeps[r->nsweeps++] = sweep;
  return 0;
}

int
report_load(struct report *r, cab_error *err)
{
  if (r->o->tasks_dir) {
    if (cab_path_printf(r->tasks_dir, sizeof r->tasks_dir, err, "%s", r->o->tasks_dir) < 0)
      return cab_error_prefix(err, "report: --tasks-dir");
  } else if (cab_task_default_root(r->tasks_dir, sizeof r->tasks_dir, err) < 0) {
    return -1;
  }

  cleanup_close int rootfd = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return cab_error_sys(err, "report: open %s (a results directory, as cab run-cell --out writes)",
                         r->root);
  struct cab_record_found_list l;
  int rc = cab_record_walk(r->root, CAB_RECORD_WALK_TOLERANT, &l, err);
  if (rc == 0 && l.n > 0 && (r->cells = calloc(l.n, sizeof *r->cells)) == NULL)
    rc = cab_error_sys(err, "out of memory");
  /* Earlier attempts are not the cell's result: the report shows cells. */
  for (size_t i = 0; rc == 0 && i < l.n; i++) {
    bool kept;
    if (l.v[i].attempt == 0)
      rc = read_cell(r, rootfd, l.v[i].rel, &kept, err);
  }
  cab_record_found_free(&l);
  if (rc < 0)
    return -1;
  if (r->ncells == 0)
    return cab_error_set(err, 0, "report: no cab cell below %s%s%s (cab run-cell --out %s writes them)",
                         r->root, r->o->sweep ? " in sweep " : "", r->o->sweep ? r->o->sweep : "",
                         r->root);
  for (size_t i = 0; i < r->ncells; i++)
    if (add_sweep(r, r->cells[i].sweep, err) < 0)
      return -1;
  if (cell_pages(r, err) < 0 || run_keys(r, err) < 0)
    return -1;
  for (size_t i = 0; i < r->ncells; i++)
    if (group_of(r, i, err) < 0 || task_of(r, i, err) < 0)
      return -1;
  for (size_t g = 0; g < r->ngroups; g++)
    for (size_t k = 0; k < r->groups[g].n; k++)
      r->cells[r->groups[g].cells[k]].group = &r->groups[g];
  for (size_t t = 0; t < r->ntasks; t++)
    for (size_t k = 0; k < r->tasks[t].n; k++) {
      struct rcell *c = &r->cells[r->tasks[t].cells[k]];
      c->task = &r->tasks[t];
      if (!*c->language)
        c->language = r->tasks[t].language;
    }
  for (size_t i = 0; i < r->ncells; i++)
    if (add_distinct(&r->families, &r->nfamilies, r->cells[i].family, err) < 0 ||
        add_distinct(&r->languages, &r->nlanguages, r->cells[i].language, err) < 0)
      return -1;
  return 0;
}

void
report_free(struct report *r)
{
  for (size_t i = 0; i < r->ncells; i++) {
    free(r->cells[i].rel);
    free(r->cells[i].page);
    free(r->cells[i].key);
    free(r->cells[i].badge);
    cab_cell_record_free(&r->cells[i].rec);
  }
  free(r->cells);
  for (size_t g = 0; g < r->ngroups; g++) {
    free(r->groups[g].page);
    free(r->groups[g].badge);
    free(r->groups[g].cells);
  }
  free(r->groups);
  for (size_t k = 0; k < r->nkeys; k++) {
    free(r->keys[k].page);
    free(r->keys[k].badge);
    free(r->keys[k].cells);
  }
  free(r->keys);
  free(r->sweeps);
  for (size_t t = 0; t < r->ntasks; t++) {
    free(r->tasks[t].page);
    free(r->tasks[t].cells);
    free(r->tasks[t].readme);
    free(r->tasks[t].agents);
    cJSON_Delete(r->tasks[t].def);
  }
  free(r->tasks);
  for (size_t i = 0; i < r->nfamilies; i++)
    free(r->families[i]);
  free(r->families);
  for (size_t i = 0; i < r->nlanguages; i++)
    free(r->languages[i]);
  free(r->languages);
}
