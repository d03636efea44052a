#include "common/wallclock.h"

#include <stdio.h>
#include <time.h>

int64_t
cab_wall_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
cab_iso8601_us(int64_t ns, char *buf, unsigned long size)
{
  time_t secs = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char date[20]; /* "YYYY-MM-DDTHH:MM:SS": with the fraction, 28 bytes fit every caller's 40 */
  if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    date[0] = '\0';
  snprintf(buf, size, "%s.%06ldZ", date, (long)((ns % 1000000000) / 1000));
}
