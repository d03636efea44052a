/* cab-agent: cab's reference coding agent.
 *
 *   cab-agent --endpoint http://HOST:PORT/v1 --model M --prompt-file F --workdir D
 *             [--max-turns N] [--key K]
 *
 * It speaks OpenAI Chat Completions (non-streaming) with five tools --
 * read_file, write_file, list_dir, run, finish -- over plain HTTP to the
 * cell's gateway, and prints a readable transcript to stdout (it becomes the
 * cell's terminal recording and agent.log).  The last line is always
 *
 *   cab-agent: turns=N prompt_tokens=P completion_tokens=C total_tokens=T
 *
 * the sums of the replies' "usage" (the tui-stdout token source).
 *
 * Exit status: 0 the model called finish or stopped calling tools; 3 the
 * --max-turns budget of model calls ran out; 2 an HTTP or transport error
 * (one line on stderr says which); 1 bad usage.
 *
 * Environment: OPENAI_API_KEY (when --key is not given), CAB_AGENT_MODEL
 * (when --model is not given), CAB_AGENT_TIMEOUT (seconds per model call,
 * connect included; default 300), CAB_AGENT_RETRIES (retries of a call
 * answered 429 or 503, default 2), CAB_AGENT_RUN_TIMEOUT (seconds for the run
 * tool, default 60), CAB_AGENT_HOSTS_FILE (instead of /etc/hosts).
 *
 * It is linked statically (agent/cab-agent/build.mk) and uses only the C
 * library: it is mounted read-only into any image at /.cab/bin/. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "json.h"
#include "tools.h"
#include "util.h"

#define EXIT_DONE 0
#define EXIT_USAGE 1
#define EXIT_TRANSPORT 2
#define EXIT_TURNS 3
#define DEFAULT_MAX_TURNS 50
#define DEFAULT_TIMEOUT_S 300
#define DEFAULT_RETRIES 2
#define PROMPT_MAX (4 * 1024 * 1024)

static struct {
  long long turns, prompt, completion, total;
} g_usage;

static void usage_line(void) {
  printf("cab-agent: turns=%lld prompt_tokens=%lld completion_tokens=%lld total_tokens=%lld\n",
         g_usage.turns, g_usage.prompt, g_usage.completion, g_usage.total);
  fflush(stdout);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: cab-agent --endpoint http://HOST:PORT/v1 --model MODEL --prompt-file FILE\n"
          "                 --workdir DIR [--max-turns N] [--key KEY]\n"
          "  --max-turns N   model calls allowed (default %d)\n"
          "  --key KEY       bearer key (default: $OPENAI_API_KEY)\n"
          "env: CAB_AGENT_TIMEOUT (s per model call, default %d), CAB_AGENT_RETRIES (default %d),\n"
          "     CAB_AGENT_RUN_TIMEOUT (s per run tool call, default 60), CAB_AGENT_HOSTS_FILE\n"
          "exit: 0 finished, 3 max turns reached, 2 HTTP/transport error, 1 bad usage\n",
          DEFAULT_MAX_TURNS, DEFAULT_TIMEOUT_S, DEFAULT_RETRIES);
}

static _Noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cab-agent: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(" (cab-agent --help)\n", stderr);
  va_end(ap);
  exit(EXIT_USAGE);
}

/* Transport failure: one line on stderr, the usage line, exit 2. */
static _Noreturn void die_transport(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die_transport(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout);
  fputs("cab-agent: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  fflush(stderr);
  va_end(ap);
  usage_line();
  exit(EXIT_TRANSPORT);
}

static long env_long(const char *name, long def, long min, long max) {
  const char *v = getenv(name);
  if (!v || !*v) return def;
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || *end || n < min || n > max)
    die_usage("%s=%s: expected an integer from %ld to %ld", name, v, min, max);
  return n;
}

static char *read_prompt(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_usage("--prompt-file %s: %s", path, strerror(errno));
  struct sbuf b = {0};
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_usage("--prompt-file %s: %s", path, strerror(errno));
    if (n == 0) break;
    sb_add(&b, buf, (size_t)n);
    if (b.len > PROMPT_MAX) die_usage("--prompt-file %s: larger than %d bytes", path, PROMPT_MAX);
  }
  close(fd);
  *len = b.len;
  return sb_take(&b);
}

static struct json *message(const char *role, const char *content, size_t len) {
  struct json *m = json_new_object();
  json_set(m, "role", json_new_string(role));
  json_set(m, "content", json_new_stringn(content, len));
  return m;
}

/* The text of a reply message's "content": a string, or an array of parts
 * with "text".  NULL when there is none. */
static char *content_text(const struct json *msg) {
  const struct json *c = json_get(msg, "content");
  if (!c) return NULL;
  if (c->type == JSON_STRING) return c->len ? xstrndup(c->str, c->len) : NULL;
  if (c->type != JSON_ARRAY) return NULL;
  struct sbuf b = {0};
  for (size_t i = 0; i < c->n; i++) {
    const struct json *t = json_get(c->items[i], "text");
    if (t && t->type == JSON_STRING) sb_add(&b, t->str, t->len);
  }
  return b.len ? sb_take(&b) : (sb_free(&b), NULL);
}

static void sleep_s(int s) {
  struct timespec ts = {s, 0};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* One model call, retried on 429/503.  Returns the parsed reply. */
static struct json *call_model(const struct http_url *url, const char *key, const char *body,
                               size_t body_len, int timeout_s, int retries) {
  char err[512];
  for (int attempt = 0;; attempt++) {
    struct http_response r;
    if (http_post_json(url, "/chat/completions", key, body, body_len, timeout_s, &r, err,
                       sizeof err) < 0)
      die_transport("%s", err);
    if (r.status == 200) {
      struct json *j = json_parse(r.body, r.len, err, sizeof err);
      if (!j) die_transport("the model's reply is not valid JSON (%s)", err);
      http_response_free(&r);
      return j;
    }
    /* An error: quote the API's message when there is one. */
    char msg[300] = "";
    struct json *j = json_parse(r.body, r.len, NULL, 0);
    const struct json *e = json_get(j, "error");
    const char *m = json_get_string(e, "message");
    if (!m) m = json_string(e);
    if (!m) m = json_get_string(j, "message");
    if (m) {
      struct sbuf s = {0};
      size_t n = utf8_prefix(m, strlen(m), 200);
      sb_add(&s, m, n);
      for (char *c = s.p; c && *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' ';
      snprintf(msg, sizeof msg, ": %s", s.p ? s.p : "");
      sb_free(&s);
    }
    json_free(j);
    int status = r.status, ra = r.retry_after;
    http_response_free(&r);
    if ((status == 429 || status == 503) && attempt < retries) {
      int wait = ra >= 0 ? ra : 1 << attempt;
      if (wait > 60) wait = 60;
      printf("cab-agent: the model endpoint answered HTTP %d%s; retrying in %d s\n", status, msg,
             wait);
      fflush(stdout);
      sleep_s(wait);
      continue;
    }
    die_transport("the model endpoint http://%s%s/chat/completions answered HTTP %d%s",
                  url->hostport, url->path, status, msg);
  }
}

static void add_usage(const struct json *reply) {
  const struct json *u = json_get(reply, "usage");
  if (!u || u->type != JSON_OBJECT) return;
  long long p = json_get_int(u, "prompt_tokens", 0), c = json_get_int(u, "completion_tokens", 0);
  long long t = json_get_int(u, "total_tokens", p + c);
  g_usage.prompt += p;
  g_usage.completion += c;
  g_usage.total += t;
}

/* Print TEXT as the assistant's words, each line indented. */
static void print_text(const char *label, const char *text) {
  printf("%s: ", label);
  for (const char *p = text; *p; p++) {
    putchar(*p);
    if (*p == '\n' && p[1]) fputs("  ", stdout);
  }
  if (text[0] && text[strlen(text) - 1] != '\n') putchar('\n');
}

int main(int argc, char **argv) {
  const char *endpoint = NULL, *model = getenv("CAB_AGENT_MODEL"), *prompt_file = NULL,
             *workdir = NULL, *key = getenv("OPENAI_API_KEY");
  long max_turns = DEFAULT_MAX_TURNS;
  static const struct option opts[] = {
      {"endpoint", required_argument, NULL, 'e'}, {"model", required_argument, NULL, 'm'},
      {"prompt-file", required_argument, NULL, 'p'}, {"workdir", required_argument, NULL, 'w'},
      {"max-turns", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
      {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'e': endpoint = optarg; break;
    case 'm': model = optarg; break;
    case 'p': prompt_file = optarg; break;
    case 'w': workdir = optarg; break;
    case 'k': key = optarg; break;
    case 't': {
      char *end;
      errno = 0;
      max_turns = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || max_turns < 1 || max_turns > 1000000)
        die_usage("--max-turns %s: expected a positive integer", optarg);
      break;
    }
    case 'h': usage(stdout); return 0;
    case ':': die_usage("%s needs a value", argv[optind - 1]);
    default: die_usage("unknown option %s", argv[optind - 1]);
    }
  }
  if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
  if (!endpoint) die_usage("--endpoint is required");
  if (!model || !*model) die_usage("--model is required");
  if (!prompt_file) die_usage("--prompt-file is required");
  if (!workdir) die_usage("--workdir is required");
  int timeout_s = (int)env_long("CAB_AGENT_TIMEOUT", DEFAULT_TIMEOUT_S, 1, 86400);
  int retries = (int)env_long("CAB_AGENT_RETRIES", DEFAULT_RETRIES, 0, 10);

  char err[512];
  struct http_url url;
  if (http_parse_url(endpoint, &url, err, sizeof err) < 0) die_usage("%s", err);
  struct stat st;
  if (stat(workdir, &st) < 0) die_usage("--workdir %s: %s", workdir, strerror(errno));
  if (!S_ISDIR(st.st_mode)) die_usage("--workdir %s: not a directory", workdir);
  if (tools_init(workdir, err, sizeof err) < 0) die_usage("%s", err);
  size_t prompt_len;
  char *prompt = read_prompt(prompt_file, &prompt_len);

  printf("cab-agent: model %s at http://%s%s, workdir %s, at most %ld turns\n", model,
         url.hostport, url.path, workdir, max_turns);

  struct sbuf sys = {0};
  sb_printf(&sys,
            "You are a coding agent working in the directory %s. Use the tools to inspect and "
            "change files there and to run commands (paths are relative to that directory). "
            "Make the smallest change that solves the task. When you are done, call finish "
            "with a short summary.",
            workdir);
  struct json *req = json_new_object();
  json_set(req, "model", json_new_string(model));
  struct json *messages = json_new_array();
  json_append(messages, message("system", sys.p, sys.len));
  json_append(messages, message("user", prompt, prompt_len));
  json_set(req, "messages", messages);
  json_set(req, "tools", tools_schema());
  json_set(req, "tool_choice", json_new_string("auto"));
  json_set(req, "stream", json_new_bool(false));
  sb_free(&sys);
  free(prompt);

  for (;;) {
    if (g_usage.turns >= max_turns) {
      printf("cab-agent: stopped: the budget of %ld model calls (--max-turns) is used up\n",
             max_turns);
      usage_line();
      json_free(req);
      return EXIT_TURNS;
    }
    char *body = json_serialize(req);
    struct json *reply = call_model(&url, key, body, strlen(body), timeout_s, retries);
    free(body);
    g_usage.turns++;
    add_usage(reply);
    const struct json *choice = json_at(json_get(reply, "choices"), 0);
    const struct json *msg = json_get(choice, "message");
    if (!msg || msg->type != JSON_OBJECT)
      die_transport("the model's reply has no choices[0].message");
    const char *finish_reason = json_get_string(choice, "finish_reason");

    printf("\n[turn %lld]\n", g_usage.turns);
    char *text = content_text(msg);
    if (text) print_text("assistant", text);
    const char *refusal = json_get_string(msg, "refusal");
    if (refusal && *refusal) print_text("refusal", refusal);

    const struct json *calls = json_get(msg, "tool_calls");
    size_t ncalls = calls && calls->type == JSON_ARRAY ? calls->n : 0;

    /* Echo the assistant's message into the conversation. */
    struct json *am = json_new_object();
    json_set(am, "role", json_new_string("assistant"));
    json_set(am, "content", text ? json_new_string(text) : json_new_null());
    struct json *am_calls = ncalls ? json_new_array() : NULL;
    char **ids = xcalloc(ncalls ? ncalls : 1, sizeof *ids);
    char **names = xcalloc(ncalls ? ncalls : 1, sizeof *names);
    char **args = xcalloc(ncalls ? ncalls : 1, sizeof *args);
    size_t *arg_lens = xcalloc(ncalls ? ncalls : 1, sizeof *arg_lens);
    for (size_t i = 0; i < ncalls; i++) {
      const struct json *tc = calls->items[i];
      const struct json *fn = json_get(tc, "function");
      const char *id = json_get_string(tc, "id");
      const char *name = json_get_string(fn, "name");
      const struct json *a = json_get(fn, "arguments");
      struct sbuf idb = {0};
      if (id && *id) sb_adds(&idb, id);
      else sb_printf(&idb, "call_%lld_%zu", g_usage.turns, i);
      ids[i] = sb_take(&idb);
      names[i] = xstrdup(name ? name : "");
      if (!a) args[i] = xstrdup("");
      else if (a->type == JSON_STRING) args[i] = xstrndup(a->str, a->len);
      else args[i] = json_serialize(a); /* an object instead of its text: take it */
      arg_lens[i] = a && a->type == JSON_STRING ? a->len : strlen(args[i]);
      struct json *t = json_new_object();
      json_set(t, "id", json_new_string(ids[i]));
      json_set(t, "type", json_new_string("function"));
      struct json *f = json_new_object();
      json_set(f, "name", json_new_string(names[i]));
      json_set(f, "arguments", json_new_stringn(args[i], arg_lens[i]));
      json_set(t, "function", f);
      json_append(am_calls, t);
    }
    if (am_calls) json_set(am, "tool_calls", am_calls);
    json_append(messages, am);
    free(text);

    bool finished = false;
    if (ncalls == 0) {
      printf("cab-agent: the model stopped without a tool call (finish_reason %s)\n",
             finish_reason ? finish_reason : "none");
      finished = true;
    }
    for (size_t i = 0; i < ncalls && !finished; i++) {
      struct tool_result r;
      /* names[i] may hold a NUL from a \u0000: the tool lookup then fails. */
      tool_call(names[i][0] ? names[i] : NULL, args[i], arg_lens[i], &r);
      printf("  > %s\n", r.call);
      printf("    %s: %s\n", r.error ? "error" : (r.finish ? "finish" : "ok"), r.summary);
      struct json *tm = message("tool", r.content, strlen(r.content));
      json_set(tm, "tool_call_id", json_new_string(ids[i]));
      json_append(messages, tm);
      if (r.finish) {
        finished = true;
        if (i + 1 < ncalls)
          printf("cab-agent: %zu tool call(s) after finish were not run\n", ncalls - i - 1);
      }
      tool_result_free(&r);
    }
    for (size_t i = 0; i < ncalls; i++) {
      free(ids[i]);
      free(names[i]);
      free(args[i]);
    }
    free(ids);
    free(names);
    free(args);
    free(arg_lens);
    json_free(reply);
    if (finished) {
      printf("cab-agent: done\n");
      usage_line();
      json_free(req);
      return EXIT_DONE;
    }
  }
}
