/* One option grammar for every command: see options.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/cli/commands.h"
#include "runner/cli/options.h"

bool
cab_cli_is_help(const char *arg)
{
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int
cab_cli_help(const char *usage)
{
  fputs(usage, stdout);
  return 0;
}

int
cab_cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "cab: %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "; see 'cab %s --help'\n", cmd);
  va_end(ap);
  return CAB_EXIT_RUNNER;
}

/* Levenshtein distance of A and B (both short: option names). */
static size_t
distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63)
    return (size_t)-1;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *
cab_cli_nearest(const char *word, const char *const *names, size_t n)
{
  const char *best = NULL;
  size_t best_d = (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    size_t d = distance(word, names[i]);
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  return best && *word && best_d <= 1 + strlen(best) / 3 ? best : NULL;
}

int
cab_cli_bad_subcommand(const char *cmd, const char *sub, const char *const *subs, size_t n)
{
  const char *near = sub[0] == '-' ? NULL : cab_cli_nearest(sub, subs, n);
  if (sub[0] == '-')
    fprintf(stderr, "cab: %s: unknown option '%s'; see 'cab %s --help'\n", cmd, sub, cmd);
  else if (near)
    fprintf(stderr, "cab: %s: unknown command '%s'; did you mean '%s'? see 'cab %s --help'\n",
            cmd, sub, near, cmd);
  else
    fprintf(stderr, "cab: %s: unknown command '%s'; see 'cab %s --help'\n", cmd, sub, cmd);
  return CAB_EXIT_RUNNER;
}

/* A bad short option: a letter that takes a value (-j, the letter of
 * --jobs) given without one, else an unknown letter. */
static int
bad_short(const char *cmd, int c, const struct option *longopts, cab_error *err)
{
  for (const struct option *o = longopts; o && o->name; o++)
    if (o->val == c && o->has_arg == required_argument)
      return cab_error_set(err, 0, "%s: option '-%c' needs a value; see 'cab %s --help'", cmd, c,
                           cmd);
  return cab_error_set(err, 0, "%s: unknown option '-%c'; see 'cab %s --help'", cmd, c, cmd);
}

int
cab_cli_bad_option(const char *cmd, int opt, char **argv, const struct option *longopts,
                   cab_error *err)
{
  /* getopt moved past a bad long option (or the option whose value is
   * missing); a bad short one inside a cluster (-xq) may leave optind where
   * it was, and only optopt names it. */
  const char *word = optind > 1 ? argv[optind - 1] : "";
  if (strncmp(word, "--", 2) != 0 || word[2] == '\0') {
    if (optopt > 0 && optopt < 256)
      return bad_short(cmd, optopt, longopts, err);
    return cab_error_set(err, 0, "%s: unknown option '%s'; see 'cab %s --help'", cmd, word, cmd);
  }
  const char *name = word + 2;
  const char *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  /* The option getopt took it for: the exact name, else the one it
   * abbreviates; more than one it abbreviates is ambiguous. */
  const struct option *hit = NULL;
  size_t n_prefix = 0;
  for (const struct option *o = longopts; o->name; o++) {
    if (strncmp(o->name, name, len) != 0)
      continue;
    n_prefix++;
    if (o->name[len] == '\0' || hit == NULL)
      hit = o;
    if (o->name[len] == '\0') {
      n_prefix = 1;
      break;
    }
  }
  if (hit && n_prefix == 1) {
    if (opt == ':' || (hit->has_arg == required_argument && !eq))
      return cab_error_set(err, 0, "%s: option '--%s' needs a value; see 'cab %s --help'", cmd,
                           hit->name, cmd);
    if (hit->has_arg == no_argument && eq)
      return cab_error_set(err, 0, "%s: option '--%s' takes no value; see 'cab %s --help'", cmd,
                           hit->name, cmd);
  }
  if (n_prefix > 1) {
    char list[512] = "";
    for (const struct option *o = longopts; o->name; o++)
      if (strncmp(o->name, name, len) == 0)
      {
        size_t used = strlen(list);
        if (used + 1 < sizeof list)
          snprintf(list + used, sizeof list - used, "%s--%s", used ? ", " : "", o->name);
      }
    return cab_error_set(err, 0, "%s: option '--%.*s' is ambiguous (%s); see 'cab %s --help'",
                         cmd, (int)len, name, list, cmd);
  }
  char bare[64];
  snprintf(bare, sizeof bare, "%.*s", (int)(len < 63 ? len : 63), name);
  const char *names[128];
  size_t n = 0;
  for (const struct option *o = longopts; o->name && n < 128; o++)
    names[n++] = o->name;
  const char *best = cab_cli_nearest(bare, names, n);
  if (best)
    return cab_error_set(err, 0, "%s: unknown option '--%s'; did you mean '--%s'? see 'cab %s "
                                 "--help'", cmd, bare, best, cmd);
  return cab_error_set(err, 0, "%s: unknown option '--%s'; see 'cab %s --help'", cmd, bare, cmd);
}

int
cab_cli_option_error(const char *cmd, const struct option *longopts, char **argv)
{
  cab_error err = {0};
  cab_cli_bad_option(cmd, '?', argv, longopts, &err);
  return cab_cli_fail(&err);
}

int
cab_cli_json_only(const char *cmd, const char *usage, int argc, char **argv, bool *json)
{
  static const struct option longopts[] = {
      {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int opt;
  opterr = 0;
  optind = 1;
  *json = false;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'j': *json = true; break;
    case 'h': return cab_cli_help(usage);
    default: return cab_cli_option_error(cmd, longopts, argv);
    }
  }
  if (optind != argc)
    return cab_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  return -1;
}
