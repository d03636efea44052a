/* The cell page's "Explore with your own model" (as the published page):
 * the agent's native config files and command line for a user's own
 * endpoint, outside cab.  The data is what `cab adapters render` prints: the
 * cell's adapter (runner/adapters/<tui>.json) rendered by the same code,
 * with the endpoint, key and model as shell variables ($YOUR_ENDPOINT,
 * $YOUR_KEY, $YOUR_MODEL_ID), the prompt as "$(cat README.md)", the agent's
 * home as $HOME and its workdir as $PWD. */
#include <stdlib.h>
#include <string.h>

#include "runner/adapters/adapter.h"
#include "runner/report/internal.h"

#define PROMPT_WORD "$(cat README.md)"

/* A literal the rendering may contain, and the shell text that stands for
 * it in a double-quoted word.  Longer literals first (ENDPOINT_ROOT). */
struct token {
  const char *literal, *var; /* VAR: a variable name, or NULL to print LITERAL as is */
  bool path;                 /* a path: it must end at a path boundary */
};

static bool
word_char(char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}

/* The token at S, or NULL. */
static const struct token *
token_at(const char *s, const struct token *tokens, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(tokens[i].literal);
    if (len == 0 || strncmp(s, tokens[i].literal, len) != 0)
      continue;
    if (tokens[i].path && s[len] != '\0' && s[len] != '/' && (word_char(s[len]) || s[len] == '.' ||
                                                             s[len] == '-'))
      continue;
    return &tokens[i];
  }
  return NULL;
}

/* S as one shell word: single-quoted when it holds no token, else
 * double-quoted with each token as its expansion; escaped as HTML. */
static void
shell_word(FILE *f, const char *s, const struct token *tokens, size_t n)
{
  bool any = false;
  for (const char *p = s; *p && !any; p++)
    any = token_at(p, tokens, n) != NULL;
  if (!any) {
    rh_shell_arg(f, s);
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (m == NULL)
    return;
  fputc('"', m);
  for (const char *p = s; *p;) {
    const struct token *t = token_at(p, tokens, n);
    if (t == NULL) {
      if (strchr("\\\"$`", *p))
        fputc('\\', m);
      fputc(*p++, m);
      continue;
    }
    p += strlen(t->literal);
    if (t->var == NULL)
      fputs(t->literal, m);
    else if (word_char(*p))
      fprintf(m, "${%s}", t->var);
    else
      fprintf(m, "$%s", t->var);
  }
  fputc('"', m);
  fclose(m);
  rh_esc(f, text);
  free(text);
}

/* S inside a "# ..." line of the command block: a line break in a cell's
 * task id or model (cell.json is not trusted) would end the comment and put
 * the rest on a line of its own, run by whoever pastes the block; control
 * characters become spaces. */
static void
comment_text(FILE *f, const char *s)
{
  for (const char *p = s; *p; p++) {
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      fputc(' ', f);
    else
      rh_escn(f, p, 1);
  }
}

/* PATH under HOME as "~/...". */
static void
home_path(FILE *f, const char *path, const char *home)
{
  size_t hl = strlen(home);
  if (strncmp(path, home, hl) == 0 && path[hl] == '/') {
    fputs("~", f);
    rh_esc(f, path + hl);
  } else {
    rh_esc(f, path);
  }
}

/* File content with the home and workdir paths as $HOME and $PWD. */
static void
file_text(FILE *f, const char *s, const struct token *tokens, size_t n)
{
  for (const char *p = s; *p;) {
    const struct token *t = token_at(p, tokens, n);
    if (t == NULL || !t->path) {
      rh_escn(f, p++, 1);
      continue;
    }
    p += strlen(t->literal);
    fprintf(f, "$%s", t->var);
  }
}

static void
section_head(FILE *f)
{
  fputs("<section id=\"explore\">\n<h2>Explore with your own model</h2>\n"
        "<p>Substitute your endpoint, key, and model ID. Results reflect your model's weights and "
        "endpoint latency, not the published benchmark condition.",
        f);
}

static void
commands(FILE *f, const struct rcell *c, const struct cab_adapter *a,
         const struct cab_adapter_rendered *rd, const struct token *tokens, size_t nt)
{
  fputs("<h3>", f);
  rh_esc(f, c->tui);
  fputs(" — BYO endpoint wiring</h3>\n<pre class=\"cmd\" id=\"explore-cmd\"><code>"
        "# in a copy of the task's workdir (tasks/",
        f);
  comment_text(f, c->task_id);
  fputs("/workdir), with the agent on your PATH\n", f);
  for (size_t i = 0; i < rd->n_files; i++) {
    fputs("# write ", f);
    home_path(f, rd->files[i].path, a->home);
    fputs(" (below)\n", f);
  }
  for (size_t i = 0; i < rd->n_env; i++) {
    const char *eq = strchr(rd->env[i], '=');
    if (eq == NULL || (eq - rd->env[i] == 4 && strncmp(rd->env[i], "PATH", 4) == 0) ||
        (eq - rd->env[i] == 4 && strncmp(rd->env[i], "HOME", 4) == 0))
      continue; /* the sandbox's own PATH and HOME: the user's are right */
    fputs("export ", f);
    rh_escn(f, rd->env[i], (size_t)(eq - rd->env[i]));
    fputc('=', f);
    shell_word(f, eq + 1, tokens, nt);
    fputc('\n', f);
  }
  fputc('\n', f);
  for (size_t i = 0; i < rd->n_argv; i++) {
    if (i > 0) /* one option (and its value) a line, as the published page */
      fputs(rd->argv[i][0] == '-' ? " \\\n  " : " ", f);
    shell_word(f, rd->argv[i], tokens, nt);
  }
  fputs("\n\n# Published cell used model: ", f);
  comment_text(f, c->model);
  fputs("</code></pre>\n", f);
  for (size_t i = 0; i < rd->n_files; i++) {
    fprintf(f, "<h3><code>");
    home_path(f, rd->files[i].path, a->home);
    fprintf(f, "</code></h3>\n<pre class=\"snippet\" id=\"explore-file-%zu\"><code>", i);
    file_text(f, rd->files[i].content, tokens, nt);
    fputs("</code></pre>\n", f);
  }
}

void
report_cell_explore(FILE *f, const struct rcell *c)
{
  section_head(f);
  struct cab_adapter *a = NULL;
  cab_error err = {0};
  if (*c->tui == '\0' || cab_adapter_load(c->tui, &a, &err) < 0) {
    fputs("</p>\n<p class=\"empty\">This cab has no adapter for <code>", f);
    rh_esc(f, c->tui);
    fputs("</code> (<code>cab adapters list</code>): no command to show.</p>\n</section>\n", f);
    return;
  }
  if (strcmp(a->wire, "none") == 0) {
    fputs("</p>\n<p class=\"empty\"><code>", f);
    rh_esc(f, c->tui);
    fputs("</code> makes no model calls (its adapter's wire is <code>none</code>): there is no "
          "endpoint to substitute.</p>\n</section>\n",
          f);
    cab_adapter_free(a);
    return;
  }
  fputs(" Endpoint must speak the API this agent is wired for: <code>", f);
  rh_esc(f, a->wire);
  fputs("</code> (<code>cab adapters show ", f);
  rh_esc(f, c->tui);
  fputs("</code>).</p>\n", f);
  struct rnum turns = report_jnum(c->rec.task, "max_turns");
  struct cab_template_vars v = {
      .endpoint = "$YOUR_ENDPOINT",
      .endpoint_root = "$YOUR_ENDPOINT_ROOT",
      .model = "$YOUR_MODEL_ID",
      .key = "$YOUR_KEY",
      .prompt = PROMPT_WORD,
      .prompt_file = NULL,
      .workdir = a->workdir,
      .home = a->home,
      .task_id = c->task_id,
      .max_turns = turns.has && turns.v > 0 && turns.v < 1e6 ? (int)turns.v : 0,
  };
  char prompt_file[4200];
  snprintf(prompt_file, sizeof prompt_file, "%s/README.md", a->workdir);
  v.prompt_file = prompt_file;
  const struct token tokens[] = {
      {"$YOUR_ENDPOINT_ROOT", "YOUR_ENDPOINT_ROOT", false},
      {"$YOUR_ENDPOINT", "YOUR_ENDPOINT", false},
      {"$YOUR_KEY", "YOUR_KEY", false},
      {"$YOUR_MODEL_ID", "YOUR_MODEL_ID", false},
      {PROMPT_WORD, NULL, false},
      {a->home, "HOME", true},
      {a->workdir, "PWD", true},
  };
  struct cab_adapter_rendered rd;
  if (cab_adapter_render(a, &v, &rd, &err) < 0) {
    fputs("<p class=\"empty\">The adapter could not be rendered: ", f);
    char line[2300];
    rh_esc(f, cab_error_line(&err, line, sizeof line));
    fputs("</p>\n</section>\n", f);
    cab_adapter_free(a);
    return;
  }
  commands(f, c, a, &rd, tokens, sizeof tokens / sizeof *tokens);
  fputs("<p class=\"note\"><code>$YOUR_ENDPOINT</code> is your endpoint's base URL (ending in "
        "<code>/v1</code>; <code>$YOUR_ENDPOINT_ROOT</code> the same without it), "
        "<code>$YOUR_KEY</code> your key, <code>$YOUR_MODEL_ID</code> your model. The shell "
        "expands them in the command; in the files above, replace them by hand. This is cab's "
        "adapter for this TUI as this report's cab renders it (<code>cab adapters render ",
        f);
  rh_esc(f, c->tui);
  fputs("</code>), with the task's turn budget; the agent's version may differ from the "
        "cell's image.</p>\n</section>\n",
        f);
  cab_adapter_rendered_free(&rd);
  cab_adapter_free(a);
}
