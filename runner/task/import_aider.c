/* `cab tasks import --format aider-polyglot DIR`: the Aider polyglot
 * benchmark (Exercism practice exercises, DIR/<lang>/exercises/practice/
 * <slug>/) as cab tasks aider-polyglot/<lang>-<slug>.
 *
 * An exercise has .docs/instructions.md (and optionally introduction.md and
 * instructions.append.md) and .meta/config.json, whose "files" lists
 * "solution" (the stubs the agent edits), "test", "example" (the reference
 * solution) and optionally "invalidator" and "editor".  The task:
 *   workdir/   the exercise without .meta/, plus README.md (the prompt: the
 *              introduction, the instructions and their append, what to
 *              change, a "## Verify" section) and AGENTS.md (the tests are
 *              not to be touched);
 *   solution/  each example file on the solution file of the same name, else
 *              of the same extension (.meta/example.py -> <slug_>.py,
 *              .meta/Cargo-example.toml -> Cargo.toml, .meta/proof.ci.js ->
 *              <slug>.js, .meta/src/reference/java/X.java ->
 *              src/main/java/X.java);
 *   task.json  protected_paths = test + invalidator files (restored before
 *              verify) and the build's own files (CMakeLists.txt and the
 *              vendored test/ of C++, package.json of JavaScript, Gradle's
 *              files of Java), ground_truth_files = the solution files, a verify
 *              command per language that runs every test, also those
 *              Exercism skips (xtest, @Disabled, #[ignore],
 *              EXERCISM_RUN_ALL_TESTS) -- re-enabled in a copy in the
 *              verifier only, never in the agent's view --, scorer.min_tests
 *              = the tests the test files declare, integrity_protected_paths,
 *              and stub_passes for the exercises whose stub already passes
 *              (kept below as data, with the reason).
 * The date is the day config.json was last changed, so that importing the
 * same tree again writes the same bytes. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/copy_tree.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "common/strfmt.h"
#include "runner/task/import.h"
#include "runner/task/task.h"

#define DOC_MAX (1 << 20)

/* What differs per language.  {slug} in VERIFY and VERIFY_SHOWN is the
 * exercise's slug. */
struct lang_spec {
  const char *lang, *title;
  const char *const *test_markers; /* a test file line starting with one (after
                                      blanks) declares one test */
  const char *verify;              /* the verifier's command */
  const char *verify_shown;        /* the prompt's "## Verify" command */
  long scorer_timeout_s;
  /* The build's own files, protected too when the exercise has them (and
   * they are no solution file): a CMakeLists.txt or a vendored test header
   * rewritten could print a passing summary without running the tests. */
  const char *const *harness;
};

static const char *const PY_TESTS[] = {"def test", NULL};
static const char *const GO_TESTS[] = {"func Test", NULL};
static const char *const RS_TESTS[] = {"#[test]", NULL};
static const char *const CPP_TESTS[] = {"TEST_CASE(", NULL};
static const char *const JS_TESTS[] = {"test(", "xtest(", "it(", "xit(", NULL};
static const char *const JAVA_TESTS[] = {"@Test", NULL};
static const char *const CPP_HARNESS[] = {"CMakeLists.txt", "test/*", NULL};
static const char *const JS_HARNESS[] = {"package.json", "babel.config.js", ".npmrc", NULL};
static const char *const JAVA_HARNESS[] = {"build.gradle", "settings.gradle", "gradle/*", "gradlew",
                                           "gradlew.bat", NULL};
static const char *const NO_HARNESS[] = {NULL};

/* The copy the skipping languages run in: under ${TMPDIR:-/tmp} (the
 * verifier binds the tests read-only in the workdir), named by the slug
 * (Exercism's CMakeLists.txt names its sources after the directory). */
#define COPY_TO(sub)                                                                  \
  "set -e; d=\"${TMPDIR:-/tmp}/cab-aider-{slug}\"; rm -rf \"$d\"; mkdir -p \"$d\"; " \
  "cp -R . \"$d/" sub "\"; "

static const struct lang_spec LANGS[] = {
    {"cpp", "C++", CPP_TESTS,
     COPY_TO("{slug}") "mkdir \"$d/build\"; cd \"$d/build\"; "
                       "cmake -DEXERCISM_RUN_ALL_TESTS=1 \"$d/{slug}\" >/dev/null; make",
     "rm -rf /tmp/{slug} && cp -R . /tmp/{slug} && mkdir /tmp/{slug}/build && cd "
     "/tmp/{slug}/build && cmake -DEXERCISM_RUN_ALL_TESTS=1 .. && make\n\n"
     "(CMakeLists.txt names the program and its sources after the directory, so it "
     "builds in a directory named {slug})", 600,
     CPP_HARNESS},
    {"go", "Go", GO_TESTS,
     "GOCACHE=\"${TMPDIR:-/tmp}/cab-gocache\" GOPATH=\"${TMPDIR:-/tmp}/cab-gopath\" "
     "GOPROXY=off GOTOOLCHAIN=local go test -v ./...",
     "go test -v ./...", 300, NO_HARNESS},
    {"java", "Java", JAVA_TESTS,
     COPY_TO("src") "cd \"$d/src\"; find src/test -name '*.java' -exec sed -i "
                    "-e '/^[[:space:]]*@Disabled/d' "
                    "-e '/import org.junit.jupiter.api.Disabled;/d' {} +; "
                    /* Gradle's distribution is a download; with JUnit 5's
                     * console launcher and AssertJ in /opt/aider-polyglot/java
                     * (tests/images/polyglot-toolchain.sh) javac and java
                     * run the same tests offline. */
                    "j=/opt/aider-polyglot/java; if [ -d \"$j\" ]; then "
                    "javac -encoding UTF-8 -nowarn -d \"$d/classes\" -cp \"$j/*\" "
                    "$(find src/main/java src/test/java -name '*.java'); "
                    "java -jar \"$j\"/junit-platform-console-standalone-*.jar execute "
                    "--disable-banner --details=tree --fail-if-no-tests "
                    "-cp \"$d/classes:$(echo \"$j\"/assertj-core-*.jar)\" --scan-classpath; "
                    "else gradle --offline --console=plain test; fi",
     "gradle test (with the @Disabled annotations removed)", 900, JAVA_HARNESS},
    {"javascript", "JavaScript", JS_TESTS,
     COPY_TO("src") "cd \"$d/src\"; sed -i -e 's/\\bxtest(/test(/g' -e 's/\\bxit(/it(/g' "
                    "-e 's/\\bxdescribe(/describe(/g' *.spec.js; "
                    "[ -e node_modules ] || ln -s /opt/aider-polyglot/javascript/node_modules "
                    "node_modules; node_modules/.bin/jest --ci --verbose",
     "npx jest (with xtest( changed to test()", 300, JS_HARNESS},
    {"python", "Python", PY_TESTS,
     "PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s . -p '*_test.py' -v",
     "python3 -m unittest discover -p '*_test.py' -v", 300, NO_HARNESS},
    {"rust", "Rust", RS_TESTS,
     "c=/opt/aider-polyglot/rust/cargo-config.toml; cfg=; [ ! -f \"$c\" ] || cfg=\"--config $c\"; "
     "CARGO_TARGET_DIR=\"${TMPDIR:-/tmp}/cab-cargo-target-{slug}\" cargo test --offline $cfg -- "
     "--include-ignored",
     "cargo test -- --include-ignored", 900, NO_HARNESS},
};

/* Exercises whose stub already passes its tests: the nop agent passes
 * them, which `cab tasks validate` accepts for these only. */
static const struct {
  const char *lang, *slug, *reason;
} STUB_PASSES[] = {
    {"go", "counter", "a test-suite exercise: the stub already passes the tests"},
    {"go", "ledger", "a refactoring exercise: the stub is working code the tests already pass"},
    {"go", "markdown", "a refactoring exercise: the stub is working code the tests already pass"},
};

static const struct lang_spec *
lang_find(const char *lang)
{
  for (size_t i = 0; i < sizeof LANGS / sizeof LANGS[0]; i++)
    if (strcmp(LANGS[i].lang, lang) == 0)
      return &LANGS[i];
  return NULL;
}

static const char *
stub_passes(const char *lang, const char *slug)
{
  for (size_t i = 0; i < sizeof STUB_PASSES / sizeof STUB_PASSES[0]; i++)
    if (strcmp(STUB_PASSES[i].lang, lang) == 0 && strcmp(STUB_PASSES[i].slug, slug) == 0)
      return STUB_PASSES[i].reason;
  return NULL;
}

/* S with every {slug} replaced by SLUG (malloc'd). */
static char *
with_slug(const char *s, const char *slug)
{
  size_t n = 1, sl = strlen(slug);
  for (const char *p = s; *p; p++)
    n += strncmp(p, "{slug}", 6) == 0 ? sl : 1;
  char *out = malloc(n), *o = out;
  if (out == NULL)
    return NULL;
  while (*s) {
    if (strncmp(s, "{slug}", 6) == 0) {
      memcpy(o, slug, sl);
      o += sl;
      s += 6;
    } else {
      *o++ = *s++;
    }
  }
  *o = '\0';
  return out;
}

/* One exercise being imported. */
struct exercise {
  const struct lang_spec *spec;
  char dir[PATH_MAX];    /* DIR/<lang>/exercises/practice/<slug> */
  char config[PATH_MAX]; /* its .meta/config.json, for errors */
  const char *slug;
  struct cab_strv solution, test, example, invalidator;
};

static void
exercise_free(struct exercise *x)
{
  cab_strv_free(&x->solution);
  cab_strv_free(&x->test);
  cab_strv_free(&x->example);
  cab_strv_free(&x->invalidator);
}

/* A path inside the exercise: relative, no "..", no empty component. */
static bool
safe_rel(const char *p)
{
  if (p[0] == '\0' || p[0] == '/')
    return false;
  for (const char *c = p; *c;) {
    size_t n = strcspn(c, "/");
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    c += n;
    if (*c == '/')
      c++;
  }
  return true;
}

/* files.KEY: a list of existing regular files of the exercise. */
static int
file_list(struct exercise *x, const cJSON *files, const char *key, bool required,
          struct cab_strv *out, cab_error *err)
{
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(files, key);
  if (l == NULL && !required)
    return 0;
  if (!cJSON_IsArray(l) || (required && cJSON_GetArraySize(l) == 0))
    return cab_error_set(err, 0, "%s: files.%s: must be a non-empty list of paths "
                                      "(the exercise's %s files)", x->config, key, key);
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, l) {
    if (!cJSON_IsString(e) || !safe_rel(e->valuestring))
      return cab_error_set(err, 0, "%s: files.%s[%d]: must be a path inside the exercise",
                           x->config, key, i);
    char path[PATH_MAX];
    struct stat st;
    if (cab_path_printf(path, sizeof path, err, "%s/%s", x->dir, e->valuestring) < 0)
      return -1;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
      return cab_error_set(err, 0, "%s: files.%s[%d] '%s': no such file in the exercise",
                           x->config, key, i, e->valuestring);
    if (cab_strv_push(out, e->valuestring) < 0)
      return cab_error_sys(err, "%s", x->config);
    i++;
  }
  return 0;
}

static int
read_config(struct exercise *x, struct timespec *mtime, cab_error *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  struct stat st;
  if (stat(x->config, &st) < 0)
    return cab_error_sys(err, "%s: the exercise has no .meta/config.json", x->config);
  *mtime = st.st_mtim;
  if (cab_read_file(AT_FDCWD, x->config, DOC_MAX, CAB_READ_REGULAR | CAB_READ_WHOLE, &text, &len,
                    NULL, err) < 0)
    return -1;
  cJSON *root = cJSON_ParseWithLength(text, len);
  if (root == NULL || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return cab_error_set(err, 0, "%s: not a JSON object", x->config);
  }
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
  int rc = -1;
  if (!cJSON_IsObject(files))
    cab_error_set(err, 0, "%s: files: missing (an object with solution, test, example)",
                  x->config);
  else if (file_list(x, files, "solution", true, &x->solution, err) == 0 &&
           file_list(x, files, "test", true, &x->test, err) == 0 &&
           file_list(x, files, "example", true, &x->example, err) == 0 &&
           file_list(x, files, "invalidator", false, &x->invalidator, err) == 0)
    rc = 0;
  cJSON_Delete(root);
  return rc;
}

static const char *
ext_of(const char *p)
{
  const char *b = strrchr(p, '/');
  b = b ? b + 1 : p;
  const char *d = strrchr(b, '.');
  return d ? d : "";
}

static const char *
base_of(const char *p)
{
  const char *b = strrchr(p, '/');
  return b ? b + 1 : p;
}

/* The solution file example file EX[I] stands for. */
static const char *
example_target(const struct exercise *x, size_t i, cab_error *err)
{
  const char *ex = x->example.v[i];
  for (size_t k = 0; k < x->solution.n; k++)
    if (strcmp(base_of(x->solution.v[k]), base_of(ex)) == 0)
      return x->solution.v[k];
  const char *found = NULL;
  size_t n = 0;
  for (size_t k = 0; k < x->solution.n; k++)
    if (strcmp(ext_of(x->solution.v[k]), ext_of(ex)) == 0) {
      found = x->solution.v[k];
      n++;
    }
  if (n == 1)
    return found;
  cab_error_set(err, EINVAL,
                "%s: files.example[%zu] '%s': %s solution file has its name or its "
                "extension: name the reference file after the stub it solves",
                x->config, i, ex, n ? "more than one" : "no");
  return NULL;
}

/* An exercise file read for a count or a note, not for the task itself:
 * NULL when it is missing or unreadable (the count or note then skips it). */
static char *
read_optional(const struct exercise *x, const char *rel)
{
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", x->dir, rel) >= (int)sizeof path)
    return NULL;
  char *text = NULL;
  size_t len = 0;
  cab_error ignored = {0};
  if (cab_read_file(AT_FDCWD, path, DOC_MAX, CAB_READ_REGULAR, &text, &len, NULL, &ignored) < 0)
    return NULL;
  return text;
}

/* How many tests the test files declare. */
static long
count_tests(const struct exercise *x)
{
  long n = 0;
  for (size_t i = 0; i < x->test.n; i++) {
    cleanup_free char *text = read_optional(x, x->test.v[i]);
    if (text == NULL)
      continue;
    for (char *line = text; line && *line;) {
      char *nl = strchr(line, '\n');
      while (*line == ' ' || *line == '\t')
        line++;
      for (size_t m = 0; x->spec->test_markers[m]; m++)
        if (strncmp(line, x->spec->test_markers[m], strlen(x->spec->test_markers[m])) == 0) {
          n++;
          break;
        }
      line = nl ? nl + 1 : NULL;
    }
  }
  return n;
}

/* DOC (.docs/NAME) appended to BUF, when the exercise has it. */
static int
append_doc(const struct exercise *x, const char *name, bool required, char **buf, cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/.docs/%s", x->dir, name) < 0)
    return -1;
  if (!required && access(path, F_OK) < 0)
    return 0;
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (cab_read_file(AT_FDCWD, path, DOC_MAX, CAB_READ_REGULAR | CAB_READ_WHOLE, &text, &len, NULL,
                    err) < 0)
    return cab_error_set(err, 0, "%s: %s (every exercise has its instructions there)", path,
                         strerror(err->errnum ? err->errnum : EINVAL));
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  char *grown = NULL;
  if (asprintf(&grown, "%s%s\n\n", *buf, text) < 0)
    return cab_error_sys(err, "%s", path);
  free(*buf);
  *buf = grown;
  return 0;
}

static char *
joined(const struct cab_strv *l, const char *sep, const char *quote)
{
  size_t n = 1;
  for (size_t i = 0; i < l->n; i++)
    n += strlen(l->v[i]) + strlen(sep) + 2 * strlen(quote);
  char *s = calloc(1, n);
  for (size_t i = 0; s && i < l->n; i++) {
    if (i)
      strcat(s, sep);
    strcat(s, quote);
    strcat(s, l->v[i]);
    strcat(s, quote);
  }
  return s;
}

static int
write_text(const char *dir, const char *rel, const char *text, cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/%s", dir, rel) < 0)
    return -1;
  return cab_write_file_atomic(path, text, strlen(text), 0644, err);
}

static int
write_prompt(const struct exercise *x, const char *workdir, cab_error *err)
{
  cleanup_free char *body = strdup("");
  if (body == NULL)
    return cab_error_sys(err, "prompt");
  if (append_doc(x, "introduction.md", false, &body, err) < 0 ||
      append_doc(x, "instructions.md", true, &body, err) < 0 ||
      append_doc(x, "instructions.append.md", false, &body, err) < 0)
    return -1;
  cleanup_free char *files = joined(&x->solution, ", ", "`");
  cleanup_free char *tests = joined(&x->test, ", ", "`");
  cleanup_free char *readme = NULL, *agents = NULL;
  cleanup_free char *shown = with_slug(x->spec->verify_shown, x->slug);
  if (files == NULL || tests == NULL || shown == NULL ||
      asprintf(&readme,
               "# %s (%s)\n\n%s## Your task\n\n"
               "Use the instructions above to change %s. Keep the names of the existing "
               "functions, classes and types: the tests use them. Use only the standard "
               "library; do not install packages.\n\n"
               "## Verify\n\n    %s\n\n"
               "The verifier runs every test of %s, including those the test file skips "
               "until asked, on the test files as shipped.\n",
               x->slug, x->spec->title, body, files, shown, tests) < 0 ||
      asprintf(&agents,
               "# Constraints\n\n"
               "- Do not change the tests (%s): they are restored before verification, "
               "and a change to them is recorded as an integrity failure.\n",
               tests) < 0)
    return cab_error_sys(err, "prompt");
  if (write_text(workdir, "README.md", readme, err) < 0 ||
      write_text(workdir, "AGENTS.md", agents, err) < 0)
    return -1;
  return 0;
}

static bool
not_meta(const char *rel, void *arg)
{
  (void)arg;
  return strncmp(rel, ".meta/", 6) != 0 && strcmp(rel, ".meta") != 0;
}

static cJSON *
strv_json(const struct cab_strv *l)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < l->n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
  return a;
}

static int
write_task_json(const struct exercise *x, const char *task_id, const char *stage,
                const struct timespec *mtime, long tests, cab_error *err)
{
  char date[16];
  struct tm tm;
  time_t t = mtime->tv_sec;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%Y-%m-%d", &tm);
  cleanup_free char *verify = with_slug(x->spec->verify, x->slug);
  cleanup_free char *source = NULL, *summary = NULL;
  if (verify == NULL ||
      asprintf(&source, "Aider polyglot benchmark: %s/exercises/practice/%s (Exercism), imported "
                        "by cab tasks import --format aider-polyglot",
               x->spec->lang, x->slug) < 0 ||
      asprintf(&summary, "Exercism's %s exercise %s: make its %ld test%s pass.", x->spec->title,
               x->slug, tests, tests == 1 ? "" : "s") < 0)
    return cab_error_sys(err, "task.json");
  struct cab_strv protected = {0};
  for (size_t i = 0; i < x->test.n; i++)
    cab_strv_xpush(&protected, x->test.v[i]);
  for (size_t i = 0; i < x->invalidator.n; i++)
    if (!cab_strv_contains(&protected, x->invalidator.v[i]))
      cab_strv_xpush(&protected, x->invalidator.v[i]);
  for (size_t i = 0; x->spec->harness[i]; i++) {
    const char *h = x->spec->harness[i];
    size_t hl = strlen(h);
    bool dir = hl > 2 && strcmp(h + hl - 2, "/*") == 0;
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%.*s", x->dir, (int)(dir ? hl - 2 : hl), h) >=
            (int)sizeof path ||
        lstat(path, &st) < 0 || (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
        cab_strv_contains(&x->solution, h) || cab_strv_contains(&protected, h))
      continue;
    cab_strv_xpush(&protected, h);
  }

  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "task_id", task_id);
  cJSON_AddStringToObject(j, "family", "aider-polyglot");
  cJSON_AddStringToObject(j, "language", x->spec->lang);
  cJSON_AddStringToObject(j, "version", "v0.1");
  cJSON_AddStringToObject(j, "task_added_date", date);
  cJSON_AddStringToObject(j, "source", source);
  cJSON_AddStringToObject(j, "summary", summary);
  cJSON_AddNumberToObject(j, "max_turns", 50);
  cJSON_AddNumberToObject(j, "timeout_s", 1800);
  cJSON *sc = cJSON_AddObjectToObject(j, "scorer");
  cJSON_AddStringToObject(sc, "kind", "exec");
  cJSON_AddStringToObject(sc, "command", verify);
  cJSON_AddNumberToObject(sc, "timeout_s", (double)x->spec->scorer_timeout_s);
  cJSON_AddNumberToObject(sc, "min_tests", (double)(tests > 0 ? tests : 1));
  cJSON_AddItemToObject(j, "ground_truth_files", strv_json(&x->solution));
  cJSON_AddFalseToObject(j, "expected_refusal");
  cJSON *cons = cJSON_AddArrayToObject(j, "constraints");
  for (size_t i = 0; i < x->test.n; i++) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "kind", "file-not-touched");
    cJSON_AddStringToObject(c, "path", x->test.v[i]);
    cJSON_AddItemToArray(cons, c);
  }
  cJSON_AddItemToObject(j, "protected_paths", strv_json(&protected));
  cJSON_AddTrueToObject(j, "integrity_protected_paths");
  const char *stub = stub_passes(x->spec->lang, x->slug);
  if (stub)
    cJSON_AddStringToObject(j, "stub_passes", stub);
  cab_strv_free(&protected);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "task.json");
  cleanup_free char *nl = NULL;
  int rc = asprintf(&nl, "%s\n", text);
  free(text);
  if (rc < 0)
    return cab_error_sys(err, "task.json");
  return write_text(stage, "task.json", nl, err);
}

/* The crates a reference Cargo.toml (an example file ending in .toml)
 * declares under [dependencies], as one note: such a task verifies offline
 * only with those crates in /opt/aider-polyglot/rust/vendor (the verifier
 * passes its cargo-config.toml; tests/images/polyglot-toolchain.sh). */
static void
note_crates(const struct exercise *x, struct cab_import_report *rep)
{
  for (size_t i = 0; i < x->example.n; i++) {
    if (strcmp(ext_of(x->example.v[i]), ".toml") != 0)
      continue;
    cleanup_free char *text = read_optional(x, x->example.v[i]);
    if (text == NULL)
      continue;
    char crates[512] = "";
    bool in_deps = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '[') {
        in_deps = strncmp(line, "[dependencies]", 14) == 0;
        continue;
      }
      size_t name = strcspn(line, " \t=");
      if (!in_deps || *line == '#' || name == 0 || strchr(line, '=') == NULL)
        continue;
      size_t used = strlen(crates);
      snprintf(crates + used, sizeof crates - used, "%s%.*s", used ? ", " : "", (int)name, line);
    }
    if (crates[0] == '\0')
      continue;
    char *note = NULL;
    if (asprintf(&note, "aider-polyglot/%s-%s: its reference solution needs crates (%s): "
                        "verify runs offline only with them in /opt/aider-polyglot/rust/vendor "
                        "(make polyglot-toolchain, or tests/images/polyglot-image.sh)",
                 x->spec->lang, x->slug, crates) >= 0) {
      cab_strv_xpush(&rep->notes, note);
      free(note);
    }
  }
}

/* The whole task of one exercise, staged and published. */
static int
import_exercise(struct exercise *x, const struct cab_import_request *req,
                struct cab_import_report *rep, cab_error *err)
{
  struct timespec mtime = {0};
  if (read_config(x, &mtime, err) < 0)
    return -1;
  const char *targets[64];
  if (x->example.n > sizeof targets / sizeof targets[0])
    return cab_error_set(err, 0, "%s: files.example: more than 64 files", x->config);
  for (size_t i = 0; i < x->example.n; i++)
    if ((targets[i] = example_target(x, i, err)) == NULL)
      return -1;

  char task_id[NAME_MAX * 2], stage[PATH_MAX], sub[PATH_MAX], from[PATH_MAX];
  /* before the first goto: a cleanup variable must not be jumped over */
  cleanup_free char *json = NULL;
  if (snprintf(task_id, sizeof task_id, "aider-polyglot/%s-%s", x->spec->lang, x->slug) >=
      (int)sizeof task_id)
    return cab_error_set(err, 0, "%s: slug too long", x->dir);
  cab_error idr = {0};
  if (cab_task_check_id(task_id, &idr) < 0)
    return cab_error_set(err, 0, "%s: the slug '%s' does not make a task id (lower-case "
                                      "letters, digits, '-', '_', '.')", x->dir, x->slug);
  if (cab_import_stage(req->out, stage, sizeof stage, err) < 0)
    return -1;
  struct cab_copy_opts copy = {.max_depth = 64, .filter = not_meta};
  long tests = count_tests(x);
  if (cab_path_printf(sub, sizeof sub, err, "%s/workdir", stage) < 0 ||
      cab_copy_tree(x->dir, sub, &copy, err) < 0 || write_prompt(x, sub, err) < 0)
    goto fail;
  for (size_t i = 0; i < x->example.n; i++) {
    char dir[PATH_MAX];
    if (cab_path_printf(sub, sizeof sub, err, "%s/solution/%s", stage, targets[i]) < 0 ||
        cab_path_printf(from, sizeof from, err, "%s/%s", x->dir, x->example.v[i]) < 0)
      goto fail;
    snprintf(dir, sizeof dir, "%s", sub);
    *strrchr(dir, '/') = '\0';
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (cab_mkdir_p(dir, 0755, err) < 0 ||
        cab_read_file(AT_FDCWD, from, 16 * DOC_MAX, CAB_READ_REGULAR | CAB_READ_WHOLE, &text,
                      &len, NULL, err) < 0 ||
        cab_write_file_atomic(sub, text, len, 0644, err) < 0)
      goto fail;
  }
  if (write_task_json(x, task_id, stage, &mtime, tests, err) < 0)
    goto fail;
  /* The staged tree must be a task cab loads, before it replaces anything. */
  struct cab_task *t = NULL;
  char *saved_dir = NULL;
  size_t jlen = 0;
  if (cab_path_printf(sub, sizeof sub, err, "%s/task.json", stage) < 0 ||
      cab_read_file(AT_FDCWD, sub, CAB_TASK_JSON_MAX, CAB_READ_REGULAR, &json, &jlen, NULL,
                    err) < 0 ||
      cab_task_parse(json, jlen, sub, task_id, &t, err) < 0)
    goto fail;
  saved_dir = t->dir;
  t->dir = stage;
  int checked = cab_task_check_tree(t, err);
  t->dir = saved_dir;
  cab_task_free(t);
  if (checked < 0)
    goto fail;
  if (cab_import_publish(stage, req->out, task_id, err) < 0)
    return -1;
  cab_strv_xpush(&rep->imported, task_id);
  note_crates(x, rep);
  return 0;
fail:
  cab_rm_tree_at(AT_FDCWD, stage, 0, NULL);
  return -1;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int
visible_dir(const struct dirent *d)
{
  return d->d_name[0] != '.';
}

static int
import_lang(const struct lang_spec *spec, const struct cab_import_request *req,
            struct cab_import_report *rep, bool *seen, cab_error *err)
{
  char practice[PATH_MAX];
  if (cab_path_printf(practice, sizeof practice, err, "%s/%s/exercises/practice", req->src,
                      spec->lang) < 0)
    return -1;
  struct dirent **names = NULL;
  int n = scandir(practice, &names, visible_dir, by_name);
  if (n < 0) {
    if (errno == ENOENT)
      return 0;
    return cab_error_sys(err, "%s: read the exercises", practice);
  }
  *seen = true;
  int rc = 0;
  for (int i = 0; i < n; i++) {
    struct exercise x = {.spec = spec, .slug = names[i]->d_name};
    struct stat st;
    if (rc == 0 &&
        (cab_path_printf(x.dir, sizeof x.dir, err, "%s/%s", practice, x.slug) < 0 ||
         cab_path_printf(x.config, sizeof x.config, err, "%s/.meta/config.json", x.dir) < 0))
      rc = -1;
    if (rc == 0 && stat(x.dir, &st) == 0 && S_ISDIR(st.st_mode) &&
        import_exercise(&x, req, rep, err) < 0)
      rc = -1;
    exercise_free(&x);
    free(names[i]);
  }
  free(names);
  return rc;
}

static int
aider_import(const struct cab_import_request *req, struct cab_import_report *rep, cab_error *err)
{
  if (req->lang && lang_find(req->lang) == NULL)
    return cab_error_set(err, 0, "--lang %s: not a language of the Aider polyglot "
                                      "benchmark (cpp, go, java, javascript, python, rust)",
                         req->lang);
  struct stat st;
  if (stat(req->src, &st) < 0 || !S_ISDIR(st.st_mode))
    return cab_error_set(err, 0, "%s: not a directory (give the benchmark's checkout, "
                                      "which holds <lang>/exercises/practice/)", req->src);
  bool seen = false;
  for (size_t i = 0; i < sizeof LANGS / sizeof LANGS[0]; i++) {
    if (req->lang && strcmp(req->lang, LANGS[i].lang) != 0)
      continue;
    if (import_lang(&LANGS[i], req, rep, &seen, err) < 0)
      return -1;
  }
  if (!seen)
    return cab_error_set(err, 0, "%s: no %s/exercises/practice/ here (give the benchmark's "
                                      "checkout)", req->src, req->lang ? req->lang : "<lang>");
  return 0;
}

const struct cab_import_ops cab_import_aider_polyglot = {
    .format = "aider-polyglot",
    .summary = "the Aider polyglot benchmark: DIR/<lang>/exercises/practice/<slug>/",
    .takes_lang = true,
    .import = aider_import,
};
