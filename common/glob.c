#include "common/glob.h"

#include <stdint.h>
#include <string.h>

#include "common/utf8.h"

/* The code point at *S, advancing *S past it. */
static inline uint32_t
next_cp(const char **s)
{
  unsigned char ascii = (unsigned char)**s;
  if (ascii < 0x80) {
    ++*s;
    return ascii;
  }
  size_t used;
  bool valid;
  uint32_t c = cab_utf8_next((const unsigned char *)*s, strnlen(*s, 4), &used, &valid);
  *s += used;
  return c;
}

/* The set after a '[' at P, matched against C.  As Python's
 * fnmatch.translate: after an optional '!', a ']' right away is a member,
 * and the set ends at the next ']'.  Returns -1 when it never ends (the '['
 * is then a literal), else whether C matches; *END gets what follows ']'.
 * ']', '!' and '-' are ASCII, so bytes can be scanned for them. */
static int
match_set(const char *p, uint32_t c, const char **end)
{
  const char *close = p;
  if (*close == '!')
    close++;
  if (*close == ']')
    close++;
  close = strchr(close, ']');
  if (close == NULL)
    return -1;
  bool negate = *p == '!', in = false;
  if (negate)
    p++;
  while (p < close) {
    uint32_t lo = next_cp(&p), hi = lo;
    if (*p == '-' && p + 1 < close) {
      p++;
      hi = next_cp(&p);
    }
    if (c >= lo && c <= hi) /* an empty range (lo > hi) matches nothing */
      in = true;
  }
  *end = close + 1;
  return in != negate;
}

bool
cab_glob_match(const char *pat, const char *s)
{
  /* Greedy, backtracking to the last star. */
  const char *star_p = NULL, *star_s = NULL;
  while (*s) {
    if (*pat == '*') {
      while (*pat == '*')
        pat++;
      if (*pat == '\0')
        return true;
      star_p = pat;
      star_s = s;
      continue;
    }
    const char *after = s;
    uint32_t c = next_cp(&after);
    if (*pat == '?') {
      pat++;
      s = after;
      continue;
    }
    if (*pat == '[') {
      const char *end;
      int m = match_set(pat + 1, c, &end);
      if (m == 1) {
        pat = end;
        s = after;
        continue;
      }
      if (m == -1 && c == '[') {
        pat++;
        s = after;
        continue;
      }
    } else if (*pat) {
      const char *p2 = pat;
      if (((unsigned char)*pat < 0x80 ? (uint32_t)(unsigned char)*p2++ : next_cp(&p2)) == c) {
        pat = p2;
        s = after;
        continue;
      }
    }
    if (star_p == NULL)
      return false;
    /* Let the last star eat one more character. */
    pat = star_p;
    next_cp(&star_s);
    s = star_s;
  }
  while (*pat == '*')
    pat++;
  return *pat == '\0';
}

bool
cab_glob_any(char *const *v, size_t n, const char *path)
{
  for (size_t i = 0; i < n; i++)
    if (cab_glob_match(v[i], path))
      return true;
  return false;
}
