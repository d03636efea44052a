/* Private helpers shared by the scorer modules (not part of the public API:
 * see scorers/scorers.h). */
#ifndef CAB_SCORERS_UTIL_H
#define CAB_SCORERS_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "scorers/scorers.h"

/* A JSON array of the strings (each made valid UTF-8). */
cJSON *cab_strv_json(const struct cab_strv *l);
/* Python's repr() of a list of str: ['a', 'b'] (malloc'd). */
char *cab_strv_pyrepr(const struct cab_strv *l);

/* LEN bytes as valid UTF-8: invalid sequences and NUL become U+FFFD.
 * Always returns a malloc'd NUL-terminated string. */
char *cab_utf8_clean(const char *s, size_t len);
/* The last MAX bytes of S (starting at a character boundary), cleaned. */
char *cab_utf8_tail(const char *s, size_t len, size_t max);
/* A cJSON string node from possibly invalid bytes. */
cJSON *cab_json_string_bytes(const char *s, size_t len);

/* Case-insensitive (ASCII) substring search in the first LEN bytes of HAY. */
const char *cab_memcasemem(const char *hay, size_t len, const char *needle);

/* The basename and the lower-cased extension (without '.') of PATH. */
const char *cab_path_base(const char *path);
void cab_path_ext(const char *path, char *ext, size_t size);

/* xmalloc-style helpers: abort on allocation failure (scorers are pure and
 * small; a failed malloc there is not a recoverable condition). */
void *cab_xmalloc(size_t n);
void *cab_xrealloc(void *p, size_t n);
char *cab_xstrdup(const char *s);
char *cab_xstrndup(const char *s, size_t n);

/* JSON getters that tolerate absence and wrong types. */
double cab_jget_num(const cJSON *obj, const char *key, double dflt);
bool cab_jget_bool(const cJSON *obj, const char *key, bool dflt);
const char *cab_jget_str(const cJSON *obj, const char *key);

#endif
