/* latency: wall clock (ended - started), the agent container's active time,
 * and the summed latency of the model calls the proxy saw. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scorers/scorers.h"

cJSON *
cab_score_latency(const struct cab_cell_inputs *in)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "wall_clock_ms", in->wall_clock_ms);
  cJSON_AddNumberToObject(j, "container_active_ms", in->container_active_ms);
  cJSON_AddNumberToObject(j, "model_call_ms", in->tokens.model_call_ms);
  return j;
}

/* "YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+00:00]" -> microseconds since the epoch. */
static int
parse_iso(const char *s, long long *us)
{
  struct tm tm = {0};
  int n = 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec, &n) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  long long frac = 0;
  const char *p = s + n;
  if (*p == '.') {
    p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits < 6) {
        frac = frac * 10 + (*p - '0');
        digits++;
      }
      p++;
    }
    while (digits++ < 6)
      frac *= 10;
  }
  if (*p != '\0' && *p != 'Z' && strcmp(p, "+00:00") != 0)
    return -1;
  *us = (long long)timegm(&tm) * 1000000LL + frac;
  return 0;
}

int
cab_iso_diff_ms(const char *started, const char *ended, double *ms)
{
  long long a, b;
  if (started == NULL || ended == NULL || parse_iso(started, &a) < 0 || parse_iso(ended, &b) < 0)
    return -1;
  /* timedelta.total_seconds() = microseconds / 10**6 (one rounding), then * 1000. */
  *ms = ((double)(b - a) / 1e6) * 1000.0;
  return 0;
}
