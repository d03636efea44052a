/* "Run it yourself": the exact cab run-cell command for the cell (its image
 * pinned by digest, or --host-rootfs), and the --replay command that
 * reproduces it offline from the cell's cassette, copied beside the page
 * when it can be found. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runner/report/internal.h"

#define CASSETTE_MAX (256u << 20)
#define DEFAULT_PROFILE "codingagentbench-v0.1"

static bool
on_host(const struct rcell *c)
{
  const char *image = c->rec.container_image;
  const char *root = report_jstr(c->rec.environment.json, "root");
  return (image && strcmp(image, "host-rootfs") == 0) || (root && strcmp(root, "host-rootfs") == 0);
}

/* NAME@DIGEST from "name:tag" and "sha256:...", or the image as recorded. */
static void
image_ref(char *buf, size_t size, const struct rcell *c)
{
  const char *image = c->rec.container_image;
  const char *digest = c->rec.image_digest;
  if (image == NULL) {
    snprintf(buf, size, "%s", "");
    return;
  }
  if (digest == NULL || strchr(image, '@')) {
    snprintf(buf, size, "%s", image);
    return;
  }
  const char *slash = strrchr(image, '/');
  const char *colon = strchr(slash ? slash : image, ':');
  int n = colon ? (int)(colon - image) : (int)strlen(image);
  snprintf(buf, size, "%.*s@%s", n, image, digest);
}

/* The limits the cell ran with (cell.json's environment.limits; older
 * records have none): --memory in the largest whole unit run-cell reads;
 * --timeout and --max-turns as run, so that a task whose defaults changed
 * since still reproduces this cell. */
static void
limits(FILE *f, const struct rcell *c)
{
  const struct cab_num *mem = &c->rec.environment.limits.memory_bytes;
  const struct cab_num *cpus = &c->rec.environment.limits.cpus;
  const struct cab_num *pids = &c->rec.environment.limits.pids_max;
  if (mem->has && mem->v > 0) {
    long long b = (long long)mem->v;
    static const char units[] = "TGMK";
    int u = 0;
    for (; u < 4 && (b % (1LL << (10 * (4 - u)))) != 0; u++)
      ;
    if (u < 4)
      fprintf(f, " \\\n  --memory %lld%c", b >> (10 * (4 - u)), units[u]);
    else
      fprintf(f, " \\\n  --memory %lld", b);
  }
  if (cpus->has && cpus->v > 0) {
    char num[40];
    for (int digits = 6; digits <= 17; digits++) /* the shortest that reads back */
      if (snprintf(num, sizeof num, "%.*g", digits, cpus->v) > 0 && strtod(num, NULL) == cpus->v)
        break;
    fprintf(f, " \\\n  --cpus %s", num);
  }
  if (pids->has && pids->v > 0)
    fprintf(f, " \\\n  --pids %lld", (long long)pids->v);
  const struct cab_num *timeout = &c->rec.environment.limits.timeout_s;
  const struct cab_num *turns = &c->rec.environment.limits.max_turns;
  if (timeout->has && timeout->v > 0)
    fprintf(f, " \\\n  --timeout %lld", (long long)timeout->v);
  if (turns->has && turns->v > 0)
    fprintf(f, " \\\n  --max-turns %lld", (long long)turns->v);
}

static void
command(FILE *f, const struct rcell *c, const char *replay)
{
  fputs("cab run-cell \\\n  --tui ", f);
  rh_shell_arg(f, c->tui);
  fputs(" \\\n  --model ", f);
  rh_shell_arg(f, c->model);
  fputs(" \\\n  --task ", f);
  rh_shell_arg(f, c->task_id);
  if (on_host(c)) {
    fputs(" \\\n  --host-rootfs", f);
  } else {
    char ref[2048];
    image_ref(ref, sizeof ref, c);
    if (*ref) {
      fputs(" \\\n  --image ", f);
      rh_shell_arg(f, ref);
    }
  }
  limits(f, c);
  const char *profile = c->rec.environment.scoring_profile;
  if (profile && strcmp(profile, DEFAULT_PROFILE) != 0) {
    fputs(" \\\n  --scoring ", f);
    rh_shell_arg(f, profile);
  }
  if (replay) {
    fputs(" \\\n  --replay ", f);
    rh_shell_arg(f, replay);
  }
}

/* A cassette: a regular file whose first line is a JSON object with a
 * "request", or run-cell's identity line (model/cassette.h: "cassette" and
 * "recorded_for").  Only such a file is copied into the site. */
static int
open_cassette(int dirfd, const char *path)
{
  int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  struct stat st;
  char head[65536];
  ssize_t n;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > CASSETTE_MAX ||
      (n = pread(fd, head, sizeof head - 1, 0)) <= 0) {
    close(fd);
    return -1;
  }
  head[n] = '\0';
  char *nl = strchr(head, '\n');
  cJSON *first = cJSON_ParseWithLength(head, nl ? (size_t)(nl - head) : (size_t)n);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(first, "recorded_for");
  bool ok = cJSON_IsObject(first) &&
            (cJSON_GetObjectItemCaseSensitive(first, "request") != NULL || cJSON_IsObject(id));
  cJSON_Delete(first);
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Copy the cell's cassette (CELL/cassette.jsonl, else the file cell.json
 * says it recorded or replayed) beside the page.  1 when copied, 0 when
 * there is none, -1 on a write error. */
static int
copy_cassette(struct report *r, const struct rcell *c, cab_error *err)
{
  cleanup_close int fd = open_cassette(c->dirfd, "cassette.jsonl");
  const cJSON *model = c->rec.model.json;
  static const char *const keys[] = {"cassette_recorded", "cassette_replayed"};
  for (size_t i = 0; fd < 0 && i < 2; i++) {
    const char *path = report_jstr(model, keys[i]);
    if (path && path[0] == '/')
      fd = open_cassette(AT_FDCWD, path);
  }
  if (fd < 0)
    return 0;
  FILE *out = report_create(r, c->page, "cassette.jsonl", err);
  if (out == NULL)
    return -1;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    fwrite(buf, 1, (size_t)n, out);
  if (n < 0) {
    fclose(out);
    return cab_error_sys(err, "report: read the cassette of %s", c->rel);
  }
  return report_close(out, c->page, "cassette.jsonl", err) < 0 ? -1 : 1;
}

int
report_cell_repro(FILE *f, struct report *r, const struct rcell *c, cab_error *err)
{
  fputs("<section id=\"reproduce\">\n<h2>Run it yourself</h2>\n<p>", f);
  if (on_host(c)) {
    fputs("This cell ran on the host's <code>/</code> (<code>--host-rootfs</code>): the agent, "
          "its toolchain and the task's verifier come from the machine that runs the command.",
          f);
  } else {
    char ref[2048];
    image_ref(ref, sizeof ref, c);
    fputs("Image <code>", f);
    rh_esc(f, ref);
    fputs("</code>: the exact image of this run, pinned by digest (<code>cab pull</code> or "
          "<code>cab import</code> it first).",
          f);
  }
  fputs("</p>\n<pre class=\"cmd\" id=\"cmd-run\"><code>", f);
  command(f, c, NULL);
  fputs("</code></pre>\n<p class=\"note\">The endpoint comes from <code>$CAB_ENDPOINT</code> and "
        "the key from <code>$CAB_KEY</code> (or <code>--endpoint URL --key-env VAR</code>). Results "
        "are comparable, not guaranteed identical: models are nondeterministic.</p>\n"
        "<h3>Offline, from the recorded model calls</h3>\n",
        f);
  struct cab_num calls = c->rec.model.model_calls;
  int copied = copy_cassette(r, c, err);
  if (copied < 0)
    return -1;
  if (copied == 0 && !(calls.has && calls.v > 0)) {
    /* No model calls: an empty cassette replays this cell exactly. */
    FILE *empty = report_create(r, c->page, "cassette.jsonl", err);
    if (empty == NULL || report_close(empty, c->page, "cassette.jsonl", err) < 0)
      return -1;
    copied = 2;
  }
  fputs("<pre class=\"cmd\" id=\"cmd-replay\"><code>", f);
  command(f, c, copied ? "cassette.jsonl" : "CASSETTE.jsonl");
  fputs("</code></pre>\n<p class=\"note\">", f);
  if (copied == 1)
    fputs("<a href=\"cassette.jsonl\">cassette.jsonl</a>: every model call of this run, request "
          "and answer; with <code>--replay</code> no endpoint is needed and the calls are matched in "
          "order.",
          f);
  else if (copied == 2)
    fputs("This cell made no model calls: its <a href=\"cassette.jsonl\">cassette</a> is empty, "
          "and the command runs offline.",
          f);
  else
    fputs("No cassette was kept for this cell: run the command above with <code>--record "
          "CASSETTE.jsonl</code> to make one.",
          f);
  fputs("</p>\n</section>\n", f);
  return 0;
}
