/* cab-agent's own JSON reader and writer.
 *
 * Why not a library: cab-agent is mounted into arbitrary images at
 * /.cab/bin/, so it must be one statically linked executable that depends on
 * nothing in the image.  Debian ships libcjson (and json-c, jansson) only as
 * shared objects: there is no libcjson.a to link with -static, and the
 * project does not vendor third-party sources.  The agent needs little of
 * JSON (one request and one reply per model call), so it carries this small
 * reader/writer, tested by agent/cab-agent/json_test.c.
 *
 * The reader is strict RFC 8259: one value, optional surrounding whitespace
 * (space, tab, LF, CR) and nothing else; no comments, trailing commas, single
 * quotes, NaN/Infinity, leading zeros or "+" signs; control characters must
 * be escaped; raw bytes must be well-formed UTF-8 (no overlongs, no encoded
 * surrogates).  The grammar allows \u escapes of lone surrogates; they are
 * decoded as U+FFFD so that every string held is valid UTF-8.  Nesting is
 * limited to JSON_MAX_DEPTH.  Duplicate object keys are kept; json_get
 * returns the last one, as JavaScript does.
 *
 * The writer always emits valid JSON and valid UTF-8: malformed bytes in a
 * string are written as U+FFFD, and non-finite numbers as null. */
#ifndef CAB_AGENT_JSON_H
#define CAB_AGENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define JSON_MAX_DEPTH 256

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
  enum json_type type;
  bool boolean;
  double number;
  bool is_int;        /* a number written without fraction or exponent that fits int64 */
  int64_t integer;    /* its value when is_int */
  char *str;          /* JSON_STRING: NUL-terminated; may hold NULs (see len) */
  size_t len;         /* JSON_STRING: byte length */
  struct json **items; /* JSON_ARRAY / JSON_OBJECT: the values */
  char **keys;         /* JSON_OBJECT: the keys (NUL-terminated) */
  size_t *key_lens;
  size_t n, cap;
};

/* Parse TEXT[0..LEN).  On error returns NULL and writes a one-line message
 * ("at line 1, column 7: expected ':' after an object key") to ERR. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(struct json *v);

/* --- reading ------------------------------------------------------------------ */

/* The member KEY of an object (the last if repeated), or NULL. */
struct json *json_get(const struct json *obj, const char *key);
/* The string of V, or NULL when V is not a string. */
const char *json_string(const struct json *v);
/* json_string(json_get(obj, key)). */
const char *json_get_string(const struct json *obj, const char *key);
/* An integer member (JSON numbers that are integral), or DEF. */
int64_t json_get_int(const struct json *obj, const char *key, int64_t def);
/* Item I of an array, or NULL. */
struct json *json_at(const struct json *arr, size_t i);
const char *json_type_name(enum json_type t);

/* --- building ------------------------------------------------------------------ */

struct json *json_new_null(void);
struct json *json_new_bool(bool b);
struct json *json_new_int(int64_t i);
struct json *json_new_number(double d);
struct json *json_new_string(const char *s);           /* copies */
struct json *json_new_stringn(const char *s, size_t n); /* copies */
struct json *json_new_array(void);
struct json *json_new_object(void);
/* Deep copy. */
struct json *json_clone(const struct json *v);
/* Append V (taken) to array ARR. */
void json_append(struct json *arr, struct json *v);
/* Add member KEY: V (taken) to OBJ; an existing KEY is replaced. */
void json_set(struct json *obj, const char *key, struct json *v);

/* --- writing ------------------------------------------------------------------- */

/* Compact serialization of V appended to B. */
void json_write(struct sbuf *b, const struct json *v);
/* S[0..N) as a JSON string literal (quotes included), appended to B. */
void json_write_string(struct sbuf *b, const char *s, size_t n);
/* Malloc'd compact serialization. */
char *json_serialize(const struct json *v);

#endif
