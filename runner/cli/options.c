/* The one error line for a bad option, with a did-you-mean suggestion. */
#include <stdio.h>
#include <string.h>

#include "runner/cli/options.h"

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
cab_cli_bad_option(const char *cmd, int opt, char **argv, const struct option *longopts,
                   cab_error *err)
{
  /* getopt_long leaves optind past the word it stopped at (or past the
   * option whose value is missing). */
  const char *word = argv[optind - 1];
  char name[128];
  if (optopt > 0 && optopt < 256 && (word[0] != '-' || word[1] != '-'))
    snprintf(name, sizeof name, "-%c", optopt); /* a short option */
  else
    snprintf(name, sizeof name, "%s", word);
  char *eq = strchr(name, '=');
  if (eq)
    *eq = '\0';
  if (opt == ':')
    return cab_error_set(err, 0, "%s: option '%s' needs a value; see 'cab %s --help'", cmd, name,
                         cmd);
  const char *bare = name;
  while (*bare == '-')
    bare++;
  const char *names[64];
  size_t n = 0;
  for (const struct option *o = longopts; o->name && n < 64; o++)
    names[n++] = o->name;
  const char *best = cab_cli_nearest(bare, names, n);
  if (best)
    return cab_error_set(err, 0, "%s: unknown option '%s'; did you mean '--%s'? see 'cab %s --help'",
                         cmd, name, best, cmd);
  return cab_error_set(err, 0, "%s: unknown option '%s'; see 'cab %s --help'", cmd, name, cmd);
}
