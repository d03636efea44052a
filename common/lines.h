/* Walking the lines of a text in memory (JSONL files, diffs, casts). */
#ifndef CAB_COMMON_LINES_H
#define CAB_COMMON_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The line of TEXT[0..LEN) that starts at *POS: *LINE and its length *N
 * without the '\n' (the last line may lack one); *POS moves past it.
 * False when *POS is at the end. */
static inline bool
cab_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
  if (text == NULL || *pos >= len)
    return false;
  *line = text + *pos;
  const char *nl = memchr(*line, '\n', len - *pos);
  *n = nl ? (size_t)(nl - *line) : len - *pos;
  *pos += *n + 1;
  return true;
}

#endif
