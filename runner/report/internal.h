/* Private to runner/report/: the model of a results tree, the HTML helpers,
 * the aggregates and one writer per page or picture. */
#ifndef CAB_RUNNER_REPORT_INTERNAL_H
#define CAB_RUNNER_REPORT_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "runner/record/cell_record.h"
#include "runner/report/report.h"

/* A number that may be absent (JSON null, missing, not a number). */
struct rnum {
  bool has;
  double v;
};

struct rgroup;
struct rtask;

struct rcell {
  char *rel;  /* its directory relative to the results root */
  char *page; /* its page directory in the site: "cell/[<sweep>/]<tui>/<model>/<family>/<task>[/run-N]" */
  char *key;  /* the same without "/run-N": the published cell address */
  char *badge; /* "badge/" + the page without "cell/" + ".svg" */
  struct cab_cell_record rec; /* cell.json */
  /* From cell.json; never NULL ("" when missing). */
  const char *tui, *model, *family, *task_id, *language, *sweep, *outcome;
  long run; /* 0: none */
  struct rnum composite, pass, wall_ms, blast, integrity, refusal, tokens_per_correct;
  bool refusal_applicable;
  double total_tokens; /* scorers.tokens.total_tokens (0 when absent) */
  bool tokens_known;   /* cab's proxy saw the cell ("model"), or a source recorded them */
  size_t unexpected; /* blast_radius.unexpected_changes */
  bool infra;        /* outcome infra_error: kept out of the aggregates */
  struct rgroup *group;
  struct rtask *task;
  int dirfd; /* its directory, open while its page is written (else -1) */
};

/* A TUI x model. */
struct rgroup {
  const char *tui, *model;
  char *page;  /* "tm/<tui>/<model>" */
  char *badge; /* "badge/<tui>/<model>.svg" */
  size_t *cells;
  size_t n;
};

struct rtask {
  const char *task_id, *family, *language;
  char *page; /* "task/<family>/<name>" */
  cJSON *def; /* task.json from the tasks directory, else the first cell's "task" */
  bool from_tasks_dir;
  char *readme, *agents; /* workdir/README.md, AGENTS.md; NULL when not found */
  size_t *cells;
  size_t n;
};

/* A published cell address whose cells are reruns only (cell/.../<task>/run-N):
 * a page listing them and a badge of their mean composite. */
struct rkey {
  char *page;  /* the key: "cell/.../<task>" */
  char *badge; /* "badge/.../<task>.svg" */
  size_t first; /* the first of its cells, for its identity */
  size_t *cells;
  size_t n;
};

struct report {
  const char *root;
  const struct cab_report_opts *o;
  char tasks_dir[4096];
  struct rcell *cells;
  size_t ncells;
  struct rgroup *groups;
  size_t ngroups;
  struct rtask *tasks;
  size_t ntasks;
  struct rkey *keys;
  size_t nkeys;
  const char **sweeps; /* distinct sweep ids of the cells (pointers into them) */
  size_t nsweeps;
  char **families, **languages; /* distinct, sorted */
  size_t nfamilies, nlanguages;
  size_t skipped;
  int site_fd; /* the site being built */
};

/* ---- load.c: the results tree ------------------------------------------------ */

/* Every cell below R->root (R->o set), grouped, with its task. */
int report_load(struct report *r, cab_error *err);
void report_free(struct report *r);

/* Read DIRFD/NAME (a regular file, no symlink followed) up to MAX bytes.
 * *TRUNCATED says whether there was more.  -1 with errno ENOENT when absent. */
int report_read_file(int dirfd, const char *name, size_t max, char **out, size_t *len,
                     bool *truncated, cab_error *err);

/* A path component safe in a URL and on any file system: [A-Za-z0-9._+@=-]
 * kept, anything else '_', a leading '.' becomes '_', empty becomes '_',
 * at most 80 bytes.  Appends to BUF (size SIZE). */
void report_slug(char *buf, size_t size, const char *component, size_t len);
/* PREFIX + "/" + slug of every '/'-separated component of PATH. */
void report_slug_path(char *buf, size_t size, const char *prefix, const char *path);

/* JSON getters that tolerate anything. */
const char *report_jstr(const cJSON *obj, const char *key); /* NULL unless a string */
struct rnum report_jnum(const cJSON *obj, const char *key);
const cJSON *report_jpath(const cJSON *obj, const char *dotted); /* "scorers.pass_rate.pass" */

/* ---- html.c: writing pages safely ------------------------------------------- */

/* Escape for HTML text and attribute values (& < > " '). */
void rh_esc(FILE *f, const char *s);
/* The same for N bytes: NUL and C0 controls other than \t \n are dropped. */
void rh_escn(FILE *f, const char *s, size_t n);
/* Terminal output as text: ANSI escape sequences removed, "\r\n" as "\n",
 * other controls dropped, then escaped. */
void rh_term(FILE *f, const char *s, size_t n);
/* Percent-encode PATH for an href, keeping '/' and unreserved characters. */
void rh_url(FILE *f, const char *path);
/* J as JSON that is safe inside <script type="application/json">: '<', '>',
 * '&', U+2028 and U+2029 as \u escapes. */
void rh_json_script(FILE *f, const cJSON *j);
/* J as compact JSON, escaped as HTML text. */
void rh_json_text(FILE *f, const cJSON *j);
/* S quoted for a POSIX shell when needed, then escaped as HTML text. */
void rh_shell_arg(FILE *f, const char *s);

/* "../" once per component of the page directory DIR ("" for the root). */
void rh_up(char *buf, size_t size, const char *dir);
/* The document up to <main>, and from </main> on.  UP is rh_up's. */
void rh_head(FILE *f, const struct report *r, const char *up, const char *title);
void rh_foot(FILE *f, const char *up);
/* <a href="UP+PATH">TEXT</a>, both escaped. */
void rh_link(FILE *f, const char *up, const char *path, const char *text);

/* Formatting as the published pages: "" for an absent number. */
void rh_fmt3(char *buf, size_t size, struct rnum x);     /* 0.581 */
void rh_fmt_wall(char *buf, size_t size, struct rnum ms); /* 3.9s */
void rh_fmt_int(char *buf, size_t size, double v);        /* 1,100 */
void rh_fmt_ms(char *buf, size_t size, double ms);        /* "12 ms", "3.91 s" */

/* ---- axis_figure.c: an axis the pages have no hand-made figure for ------- */

struct cab_axis_def;
/* <div><dt>LABEL</dt><dd>HEADLINE</dd></div> for axis A (scorers/axes.h)
 * from SCORERS, cell.json's "scorers" object: the label is the axis's strip
 * label or its key, the headline in the axis's format, blank when null. */
void report_axis_figure(FILE *f, const struct cab_axis_def *a, const cJSON *scorers);

/* ---- group_stats.c: the aggregates --------------------------------------------- */

/* As runner/results/leaderboard_stats.h computes them (cab leaderboard): infra_error
 * cells counted apart and left out of everything else. */
struct rstats {
  size_t cells, infra, scored, tasks;
  struct rnum mean;         /* composite over scored cells */
  struct rnum ci_lo, ci_hi; /* Student t 95% interval over per-task means (>= 2 tasks) */
  struct rnum pass1;        /* mean pass over scored cells */
  struct rnum ships;        /* scored cells that pass with blast_radius 0 */
  struct rnum stays;        /* tasks with >= 2 scored reruns whose reruns agree on pass */
  struct rnum tokens, wall_s, unexpected; /* Costs: means per scored cell */
};

/* G's cells restricted to FAMILY and LANGUAGE (NULL: any). */
void report_stats(const struct report *r, const struct rgroup *g, const char *family,
                  const char *language, struct rstats *s);
/* ON_FRONT[i]: STATS[i] is on the frontier of mean composite (higher) against
 * mean tokens (BY_TOKENS) or mean wall time (lower). */
void report_pareto(const struct rstats *stats, size_t n, bool by_tokens, bool *on_front);

/* ---- badge.c -------------------------------------------------------------------- */

/* shields' colours by value: brightgreen >= .9 ... red; lightgrey when absent. */
const char *report_badge_color(struct rnum v);
/* Approximate width in px of TEXT in 11px Verdana. */
double report_text_width(const char *text);
void report_badge_svg(FILE *f, const char *label, struct rnum composite);
/* The badge at PATH ("badge/.../x.svg") in the site. */
int report_write_badge(struct report *r, const char *path, const char *label, struct rnum composite,
                       cab_error *err);
/* "58%" or "n/a". */
void report_badge_value(char *buf, size_t size, struct rnum composite);
/* The "Embed this result" section for the badge at BADGE linking to PAGE
 * (site paths); ALT is the badge's text. */
void report_badge_embed(FILE *f, const struct report *r, const char *up, const char *badge,
                        const char *page, const char *alt);

/* ---- chart.c: SVG ------------------------------------------------------------------ */

/* STATS[i] belongs to r->groups[i] (no filter); links start with UP. */
void report_chart_distribution(FILE *f, const struct report *r, const struct rstats *stats,
                               const char *up);
enum report_axis { REPORT_AXIS_TOKENS, REPORT_AXIS_WALL };
void report_chart_pareto(FILE *f, const struct report *r, const struct rstats *stats,
                         enum report_axis axis, const char *up);
/* A step of 1, 2 or 5 x 10^k giving about 5 ticks up to MAX. */
double report_nice_step(double max);

/* ---- pages ---------------------------------------------------------------------------- */

/* Create DIR (and parents) below the site, then open DIR/NAME for writing. */
FILE *report_create(struct report *r, const char *dir, const char *name, cab_error *err);
/* fclose, with write errors reported. */
int report_close(FILE *f, const char *dir, const char *name, cab_error *err);

int report_page_index(struct report *r, cab_error *err);
int report_page_group(struct report *r, size_t g, cab_error *err);
int report_page_task(struct report *r, size_t t, cab_error *err);
int report_page_cell(struct report *r, size_t c, cab_error *err);
int report_page_runs(struct report *r, size_t k, cab_error *err);
/* A cell's heading (TUI x model) and the start of its crumbs (family, task,
 * sweep), left open for the page to add to: the cell page and the runs page. */
int report_cell_title(FILE *f, const struct rcell *c, const char *up, cab_error *err);
/* The cells CELLS[0..N) as a sortable table (id "cells"): by TUI and model
 * with SHOW_GROUP, else by task. */
void report_cells_table(FILE *f, const struct report *r, const char *up, const size_t *cells,
                        size_t n, bool show_group);

/* Cell page parts (cell_trace.c, cell_cast.c, cell_calls.c, cell_repro.c). */
void report_cell_trace(FILE *f, const struct rcell *c);
void report_cell_spans(FILE *f, const struct rcell *c);
int report_cell_cast(FILE *f, const struct report *r, const struct rcell *c, cab_error *err);
/* The cast's output events as {"width","height","duration","events":[[t,s],..],
 * "truncated"}; NULL when the file holds no valid header. */
cJSON *report_cast_parse(const char *text, size_t len, size_t max_bytes);
int report_cell_calls(FILE *f, const struct report *r, const struct rcell *c, cab_error *err);
int report_cell_repro(FILE *f, struct report *r, const struct rcell *c, cab_error *err);
/* cell_explore.c: "Explore with your own model", the cell's adapter rendered
 * for the user's own endpoint. */
void report_cell_explore(FILE *f, const struct rcell *c);
/* cell_downloads.c: cell.json, trace.otlp.json, terminal.cast and diff.patch
 * copied beside the page and linked. */
int report_cell_downloads(FILE *f, struct report *r, const struct rcell *c, cab_error *err);
/* cell_protection.c: environment.protection as a table (nothing for a
 * record without one). */
void report_cell_protection(FILE *f, const struct rcell *c);
/* Parse ISO-8601 UTC "2026-06-17T06:30:21.091487Z" into seconds. */
bool report_parse_iso(const char *s, double *out);

/* ---- assets.c ---------------------------------------------------------------------- */

struct report_asset {
  const char *name; /* "report.css" */
  const char *data, *end; /* its bytes: [data, end) */
};
extern const struct report_asset report_assets[];
extern const size_t report_n_assets;

#endif
