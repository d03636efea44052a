/* instruction_fidelity (the published layer "L15"): honored / declared over the task's
 * constraints.  Not part of the composite (the published composite fits
 * without it).
 *
 *   file-not-touched {path}        no change (added/removed/modified) matches
 *                                  the glob(s)
 *   no-new-dependency              no dependency manifest (requirements*.txt,
 *                                  pyproject.toml, package.json, go.mod,
 *                                  Cargo.toml, pom.xml, build.gradle[.kts])
 *                                  gains net-new lines: per file, added minus
 *                                  removed non-blank lines of the diff must
 *                                  be <= 0 (re-pinning an entry is fine)
 *   no-comments-added {max_added}  at most max_added added lines carry a
 *                                  comment, by the file's language: '#'
 *                                  (Python, shell, Ruby, YAML, TOML, ...),
 *                                  '//' and slash-star blocks (C family, Java,
 *                                  JS/TS, Go, Rust, ...), '--' (SQL, Lua,
 *                                  Haskell), '<!--' (HTML, XML); string
 *                                  literals are skipped
 *   file-pattern-required-in-diff {paths, require_added}
 *                                  some change matches one of the globs (an
 *                                  added file when require_added)
 * An unknown kind is reported with honored null and not counted.
 *
 * {"instruction_fidelity": honored/declared (null when nothing is declared),
 *  "not_applicable", "honored", "declared", "checks": [{"kind", "params",
 *  "honored", "detail"}...]} */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/glob.h"
#include "scorers/patch.h"
#include "scorers/scorers.h"
#include "scorers/util.h"

static const char *const MANIFESTS[] = {
    "requirements*.txt", "pyproject.toml", "package.json", "go.mod",
    "Cargo.toml",        "pom.xml",        "build.gradle", "build.gradle.kts",
    NULL,
};

enum lang { L_NONE, L_HASH, L_SLASH, L_DASH, L_MARKUP };

static enum lang
lang_of(const char *path, bool *single_quote_strings, bool *backtick_strings, bool *hash_anywhere)
{
  static const char *const hash[] = {"py",  "pyi", "sh",  "bash", "zsh",  "rb",   "pl", "r",
                                     "toml", "yaml", "yml", "cfg", "conf", "cmake", "mk", "ps1",
                                     "ex",  "exs", "jl",  "nim", "tcl",  "awk",  NULL};
  static const char *const slash[] = {"c",   "h",   "cc",   "cpp", "cxx",   "hpp",  "hh",
                                      "java", "js",  "mjs",  "cjs", "ts",    "tsx",  "jsx",
                                      "go",  "rs",  "kt",   "kts", "swift", "cs",   "scala",
                                      "dart", "php", "zig",  "proto", "css", "scss", "less",
                                      "groovy", "gradle", "m", "mm", "sol", "v", NULL};
  static const char *const dash[] = {"sql", "lua", "hs", "elm", "ada", "adb", "ads", NULL};
  static const char *const markup[] = {"html", "htm", "xml", "xhtml", "svg", "vue", NULL};
  char ext[16];
  cab_path_ext(path, ext, sizeof ext);
  const char *base = cab_path_base(path);
  *single_quote_strings = true;
  *backtick_strings = false;
  *hash_anywhere = strcmp(ext, "py") == 0 || strcmp(ext, "pyi") == 0;
  if (strcmp(base, "Makefile") == 0 || strcmp(base, "Dockerfile") == 0 ||
      strcmp(base, "CMakeLists.txt") == 0)
    return L_HASH;
  for (size_t i = 0; hash[i]; i++)
    if (strcmp(ext, hash[i]) == 0)
      return L_HASH;
  for (size_t i = 0; slash[i]; i++)
    if (strcmp(ext, slash[i]) == 0) {
      /* Rust's lifetimes ('a) are not strings. */
      *single_quote_strings = strcmp(ext, "rs") != 0;
      *backtick_strings = strcmp(ext, "js") == 0 || strcmp(ext, "mjs") == 0 ||
                          strcmp(ext, "cjs") == 0 || strcmp(ext, "ts") == 0 ||
                          strcmp(ext, "tsx") == 0 || strcmp(ext, "jsx") == 0 ||
                          strcmp(ext, "go") == 0;
      return L_SLASH;
    }
  for (size_t i = 0; dash[i]; i++)
    if (strcmp(ext, dash[i]) == 0)
      return L_DASH;
  for (size_t i = 0; markup[i]; i++)
    if (strcmp(ext, markup[i]) == 0)
      return L_MARKUP;
  return L_NONE;
}

/* Comment lines among a file's added lines. */
static long
count_comment_lines(const struct cab_patch_file *f)
{
  bool sq, bt, hash_any;
  enum lang lang = lang_of(f->path, &sq, &bt, &hash_any);
  if (lang == L_NONE || f->binary)
    return 0;
  long count = 0;
  bool in_block = false; /* inside a block comment carried from the previous added line */
  for (size_t i = 0; i < f->added.n; i++) {
    const char *s = f->added.v[i];
    bool comment = in_block;
    char quote = 0;
    for (size_t k = 0; s[k]; k++) {
      char c = s[k];
      if (in_block) {
        if ((lang == L_SLASH && c == '*' && s[k + 1] == '/') ||
            (lang == L_MARKUP && strncmp(s + k, "-->", 3) == 0)) {
          in_block = false;
          k += lang == L_SLASH ? 1 : 2;
        }
        continue;
      }
      if (quote) {
        if (c == '\\' && s[k + 1])
          k++;
        else if (c == quote)
          quote = 0;
        continue;
      }
      if (c == '"' || (c == '\'' && sq) || (c == '`' && bt)) {
        quote = c;
        continue;
      }
      if (lang == L_HASH && c == '#' &&
          (hash_any || k == 0 || isspace((unsigned char)s[k - 1]))) {
        comment = true;
        break;
      }
      if (lang == L_SLASH && c == '/' && s[k + 1] == '/') {
        comment = true;
        break;
      }
      if (lang == L_SLASH && c == '/' && s[k + 1] == '*') {
        comment = true;
        in_block = true;
        k++;
        continue;
      }
      if (lang == L_DASH && c == '-' && s[k + 1] == '-') {
        comment = true;
        break;
      }
      if (lang == L_MARKUP && strncmp(s + k, "<!--", 4) == 0) {
        comment = true;
        in_block = true;
        k += 3;
        continue;
      }
    }
    if (comment)
      count++;
  }
  return count;
}

static long
nonblank(const struct cab_strv *l)
{
  long n = 0;
  for (size_t i = 0; i < l->n; i++) {
    const char *s = l->v[i];
    while (*s && isspace((unsigned char)*s))
      s++;
    if (*s)
      n++;
  }
  return n;
}

static bool
is_manifest(const char *path)
{
  const char *b = cab_path_base(path);
  for (size_t i = 0; MANIFESTS[i]; i++)
    if (cab_glob_match(MANIFESTS[i], b))
      return true;
  return false;
}

static cJSON *
check(const struct cab_task_constraint *k, const struct cab_cell_inputs *in,
      const struct cab_patch *patch, int *honored_out)
{
  const struct cab_change_list *cl = in->changes;
  cJSON *c = cJSON_CreateObject();
  cJSON_AddStringToObject(c, "kind", k->kind_name);
  cJSON_AddItemToObject(c, "params", cJSON_Duplicate(k->params, true));
  char detail[1024];
  int honored = -1;
  struct cab_strv hits = {0};

  if (k->kind == CAB_TC_FILE_NOT_TOUCHED) {
    for (size_t i = 0; cl && i < cl->n; i++)
      if (cab_glob_any(k->paths.v, k->paths.n, cl->items[i].path))
        cab_strv_xpush(&hits, cl->items[i].path);
    cab_strv_sort(&hits);
    honored = hits.n == 0;
    char *r = cab_strv_pyrepr(&hits);
    snprintf(detail, sizeof detail, honored ? "untouched" : "touched: %.900s", r);
    free(r);
  } else if (k->kind == CAB_TC_NO_NEW_DEPENDENCY) {
    long total = 0;
    for (size_t i = 0; i < patch->n; i++) {
      const struct cab_patch_file *f = &patch->files[i];
      if (!is_manifest(f->path) || f->binary)
        continue;
      long net = nonblank(&f->added) - nonblank(&f->removed);
      if (net > 0) {
        char item[512];
        snprintf(item, sizeof item, "%.480s (+%ld)", f->path, net);
        cab_strv_xpush(&hits, item);
        total += net;
      }
    }
    honored = total == 0;
    char *r = cab_strv_pyrepr(&hits);
    snprintf(detail, sizeof detail,
             honored ? "no net-new manifest lines" : "net-new manifest lines: %.900s", r);
    free(r);
  } else if (k->kind == CAB_TC_NO_COMMENTS_ADDED) {
    long total = 0;
    for (size_t i = 0; i < patch->n; i++) {
      long n = count_comment_lines(&patch->files[i]);
      if (n > 0) {
        char item[512];
        snprintf(item, sizeof item, "%.480s (%ld)", patch->files[i].path, n);
        cab_strv_xpush(&hits, item);
        total += n;
      }
    }
    honored = total <= k->max_added;
    char *r = cab_strv_pyrepr(&hits);
    snprintf(detail, sizeof detail, "%ld comment line(s) added, at most %ld allowed%s%.900s",
             total, k->max_added, hits.n ? ": " : "", hits.n ? r : "");
    free(r);
  } else if (k->kind == CAB_TC_FILE_PATTERN_REQUIRED_IN_DIFF) {
    for (size_t i = 0; cl && i < cl->n; i++) {
      const struct cab_change *ch = &cl->items[i];
      if (k->require_added && ch->status != CAB_CHANGE_ADDED)
        continue;
      if (cab_glob_any(k->paths.v, k->paths.n, ch->path))
        cab_strv_xpush(&hits, ch->path);
    }
    cab_strv_sort(&hits);
    honored = hits.n > 0;
    char *r = cab_strv_pyrepr(&hits), *want = cab_strv_pyrepr(&k->paths);
    if (honored)
      snprintf(detail, sizeof detail, "%s: %.900s", k->require_added ? "added" : "in diff", r);
    else
      snprintf(detail, sizeof detail, "none of %.900s %s", want,
               k->require_added ? "was added" : "is in the diff");
    free(r);
    free(want);
  } else {
    snprintf(detail, sizeof detail, "unknown constraint kind; not scored");
  }
  cab_strv_free(&hits);
  if (honored < 0)
    cJSON_AddNullToObject(c, "honored");
  else
    cJSON_AddBoolToObject(c, "honored", honored);
  cJSON_AddStringToObject(c, "detail", detail);
  *honored_out = honored;
  return c;
}

cJSON *
cab_score_fidelity(const struct cab_cell_inputs *in)
{
  const struct cab_task *t = in->task;
  struct cab_patch patch;
  cab_patch_parse(in->diff_patch, in->diff_patch_len, &patch);
  cJSON *checks = cJSON_CreateArray();
  long honored = 0, declared = 0;
  for (size_t i = 0; i < t->n_constraints; i++) {
    int h;
    cJSON_AddItemToArray(checks, check(&t->constraints[i], in, &patch, &h));
    if (h >= 0) {
      declared++;
      honored += h;
    }
  }
  cab_patch_free(&patch);
  cJSON *j = cJSON_CreateObject();
  if (declared)
    cJSON_AddNumberToObject(j, "instruction_fidelity", (double)honored / (double)declared);
  else
    cJSON_AddNullToObject(j, "instruction_fidelity");
  cJSON_AddBoolToObject(j, "not_applicable", declared == 0);
  cJSON_AddNumberToObject(j, "honored", (double)honored);
  cJSON_AddNumberToObject(j, "declared", (double)declared);
  cJSON_AddItemToObject(j, "checks", checks);
  return j;
}
