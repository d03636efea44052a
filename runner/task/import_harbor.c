/* The Harbor importer (import_harbor.h): task.toml read strictly
 * (common/toml.h), mapped to task.json, the environment applied as the
 * image, workdir_path, env and workdir/ files, the tests kept as verifier/
 * (bound at /tests in the verifier only), the solution run by the oracle
 * through solution/.cab/oracle.sh. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/strv.h"
#include "common/cleanup.h"
#include "common/copy_tree.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "common/strfmt.h"
#include "common/toml.h"
#include "runner/task/import.h"
#include "runner/task/import_harbor.h"
#include "runner/task/task.h"

#define HARBOR_FILE_MAX (64 << 20)
#define HARBOR_COPY_DEPTH 64

static const char *const SCHEMAS[] = {"1.0", "1.1", "1.2", "1.3", "1.4", NULL};
static const char *const TOP_KEYS[] = {"version", "task", "metadata", "verifier", "agent",
                                       "environment", "solution", "steps", NULL};
static const char *const VERIFIER_KEYS[] = {"timeout_sec", "env", NULL};
static const char *const AGENT_KEYS[] = {"timeout_sec", NULL};
static const char *const ENV_KEYS[] = {"docker_image", "build_timeout_sec", "cpus", "memory_mb",
                                       "storage_mb", "gpus", "network_mode", "allowed_hosts",
                                       "allow_internet", "memory", "storage", NULL};
static const char *const SOLUTION_KEYS[] = {"env", NULL};

/* Lines in a test script that fetch from the network: cab's verifier is
 * offline, so such a task cannot be verified as Harbor would. */
static const char *const FETCHES[] = {"curl ", "wget ", "pip install", "pip3 install", "uv add",
                                      "uv sync", "uvx ", "uv tool install", "uv run --with",
                                      "apt-get install", "apt install", "apk add", "npm install",
                                      "npx ", "git clone", "go install", "cargo install", NULL};

static int
push_line(struct cab_strv *v, cab_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
push_line(struct cab_strv *v, cab_error *err, const char *fmt, ...)
{
  cleanup_free char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0 || cab_strv_push(v, s) < 0)
    return cab_error_set(err, ENOMEM, "out of memory");
  return 0;
}

/* The keys of table T (named WHERE) that are not in KNOWN, as "where.key". */
static int
unknown_keys(const cJSON *t, const char *where, const char *const *known, cJSON *out)
{
  const cJSON *e;
  cJSON_ArrayForEach(e, t) {
    if (cab_str_in_list(e->string, known))
      continue;
    char name[512];
    snprintf(name, sizeof name, "%s%s%s", where, where[0] ? "." : "", e->string);
    cJSON_AddItemToArray(out, cJSON_CreateString(name));
  }
  return 0;
}

static const cJSON *
table(const cJSON *root, const char *key, const char *origin, cab_error *err, bool *bad)
{
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, key);
  if (t && !cJSON_IsObject(t)) {
    cab_error_set(err, 0, "%s: [%s] must be a table", origin, key);
    *bad = true;
  }
  return t;
}

/* A number of seconds (positive, at most a day) into whole seconds. */
static int
seconds(const cJSON *t, const char *key, const char *where, long dflt, long *out, cab_error *err)
{
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(t, key);
  if (j == NULL) {
    *out = dflt;
    return 0;
  }
  if (!cJSON_IsNumber(j) || !(j->valuedouble > 0 && j->valuedouble <= 86400))
    return cab_error_set(err, 0, "%s.%s: must be a number of seconds from 0 to 86400", where,
                         key);
  *out = (long)ceil(j->valuedouble);
  return 0;
}

/* A table of strings {NAME = "value"} copied into a JSON object. */
static cJSON *
env_table(const cJSON *t, const char *where, cab_error *err)
{
  cJSON *o = cJSON_CreateObject();
  const cJSON *e;
  cJSON_ArrayForEach(e, t) {
    if (!cJSON_IsString(e)) {
      cJSON_Delete(o);
      cab_error_set(err, 0, "%s.%s: must be a string", where, e->string);
      return NULL;
    }
    cJSON_AddStringToObject(o, e->string, e->valuestring);
  }
  return o;
}

/* 'VALUE' for sh. */
static int
sh_quote(const char *v, struct cab_strv *lines, const char *name, cab_error *err)
{
  size_t n = strlen(v);
  cleanup_free char *q = malloc(4 * n + 3);
  if (q == NULL)
    return cab_error_set(err, ENOMEM, "out of memory");
  char *o = q;
  *o++ = '\'';
  for (const char *p = v; *p; p++) {
    if (*p == '\'') {
      memcpy(o, "'\\''", 4);
      o += 4;
    } else {
      *o++ = *p;
    }
  }
  *o++ = '\'';
  *o = '\0';
  return push_line(lines, err, "export %s=%s", name, q);
}

static int
read_text(const char *path, char **out, size_t *len, cab_error *err)
{
  return cab_read_file(AT_FDCWD, path, HARBOR_FILE_MAX,
                       CAB_READ_NOFOLLOW | CAB_READ_REGULAR | CAB_READ_WHOLE, out, len, NULL,
                       err);
}

static bool
exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

static bool
is_dir(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every regular file under DIR (REL its name in messages) scanned for
 * network fetches outside comments. */
static int
scan_fetches(const char *dir, const char *rel, int depth, cab_error *err)
{
  if (depth > 16)
    return 0;
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return cab_error_sys(err, "open %s", dir);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
      continue;
    char path[PATH_MAX], name[PATH_MAX];
    if (cab_path_printf(path, sizeof path, err, "%s/%s", dir, de->d_name) < 0 ||
        cab_path_printf(name, sizeof name, err, "%s/%s", rel, de->d_name) < 0)
      return -1;
    struct stat st;
    if (lstat(path, &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (scan_fetches(path, name, depth + 1, err) < 0)
        return -1;
      continue;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (1 << 20))
      continue;
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (read_text(path, &text, &len, err) < 0)
      return -1;
    if (memchr(text, '\0', len))
      continue; /* not a script */
    int line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
      line++;
      while (*l == ' ' || *l == '\t')
        l++;
      if (*l == '#')
        continue;
      for (size_t i = 0; FETCHES[i]; i++)
        if (strstr(l, FETCHES[i]))
          return cab_error_set(err, 0, "%s:%d: '%.*s' fetches from the network, and cab's "
                               "verifier is offline: this task cannot be verified faithfully "
                               "(vendor what it fetches into the image)", name, line,
                               (int)strcspn(FETCHES[i], " "), FETCHES[i]);
    }
  }
  return 0;
}

/* Apply the Dockerfile's COPY pairs from the context CTX into WORKDIR. */
static int
apply_copies(const struct cab_harbor_dockerfile *df, const char *ctx, const char *workdir,
             cab_error *err)
{
  static const struct cab_copy_opts merge = {.max_depth = HARBOR_COPY_DEPTH};
  for (size_t i = 0; i + 1 < df->copies.n; i += 2) {
    const char *src = df->copies.v[i], *target = df->copies.v[i + 1];
    char from[PATH_MAX], to[PATH_MAX];
    if (cab_path_printf(from, sizeof from, err, "%s/%s", ctx, src) < 0)
      return -1;
    struct stat st;
    if (lstat(from, &st) < 0)
      return cab_error_sys(err, "environment/Dockerfile: COPY %s: not in the build context",
                           src);
    if (S_ISLNK(st.st_mode))
      return cab_error_set(err, 0, "environment/Dockerfile: COPY %s: a symlink; copy what it "
                           "points to", src);
    if (S_ISDIR(st.st_mode)) {
      if (cab_path_printf(to, sizeof to, err, "%s/%s", workdir, target) < 0 ||
          cab_mkdir_p(to, 0755, err) < 0 || cab_copy_tree(from, to, &merge, err) < 0)
        return -1;
      continue;
    }
    if (!S_ISREG(st.st_mode))
      return cab_error_set(err, 0, "environment/Dockerfile: COPY %s: not a file or directory",
                           src);
    size_t tl = strlen(target);
    const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    if (tl == 0 || target[tl - 1] == '/') {
      if (cab_path_printf(to, sizeof to, err, "%s/%s%s", workdir, target, base) < 0)
        return -1;
    } else if (cab_path_printf(to, sizeof to, err, "%s/%s", workdir, target) < 0) {
      return -1;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", to);
    *strrchr(parent, '/') = '\0';
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (cab_mkdir_p(parent, 0755, err) < 0 || read_text(from, &data, &len, err) < 0 ||
        cab_write_file_atomic(to, data, len, st.st_mode & 0755, err) < 0)
      return -1;
  }
  return 0;
}

static int
write_file(const char *dir, const char *name, const char *text, mode_t mode, cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/%s", dir, name) < 0)
    return -1;
  return cab_write_file_atomic(path, text, strlen(text), mode, err);
}

/* The task's name: SRC's last component, lower-cased, other than
 * [a-z0-9._-] as '-', starting with a letter or digit. */
static int
task_name(const char *src, char *out, size_t size, cab_error *err)
{
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", src);
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/')
    buf[--n] = '\0';
  const char *base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
  size_t o = 0;
  for (const char *p = base; *p && o + 1 < size; p++) {
    char c = (char)tolower((unsigned char)*p);
    out[o++] = (isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-') ? c : '-';
  }
  out[o] = '\0';
  if (o == 0 || !isalnum((unsigned char)out[0]))
    return cab_error_set(err, 0, "%s: the directory's name must start with a letter or digit "
                         "(it becomes the task's name)", src);
  return 0;
}

/* What task.toml and the tree say, checked and mapped. */
struct harbor {
  const char *src;
  cJSON *toml;
  long agent_timeout, verifier_timeout;
  cJSON *verifier_env, *solution_env;
  char *image;
  struct cab_harbor_dockerfile df;
  double cpus;
  long memory_mb, storage_mb;
  cJSON *unknown;
  char network[32];
};

static void
harbor_free(struct harbor *h)
{
  cJSON_Delete(h->toml);
  cJSON_Delete(h->verifier_env);
  cJSON_Delete(h->solution_env);
  cJSON_Delete(h->unknown);
  free(h->image);
  cab_harbor_dockerfile_free(&h->df);
}

static int
environment(struct harbor *h, const cJSON *env, struct cab_strv *notes, cab_error *err)
{
  const cJSON *j;
  if ((j = cJSON_GetObjectItemCaseSensitive(env, "gpus")) && cJSON_IsNumber(j) &&
      j->valuedouble > 0)
    return cab_error_set(err, 0, "task.toml: [environment] gpus = %g: cab gives a cell no GPU",
                         j->valuedouble);
  if ((j = cJSON_GetObjectItemCaseSensitive(env, "cpus"))) {
    if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0.01 && j->valuedouble <= 1024))
      return cab_error_set(err, 0, "task.toml: environment.cpus: must be a number from 0.01");
    h->cpus = j->valuedouble;
  }
  const char *keys[2][2] = {{"memory_mb", "memory"}, {"storage_mb", "storage"}};
  long *dst[2] = {&h->memory_mb, &h->storage_mb};
  for (int i = 0; i < 2; i++) {
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(env, keys[i][0]);
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(env, keys[i][1]);
    int64_t bytes = 0;
    if (mb && (!cJSON_IsNumber(mb) || mb->valuedouble < 16 || mb->valuedouble > (1 << 30)))
      return cab_error_set(err, 0, "task.toml: environment.%s: must be a number of MiB from 16",
                           keys[i][0]);
    if (mb)
      *dst[i] = (long)mb->valuedouble;
    else if (sz && (!cJSON_IsString(sz) || cab_parse_size(sz->valuestring, &bytes) < 0 ||
                    bytes < (16 << 20)))
      return cab_error_set(err, 0, "task.toml: environment.%s: must be a size such as \"2G\"",
                           keys[i][1]);
    else if (sz)
      *dst[i] = (long)(bytes >> 20);
  }
  snprintf(h->network, sizeof h->network, "public");
  const cJSON *nm = cJSON_GetObjectItemCaseSensitive(env, "network_mode");
  const cJSON *ai = cJSON_GetObjectItemCaseSensitive(env, "allow_internet");
  if (nm) {
    if (!cJSON_IsString(nm) || !(strcmp(nm->valuestring, "public") == 0 ||
                                 strcmp(nm->valuestring, "no-network") == 0 ||
                                 strcmp(nm->valuestring, "allowlist") == 0))
      return cab_error_set(err, 0, "task.toml: environment.network_mode: must be public, "
                           "no-network or allowlist");
    snprintf(h->network, sizeof h->network, "%s", nm->valuestring);
  } else if (cJSON_IsFalse(ai)) {
    snprintf(h->network, sizeof h->network, "no-network");
  }
  if (strcmp(h->network, "no-network") != 0 &&
      push_line(notes, err, "network_mode %s: the agent reaches cab's model proxy and nothing "
                "else (a task whose agent must download cannot be solved here)", h->network) < 0)
    return -1;
  const cJSON *img = cJSON_GetObjectItemCaseSensitive(env, "docker_image");
  if (img && (!cJSON_IsString(img) || img->valuestring[0] == '\0'))
    return cab_error_set(err, 0, "task.toml: environment.docker_image: must be an image "
                         "reference");

  /* The environment directory. */
  char envdir[PATH_MAX], path[PATH_MAX];
  if (cab_path_printf(envdir, sizeof envdir, err, "%s/environment", h->src) < 0)
    return -1;
  static const char *const compose[] = {"docker-compose.yaml", "docker-compose.yml",
                                        "compose.yaml", "compose.yml", NULL};
  for (size_t i = 0; compose[i]; i++) {
    if (cab_path_printf(path, sizeof path, err, "%s/%s", envdir, compose[i]) < 0)
      return -1;
    if (exists(path))
      return cab_error_set(err, 0, "environment/%s: compose services (sidecars) are not "
                           "supported: a cell is one sandbox", compose[i]);
  }
  if (cab_path_printf(path, sizeof path, err, "%s/Dockerfile", envdir) < 0)
    return -1;
  if (!exists(path))
    return cab_error_set(err, 0, "%s/environment/Dockerfile: missing; cab takes the task's "
                         "WORKDIR and files from it, even with a prebuilt docker_image",
                         h->src);
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_text(path, &text, &len, err) < 0)
    return -1;
  if (cab_harbor_dockerfile_parse(text, "environment/Dockerfile", img != NULL, &h->df, err) < 0)
    return -1;
  if (cab_path_printf(path, sizeof path, err, "%s/.dockerignore", envdir) < 0)
    return -1;
  if (h->df.copies.n && exists(path))
    return cab_error_set(err, 0, "environment/.dockerignore: cab does not apply it to the "
                         "Dockerfile's COPY; remove what it excludes from the build context, or "
                         "build the image and name it as docker_image");
  for (size_t i = 0; i < h->df.notes.n; i++)
    if (cab_strv_push(notes, h->df.notes.v[i]) < 0)
      return cab_error_set(err, ENOMEM, "out of memory");
  if (img && push_line(notes, err, "docker_image %s: run as it is (the Dockerfile's build steps "
                       "are in it); the workdir is seeded from its %s", img->valuestring,
                       h->df.workdir) < 0)
    return -1;
  /* A prebuilt image is what Harbor runs; its Dockerfile gave the WORKDIR
   * and the files cab carries in the workdir (the bind hides the image's). */
  h->image = strdup(img ? img->valuestring : h->df.from);
  if (h->image == NULL)
    return cab_error_set(err, ENOMEM, "out of memory");
  return 0;
}

static int
read_harbor(struct harbor *h, struct cab_strv *notes, cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/task.toml", h->src) < 0)
    return -1;
  if (!exists(path)) {
    if (cab_path_printf(path, sizeof path, err, "%s/task.yaml", h->src) == 0 && exists(path))
      return cab_error_set(err, 0, "%s: a Terminal-Bench 1.x task (task.yaml): cab reads "
                           "Harbor's task.toml; convert it with Harbor's terminal-bench "
                           "adapter first", h->src);
    return cab_error_set(err, ENOENT, "%s: no task.toml: not a Harbor task", h->src);
  }
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (cab_read_file(AT_FDCWD, path, CAB_TOML_MAX,
                    CAB_READ_NOFOLLOW | CAB_READ_REGULAR | CAB_READ_WHOLE, &text, &len, NULL,
                    err) < 0 ||
      cab_toml_parse(text, len, "task.toml", &h->toml, err) < 0)
    return -1;
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(h->toml, "version");
  if (!cJSON_IsString(ver) || !cab_str_in_list(ver->valuestring, SCHEMAS))
    return cab_error_set(err, 0, "task.toml: version: cab reads Harbor task schemas 1.0 to 1.4 "
                         "(version = \"1.0\")");
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(h->toml, "steps");
  if (steps && cJSON_GetArraySize(steps) > 0)
    return cab_error_set(err, 0, "task.toml: [[steps]]: multi-step tasks are not supported: a "
                         "cell runs one agent phase; import each step as its own task");
  bool bad = false;
  const cJSON *verifier = table(h->toml, "verifier", "task.toml", err, &bad);
  const cJSON *agent = table(h->toml, "agent", "task.toml", err, &bad);
  const cJSON *env = table(h->toml, "environment", "task.toml", err, &bad);
  const cJSON *solution = table(h->toml, "solution", "task.toml", err, &bad);
  if (bad)
    return -1;
  h->unknown = cJSON_CreateArray();
  unknown_keys(h->toml, "", TOP_KEYS, h->unknown);
  unknown_keys(verifier, "verifier", VERIFIER_KEYS, h->unknown);
  unknown_keys(agent, "agent", AGENT_KEYS, h->unknown);
  unknown_keys(env, "environment", ENV_KEYS, h->unknown);
  unknown_keys(solution, "solution", SOLUTION_KEYS, h->unknown);
  if (seconds(agent, "timeout_sec", "task.toml: agent", 600, &h->agent_timeout, err) < 0 ||
      seconds(verifier, "timeout_sec", "task.toml: verifier", 600, &h->verifier_timeout, err) <
          0)
    return -1;
  const cJSON *ve = cJSON_GetObjectItemCaseSensitive(verifier, "env");
  const cJSON *se = cJSON_GetObjectItemCaseSensitive(solution, "env");
  if ((ve && (h->verifier_env = env_table(ve, "task.toml: verifier.env", err)) == NULL) ||
      (se && (h->solution_env = env_table(se, "task.toml: solution.env", err)) == NULL))
    return -1;
  if (environment(h, env, notes, err) < 0)
    return -1;

  static const char *const need[] = {"instruction.md", "tests/test.sh", "solution/solve.sh",
                                     NULL};
  static const char *const why[] = {"the agent's instruction", "the verifier",
                                    "the oracle: cab proves every task with it"};
  for (size_t i = 0; need[i]; i++) {
    if (cab_path_printf(path, sizeof path, err, "%s/%s", h->src, need[i]) < 0)
      return -1;
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
      return cab_error_set(err, ENOENT, "%s: missing (%s)", path, why[i]);
  }
  if (cab_path_printf(path, sizeof path, err, "%s/tests", h->src) < 0 ||
      scan_fetches(path, "tests", 0, err) < 0)
    return -1;
  return 0;
}

static char *
today(void)
{
  char buf[16];
  time_t now = time(NULL);
  const char *epoch = getenv("SOURCE_DATE_EPOCH"); /* reproducible imports */
  if (epoch && *epoch)
    now = (time_t)strtoll(epoch, NULL, 10);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return strdup(buf);
}

static cJSON *
task_json(const struct harbor *h, const char *id, const char *name, struct cab_strv *notes)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "task_id", id);
  cJSON_AddStringToObject(t, "family", "harbor");
  cJSON_AddStringToObject(t, "language", "sh");
  cJSON_AddStringToObject(t, "version", "v0.1");
  cleanup_free char *date = today();
  cJSON_AddStringToObject(t, "task_added_date", date ? date : "1970-01-01");
  char source[PATH_MAX];
  snprintf(source, sizeof source, "harbor:%s", name);
  cJSON_AddStringToObject(t, "source", source);
  cJSON_AddNumberToObject(t, "max_turns", 100);
  cJSON_AddNumberToObject(t, "timeout_s", (double)h->agent_timeout);
  cJSON *sc = cJSON_AddObjectToObject(t, "scorer");
  cJSON_AddStringToObject(sc, "kind", "reward");
  /* Harbor runs `bash /tests/test.sh`; sh where the image has no bash. */
  cJSON_AddStringToObject(sc, "command",
                          "if command -v bash >/dev/null 2>&1; then exec bash /tests/test.sh; "
                          "fi; exec sh /tests/test.sh");
  cJSON_AddNumberToObject(sc, "timeout_s", (double)h->verifier_timeout);
  if (h->verifier_env && cJSON_GetArraySize(h->verifier_env) > 0)
    cJSON_AddItemToObject(sc, "env", cJSON_Duplicate(h->verifier_env, true));
  /* Harbor names no files: whatever the agent changes is in scope. */
  cJSON *gt = cJSON_AddArrayToObject(t, "ground_truth_files");
  cJSON_AddItemToArray(gt, cJSON_CreateString("*"));
  cJSON_AddBoolToObject(t, "expected_refusal", false);
  cJSON_AddArrayToObject(t, "constraints");
  cJSON_AddStringToObject(t, "image", h->image);
  cJSON_AddArrayToObject(t, "protected_paths"); /* the tests are not in the workdir */
  if (h->storage_mb) {
    cJSON *b = cJSON_AddObjectToObject(t, "workdir_budget");
    cJSON_AddNumberToObject(b, "bytes", (double)h->storage_mb * 1048576.0);
  }
  cJSON_AddStringToObject(t, "workdir_path", h->df.workdir);
  if (h->df.prebuilt) /* the image's WORKDIR is what Harbor's agent sees */
    cJSON_AddBoolToObject(t, "workdir_from_image", true);
  if (h->df.env.n) {
    cJSON *e = cJSON_AddObjectToObject(t, "env");
    for (size_t i = 0; i < h->df.env.n; i++) {
      const char *kv = h->df.env.v[i];
      const char *eq = strchr(kv, '=');
      char k[256];
      snprintf(k, sizeof k, "%.*s", (int)(eq - kv), kv);
      cJSON_DeleteItemFromObjectCaseSensitive(e, k); /* a later ENV wins */
      cJSON_AddStringToObject(e, k, eq + 1);
    }
  }
  if (h->cpus > 0 || h->memory_mb > 0) {
    cJSON *l = cJSON_AddObjectToObject(t, "limits");
    if (h->cpus > 0)
      cJSON_AddNumberToObject(l, "cpus", h->cpus);
    if (h->memory_mb > 0)
      cJSON_AddNumberToObject(l, "memory_mb", (double)h->memory_mb);
  }
  cJSON *imp = cJSON_AddObjectToObject(t, "imported");
  cJSON_AddStringToObject(imp, "format", "harbor");
  cJSON_AddStringToObject(imp, "source", name);
  cJSON_AddStringToObject(imp, "network_mode", h->network);
  cJSON_AddItemToObject(imp, "task_toml", cJSON_Duplicate(h->toml, true));
  cJSON_AddItemToObject(imp, "unknown_keys", cJSON_Duplicate(h->unknown, true));
  cJSON *n = cJSON_AddArrayToObject(imp, "notes");
  for (size_t i = 0; i < notes->n; i++)
    cJSON_AddItemToArray(n, cJSON_CreateString(notes->v[i]));
  return t;
}

/* The staged tree: task.json, workdir/, solution/, verifier/. */
static int
write_stage(const struct harbor *h, const char *stage, const char *id, const char *name,
            struct cab_strv *notes, cab_error *err)
{
  char dir[PATH_MAX], src[PATH_MAX];
  static const struct cab_copy_opts merge = {.max_depth = HARBOR_COPY_DEPTH};

  /* workdir/: the Dockerfile's copies, then the prompt and AGENTS.md. */
  if (cab_path_printf(dir, sizeof dir, err, "%s/workdir", stage) < 0 ||
      cab_mkdir_p(dir, 0755, err) < 0 ||
      cab_path_printf(src, sizeof src, err, "%s/environment", h->src) < 0 ||
      apply_copies(&h->df, src, dir, err) < 0)
    return -1;
  static const char *const ours[] = {"README.md", "AGENTS.md", NULL};
  for (size_t i = 0; ours[i]; i++) {
    char p[PATH_MAX];
    if (cab_path_printf(p, sizeof p, err, "%s/%s", dir, ours[i]) < 0)
      return -1;
    if (exists(p))
      return cab_error_set(err, 0, "environment/Dockerfile: its COPY puts %s in WORKDIR, where "
                           "cab puts the prompt and constraints", ours[i]);
  }
  cleanup_free char *instr = NULL;
  size_t len = 0;
  if (cab_path_printf(src, sizeof src, err, "%s/instruction.md", h->src) < 0 ||
      read_text(src, &instr, &len, err) < 0)
    return -1;
  cleanup_free char *readme = NULL;
  if (asprintf(&readme, "%s%s\n## Verify\n\nThe task's tests run after you finish (`bash "
               "/tests/test.sh`, with the working directory %s); they are not here.\n",
               instr, len && instr[len - 1] == '\n' ? "" : "\n", h->df.workdir) < 0)
    return cab_error_set(err, ENOMEM, "out of memory");
  if (write_file(dir, "README.md", readme, 0644, err) < 0 ||
      write_file(dir, "AGENTS.md",
                 "# Constraints\n\nNone beyond the instruction in README.md (a task imported "
                 "from Harbor).\n", 0644, err) < 0)
    return -1;

  /* solution/: Harbor's, and the script the oracle runs. */
  if (cab_path_printf(dir, sizeof dir, err, "%s/solution", stage) < 0 ||
      cab_path_printf(src, sizeof src, err, "%s/solution", h->src) < 0 ||
      cab_mkdir_p(dir, 0755, err) < 0 || cab_copy_tree(src, dir, &merge, err) < 0)
    return -1;
  struct cab_strv lines = {0};
  int rc = push_line(&lines, err, "# cab's oracle: Harbor's solve.sh, run as Harbor runs it "
                     "(bash, in the WORKDIR).");
  const cJSON *e;
  cJSON_ArrayForEach(e, h->solution_env) {
    if (rc == 0)
      rc = sh_quote(e->valuestring, &lines, e->string, err);
  }
  if (rc == 0)
    rc = push_line(&lines, err, "if command -v bash >/dev/null 2>&1; then exec bash "
                   "/.cab/solution/solve.sh; fi\nexec sh /.cab/solution/solve.sh");
  size_t total = 1;
  for (size_t i = 0; rc == 0 && i < lines.n; i++)
    total += strlen(lines.v[i]) + 1;
  cleanup_free char *body = rc == 0 ? calloc(1, total) : NULL;
  for (size_t i = 0; body && i < lines.n; i++) {
    strcat(body, lines.v[i]);
    strcat(body, "\n");
  }
  cab_strv_free(&lines);
  if (rc < 0)
    return -1;
  if (body == NULL)
    return cab_error_set(err, ENOMEM, "out of memory");
  if (cab_path_printf(dir, sizeof dir, err, "%s/solution/.cab", stage) < 0 ||
      cab_mkdir_p(dir, 0755, err) < 0 || write_file(dir, "oracle.sh", body, 0755, err) < 0)
    return -1;

  /* verifier/: Harbor's tests/, bound at /tests in the verifier only. */
  if (cab_path_printf(dir, sizeof dir, err, "%s/" CAB_TASK_REWARD_TESTS_DIR, stage) < 0 ||
      cab_path_printf(src, sizeof src, err, "%s/tests", h->src) < 0 ||
      cab_mkdir_p(dir, 0755, err) < 0 || cab_copy_tree(src, dir, &merge, err) < 0)
    return -1;

  cJSON *t = task_json(h, id, name, notes);
  cleanup_free char *json = t ? cJSON_Print(t) : NULL;
  cJSON_Delete(t);
  cleanup_free char *withnl = NULL;
  if (json == NULL || asprintf(&withnl, "%s\n", json) < 0)
    return cab_error_set(err, ENOMEM, "out of memory");
  if (write_file(stage, "task.json", withnl, 0644, err) < 0)
    return -1;
  /* What cab will load: a task it would refuse to run is refused now. */
  struct cab_task *t2 = NULL;
  if (cab_task_parse(withnl, strlen(withnl), "task.json", id, &t2, err) < 0)
    return -1;
  int checked = (t2->dir = strdup(stage)) == NULL ? cab_error_set(err, ENOMEM, "out of memory")
                                             : cab_task_check_tree(t2, err);
  cab_task_free(t2);
  return checked;
}

/* STAGE in place as DEST: exchanged with an existing task, else renamed. */
static int
publish(const char *stage, const char *dest, cab_error *err)
{
  if (renameat2(AT_FDCWD, stage, AT_FDCWD, dest, RENAME_EXCHANGE) == 0) {
    cab_error ignored = {0};
    cab_rm_tree_at(AT_FDCWD, stage, 0, &ignored); /* now the old task */
    return 0;
  }
  if (errno != ENOENT)
    return cab_error_sys(err, "replace %s", dest);
  if (rename(stage, dest) < 0)
    return cab_error_sys(err, "rename %s to %s", stage, dest);
  return 0;
}

int
cab_import_harbor_task(const char *src, const char *out, char **task_id, struct cab_strv *notes,
                       cab_error *err)
{
  *task_id = NULL;
  char name[256];
  if (task_name(src, name, sizeof name, err) < 0)
    return -1;
  char id[300];
  snprintf(id, sizeof id, "harbor/%s", name);
  struct harbor h = {.src = src};
  struct cab_strv mine = {0};
  int rc = read_harbor(&h, &mine, err);
  char family[PATH_MAX], stage[PATH_MAX], dest[PATH_MAX];
  if (rc == 0 && (cab_path_printf(family, sizeof family, err, "%s/harbor", out) < 0 ||
                  cab_path_printf(stage, sizeof stage, err, "%s/.import-%s-XXXXXX", family,
                                  name) < 0 ||
                  cab_path_printf(dest, sizeof dest, err, "%s/%s", family, name) < 0 ||
                  cab_mkdir_p(family, 0755, err) < 0))
    rc = -1;
  if (rc == 0 && mkdtemp(stage) == NULL)
    rc = cab_error_sys(err, "create a staging directory in %s", family);
  if (rc == 0) {
    chmod(stage, 0755);
    rc = write_stage(&h, stage, id, name, &mine, err);
    if (rc == 0)
      rc = publish(stage, dest, err);
    if (rc < 0) {
      cab_error ignored = {0};
      cab_rm_tree_at(AT_FDCWD, stage, 0, &ignored);
    }
  }
  harbor_free(&h);
  if (rc < 0) {
    cab_strv_free(&mine);
    return cab_error_prefix(err, "%s", id);
  }
  for (size_t i = 0; i < mine.n; i++)
    if (push_line(notes, err, "%s: %s", id, mine.v[i]) < 0)
      rc = -1;
  cab_strv_free(&mine);
  if (rc == 0 && (*task_id = strdup(id)) == NULL)
    rc = cab_error_set(err, ENOMEM, "out of memory");
  return rc;
}

static bool
is_task(const char *dir)
{
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/task.toml", dir);
  if (exists(p))
    return true;
  snprintf(p, sizeof p, "%s/task.yaml", dir);
  return exists(p);
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cab_import_harbor_dir(const char *src, const char *out, struct cab_strv *ids,
                  struct cab_strv *refused, struct cab_strv *notes, cab_error *err)
{
  if (!is_dir(src))
    return cab_error_set(err, ENOTDIR, "%s: not a directory (a Harbor task or a folder of them)",
                         src);
  if (is_task(src)) {
    char *id = NULL;
    if (cab_import_harbor_task(src, out, &id, notes, err) < 0)
      return -1;
    int rc = cab_strv_push(ids, id);
    free(id);
    return rc < 0 ? cab_error_set(err, ENOMEM, "out of memory") : 0;
  }
  struct cab_strv subs = {0};
  {
    cleanup_dir DIR *d = opendir(src);
    if (d == NULL)
      return cab_error_sys(err, "open %s", src);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_name[0] == '.')
        continue;
      char p[PATH_MAX];
      if (cab_path_printf(p, sizeof p, err, "%s/%s", src, de->d_name) < 0) {
        cab_strv_free(&subs);
        return -1;
      }
      if (is_dir(p) && is_task(p) && cab_strv_push(&subs, p) < 0) {
        cab_strv_free(&subs);
        return cab_error_set(err, ENOMEM, "out of memory");
      }
    }
  }
  if (subs.n == 0) {
    cab_strv_free(&subs);
    return cab_error_set(err, ENOENT, "%s: no task.toml here or in its folders: not a Harbor "
                         "task or suite", src);
  }
  qsort(subs.v, subs.n, sizeof *subs.v, cmp_str);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < subs.n; i++) {
    char *id = NULL;
    cab_error one = {0};
    if (cab_import_harbor_task(subs.v[i], out, &id, notes, &one) < 0) {
      char line[2300];
      rc = push_line(refused, err, "refused %s", cab_error_line(&one, line, sizeof line));
      continue;
    }
    if (cab_strv_push(ids, id) < 0)
      rc = cab_error_set(err, ENOMEM, "out of memory");
    free(id);
  }
  cab_strv_free(&subs);
  return rc;
}

/* The importer table's row (runner/task/import.h): each refused task is a
 * note "refused harbor/<name>: why", after the notes on what is mapped. */
static int
harbor_import(const struct cab_import_request *req, struct cab_import_report *rep,
              cab_error *err)
{
  struct cab_strv refused = {0};
  int rc = cab_import_harbor_dir(req->src, req->out, &rep->imported, &refused, &rep->notes, err);
  for (size_t i = 0; i < refused.n; i++)
    if (cab_strv_push(&rep->notes, refused.v[i]) < 0)
      rc = cab_error_set(err, ENOMEM, "out of memory");
  cab_strv_free(&refused);
  return rc;
}

const struct cab_import_ops cab_import_harbor = {
    .format = "harbor",
    .summary = "Harbor tasks (task.toml, instruction.md, environment/, tests/, solution/): one, "
               "or a folder of them",
    .takes_lang = false,
    .import = harbor_import,
};
