/* A terminal recording in asciicast v2 (asciinema's format): a JSON header
 * line, then one [time, "o", data] line per output chunk, with real timing. */
#ifndef CAB_RUNNER_ASCIICAST_H
#define CAB_RUNNER_ASCIICAST_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct cab_asciicast;

int cab_asciicast_open(const char *path, int width, int height, const char *title,
                       struct cab_asciicast **out, cab_error *err);

/* Record DATA as printed now.  Bytes are kept back when a UTF-8 sequence is
 * cut by the chunk boundary; invalid bytes become U+FFFD.  At most
 * MAX_BYTES of output are recorded in all (then a marker line). */
void cab_asciicast_output(struct cab_asciicast *c, const char *data, size_t len);

/* Flush, close and free.  Returns the bytes of output recorded. */
int64_t cab_asciicast_close(struct cab_asciicast *c);

#endif
