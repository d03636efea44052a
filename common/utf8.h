/* UTF-8 decoding as Python reads file names (surrogateescape). */
#ifndef CAB_COMMON_UTF8_H
#define CAB_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode one code point at S (LEN > 0 bytes left); *USED gets the bytes it
 * took.  An invalid byte decodes as 0xDC00 + byte (Python's
 * surrogateescape), takes one byte, and clears *VALID. */
uint32_t cab_utf8_next(const unsigned char *s, size_t len, size_t *used, bool *valid);

#endif
