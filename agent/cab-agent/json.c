/* cab-agent's JSON reader and writer; json.h says why it exists and what
 * it accepts. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- values ----------------------------------------------------------------- */

static struct json *new_value(enum json_type t) {
  struct json *v = xcalloc(1, sizeof *v);
  v->type = t;
  return v;
}

struct json *json_new_null(void) { return new_value(JSON_NULL); }

struct json *json_new_bool(bool b) {
  struct json *v = new_value(JSON_BOOL);
  v->boolean = b;
  return v;
}

struct json *json_new_int(int64_t i) {
  struct json *v = new_value(JSON_NUMBER);
  v->is_int = true;
  v->integer = i;
  v->number = (double)i;
  return v;
}

struct json *json_new_number(double d) {
  struct json *v = new_value(JSON_NUMBER);
  v->number = d;
  return v;
}

struct json *json_new_stringn(const char *s, size_t n) {
  struct json *v = new_value(JSON_STRING);
  v->str = xstrndup(s, n);
  v->len = n;
  return v;
}

struct json *json_new_string(const char *s) { return json_new_stringn(s, strlen(s)); }

struct json *json_new_array(void) { return new_value(JSON_ARRAY); }

struct json *json_new_object(void) { return new_value(JSON_OBJECT); }

void json_free(struct json *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->key_lens);
  free(v->str);
  free(v);
}

static void reserve(struct json *c) {
  if (c->n < c->cap) return;
  size_t cap = c->cap ? c->cap * 2 : 4;
  c->items = xrealloc(c->items, cap * sizeof *c->items);
  if (c->type == JSON_OBJECT) {
    c->keys = xrealloc(c->keys, cap * sizeof *c->keys);
    c->key_lens = xrealloc(c->key_lens, cap * sizeof *c->key_lens);
  }
  c->cap = cap;
}

void json_append(struct json *arr, struct json *v) {
  if (!arr || arr->type != JSON_ARRAY) {
    json_free(v);
    return;
  }
  reserve(arr);
  arr->items[arr->n++] = v;
}

static void add_member(struct json *obj, char *key, size_t klen, struct json *v) {
  reserve(obj);
  obj->keys[obj->n] = key;
  obj->key_lens[obj->n] = klen;
  obj->items[obj->n++] = v;
}

void json_set(struct json *obj, const char *key, struct json *v) {
  if (!obj || obj->type != JSON_OBJECT) {
    json_free(v);
    return;
  }
  size_t klen = strlen(key);
  for (size_t i = obj->n; i-- > 0;) {
    if (obj->key_lens[i] == klen && memcmp(obj->keys[i], key, klen) == 0) {
      json_free(obj->items[i]);
      obj->items[i] = v;
      return;
    }
  }
  add_member(obj, xstrndup(key, klen), klen, v);
}

struct json *json_clone(const struct json *v) {
  if (!v) return NULL;
  struct json *c = new_value(v->type);
  c->boolean = v->boolean;
  c->number = v->number;
  c->is_int = v->is_int;
  c->integer = v->integer;
  if (v->type == JSON_STRING) {
    c->str = xstrndup(v->str, v->len);
    c->len = v->len;
  }
  for (size_t i = 0; i < v->n; i++) {
    if (v->type == JSON_OBJECT)
      add_member(c, xstrndup(v->keys[i], v->key_lens[i]), v->key_lens[i], json_clone(v->items[i]));
    else
      json_append(c, json_clone(v->items[i]));
  }
  return c;
}

struct json *json_get(const struct json *obj, const char *key) {
  if (!obj || obj->type != JSON_OBJECT) return NULL;
  size_t klen = strlen(key);
  for (size_t i = obj->n; i-- > 0;)
    if (obj->key_lens[i] == klen && memcmp(obj->keys[i], key, klen) == 0) return obj->items[i];
  return NULL;
}

const char *json_string(const struct json *v) {
  return v && v->type == JSON_STRING ? v->str : NULL;
}

const char *json_get_string(const struct json *obj, const char *key) {
  return json_string(json_get(obj, key));
}

int64_t json_get_int(const struct json *obj, const char *key, int64_t def) {
  const struct json *v = json_get(obj, key);
  if (!v || v->type != JSON_NUMBER) return def;
  if (v->is_int) return v->integer;
  /* 12.0 or 1e3 are integral too. */
  if (isfinite(v->number) && v->number == floor(v->number) && fabs(v->number) < 9.0e18)
    return (int64_t)v->number;
  return def;
}

struct json *json_at(const struct json *arr, size_t i) {
  if (!arr || arr->type != JSON_ARRAY || i >= arr->n) return NULL;
  return arr->items[i];
}

const char *json_type_name(enum json_type t) {
  switch (t) {
  case JSON_NULL: return "null";
  case JSON_BOOL: return "boolean";
  case JSON_NUMBER: return "number";
  case JSON_STRING: return "string";
  case JSON_ARRAY: return "array";
  case JSON_OBJECT: return "object";
  }
  return "?";
}

/* --- reader ---------------------------------------------------------------- */

struct parser {
  const char *s;
  size_t len, pos;
  int depth;
  char *err;
  size_t errlen;
  bool failed;
};

static void perr(struct parser *p, const char *what) {
  if (p->failed) return;
  p->failed = true;
  size_t line = 1, col = 1;
  for (size_t i = 0; i < p->pos && i < p->len; i++) {
    if (p->s[i] == '\n') line++, col = 1;
    else col++;
  }
  if (p->err && p->errlen)
    snprintf(p->err, p->errlen, "at line %zu, column %zu: %s", line, col, what);
}

static void skip_ws(struct parser *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int hex4(struct parser *p, unsigned *out) {
  if (p->len - p->pos < 4) {
    perr(p, "truncated \\u escape");
    return -1;
  }
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p->s[p->pos + i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else {
      p->pos += (size_t)i;
      perr(p, "bad hex digit in \\u escape");
      return -1;
    }
  }
  p->pos += 4;
  *out = v;
  return 0;
}

static void put_utf8(struct sbuf *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) u[0] = (char)cp, n = 1;
  else if (cp < 0x800) u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  sb_add(b, u, n);
}

/* At the opening quote.  Fills B with the decoded bytes. */
static int parse_string_raw(struct parser *p, struct sbuf *b) {
  p->pos++; /* the quote */
  sb_grow(b, 0);
  b->p[b->len] = '\0';
  for (;;) {
    if (p->pos >= p->len) {
      perr(p, "unterminated string");
      return -1;
    }
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '"') {
      p->pos++;
      return 0;
    }
    if (c < 0x20) {
      perr(p, "unescaped control character in string");
      return -1;
    }
    if (c == '\\') {
      p->pos++;
      if (p->pos >= p->len) {
        perr(p, "unterminated string");
        return -1;
      }
      char e = p->s[p->pos++];
      switch (e) {
      case '"': sb_addc(b, '"'); break;
      case '\\': sb_addc(b, '\\'); break;
      case '/': sb_addc(b, '/'); break;
      case 'b': sb_addc(b, '\b'); break;
      case 'f': sb_addc(b, '\f'); break;
      case 'n': sb_addc(b, '\n'); break;
      case 'r': sb_addc(b, '\r'); break;
      case 't': sb_addc(b, '\t'); break;
      case 'u': {
        unsigned cp;
        if (hex4(p, &cp) < 0) return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          /* A high surrogate: a low one must follow to make a pair. */
          unsigned lo;
          if (p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
            size_t save = p->pos;
            p->pos += 2;
            if (hex4(p, &lo) < 0) return -1;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              p->pos = save; /* not a pair: the next escape stands alone */
              cp = 0xFFFD;
            }
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD; /* a lone low surrogate */
        }
        put_utf8(b, cp);
        break;
      }
      default:
        p->pos--;
        perr(p, "invalid escape in string");
        return -1;
      }
      continue;
    }
    if (c < 0x80) {
      sb_addc(b, (char)c);
      p->pos++;
      continue;
    }
    size_t l = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
    if (l == 0) {
      perr(p, "invalid UTF-8 in string");
      return -1;
    }
    sb_add(b, p->s + p->pos, l);
    p->pos += l;
  }
}

static struct json *parse_value(struct parser *p);

static struct json *parse_number(struct parser *p) {
  size_t start = p->pos;
  const char *s = p->s;
  bool integral = true;
  if (p->pos < p->len && s[p->pos] == '-') p->pos++;
  if (p->pos >= p->len) {
    perr(p, "truncated number");
    return NULL;
  }
  if (s[p->pos] == '0') {
    p->pos++;
    if (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
      perr(p, "leading zero in number");
      return NULL;
    }
  } else if (s[p->pos] >= '1' && s[p->pos] <= '9') {
    while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
  } else {
    perr(p, "invalid number");
    return NULL;
  }
  if (p->pos < p->len && s[p->pos] == '.') {
    integral = false;
    p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
      perr(p, "expected a digit after '.'");
      return NULL;
    }
    while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
  }
  if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
    integral = false;
    p->pos++;
    if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
      perr(p, "expected a digit in the exponent");
      return NULL;
    }
    while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
  }
  char buf[64];
  size_t n = p->pos - start;
  char *txt = n < sizeof buf ? buf : xmalloc(n + 1);
  memcpy(txt, s + start, n);
  txt[n] = '\0';
  struct json *v = new_value(JSON_NUMBER);
  v->number = strtod(txt, NULL);
  if (integral) {
    errno = 0;
    long long ll = strtoll(txt, NULL, 10);
    if (errno == 0) {
      v->is_int = true;
      v->integer = ll;
    }
  }
  if (txt != buf) free(txt);
  return v;
}

static bool literal(struct parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0) {
    p->pos += n;
    return true;
  }
  return false;
}

static struct json *parse_array(struct parser *p) {
  struct json *a = new_value(JSON_ARRAY);
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == ']') {
    p->pos++;
    return a;
  }
  for (;;) {
    struct json *v = parse_value(p);
    if (!v) goto fail;
    json_append(a, v);
    skip_ws(p);
    if (p->pos >= p->len) {
      perr(p, "unterminated array");
      goto fail;
    }
    char c = p->s[p->pos++];
    if (c == ']') return a;
    if (c != ',') {
      p->pos--;
      perr(p, "expected ',' or ']' in array");
      goto fail;
    }
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
      perr(p, "trailing comma in array");
      goto fail;
    }
  }
fail:
  json_free(a);
  return NULL;
}

static struct json *parse_object(struct parser *p) {
  struct json *o = new_value(JSON_OBJECT);
  struct sbuf key = {0};
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == '}') {
    p->pos++;
    return o;
  }
  for (;;) {
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"') {
      perr(p, p->pos < p->len && p->s[p->pos] == '}' ? "trailing comma in object"
                                                      : "expected a string key in object");
      goto fail;
    }
    if (parse_string_raw(p, &key) < 0) goto fail;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':') {
      perr(p, "expected ':' after an object key");
      goto fail;
    }
    p->pos++;
    struct json *v = parse_value(p);
    if (!v) goto fail;
    size_t klen = key.len;
    add_member(o, sb_take(&key), klen, v);
    skip_ws(p);
    if (p->pos >= p->len) {
      perr(p, "unterminated object");
      goto fail;
    }
    char c = p->s[p->pos++];
    if (c == '}') return o;
    if (c != ',') {
      p->pos--;
      perr(p, "expected ',' or '}' in object");
      goto fail;
    }
  }
fail:
  sb_free(&key);
  json_free(o);
  return NULL;
}

static struct json *parse_value(struct parser *p) {
  skip_ws(p);
  if (p->pos >= p->len) {
    perr(p, "expected a value, found the end of the text");
    return NULL;
  }
  char c = p->s[p->pos];
  struct json *v = NULL;
  switch (c) {
  case '{':
  case '[':
    if (++p->depth > JSON_MAX_DEPTH) {
      perr(p, "nesting too deep");
      return NULL;
    }
    v = c == '{' ? parse_object(p) : parse_array(p);
    p->depth--;
    return v;
  case '"': {
    struct sbuf b = {0};
    if (parse_string_raw(p, &b) < 0) {
      sb_free(&b);
      return NULL;
    }
    v = new_value(JSON_STRING);
    v->len = b.len;
    v->str = sb_take(&b);
    return v;
  }
  case 't':
    if (literal(p, "true")) return json_new_bool(true);
    break;
  case 'f':
    if (literal(p, "false")) return json_new_bool(false);
    break;
  case 'n':
    if (literal(p, "null")) return json_new_null();
    break;
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    break;
  }
  perr(p, "unexpected character");
  return NULL;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen) {
  struct parser p = {.s = text ? text : "", .len = text ? len : 0, .err = err, .errlen = errlen};
  if (err && errlen) err[0] = '\0';
  struct json *v = parse_value(&p);
  if (!v) return NULL;
  skip_ws(&p);
  if (p.pos != p.len) {
    perr(&p, "unexpected text after the value");
    json_free(v);
    return NULL;
  }
  return v;
}

/* --- writer ----------------------------------------------------------------- */

void json_write_string(struct sbuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  sb_grow(b, n + 2);
  sb_addc(b, '"');
  size_t i = 0;
  while (i < n) {
    unsigned char c = u[i];
    if (c >= 0x80) {
      size_t l = utf8_seq(u + i, n - i);
      if (l == 0) {
        sb_adds(b, "\xEF\xBF\xBD"); /* U+FFFD for a malformed byte */
        i++;
      } else {
        sb_add(b, s + i, l);
        i += l;
      }
      continue;
    }
    i++;
    switch (c) {
    case '"': sb_adds(b, "\\\""); break;
    case '\\': sb_adds(b, "\\\\"); break;
    case '\n': sb_adds(b, "\\n"); break;
    case '\r': sb_adds(b, "\\r"); break;
    case '\t': sb_adds(b, "\\t"); break;
    case '\b': sb_adds(b, "\\b"); break;
    case '\f': sb_adds(b, "\\f"); break;
    default:
      if (c < 0x20 || c == 0x7F) {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        sb_add(b, e, 6);
      } else {
        sb_addc(b, (char)c);
      }
    }
  }
  sb_addc(b, '"');
}

void json_write(struct sbuf *b, const struct json *v) {
  if (!v) {
    sb_adds(b, "null");
    return;
  }
  switch (v->type) {
  case JSON_NULL: sb_adds(b, "null"); break;
  case JSON_BOOL: sb_adds(b, v->boolean ? "true" : "false"); break;
  case JSON_NUMBER:
    if (v->is_int) sb_printf(b, "%lld", (long long)v->integer);
    else if (!isfinite(v->number)) sb_adds(b, "null");
    else {
      /* The shortest of %.15g..%.17g that reads back as the same double. */
      char num[40];
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, v->number);
        if (strtod(num, NULL) == v->number) break;
      }
      sb_adds(b, num);
    }
    break;
  case JSON_STRING: json_write_string(b, v->str, v->len); break;
  case JSON_ARRAY:
    sb_addc(b, '[');
    for (size_t i = 0; i < v->n; i++) {
      if (i) sb_addc(b, ',');
      json_write(b, v->items[i]);
    }
    sb_addc(b, ']');
    break;
  case JSON_OBJECT:
    sb_addc(b, '{');
    for (size_t i = 0; i < v->n; i++) {
      if (i) sb_addc(b, ',');
      json_write_string(b, v->keys[i], v->key_lens[i]);
      sb_addc(b, ':');
      json_write(b, v->items[i]);
    }
    sb_addc(b, '}');
    break;
  }
}

char *json_serialize(const struct json *v) {
  struct sbuf b = {0};
  json_write(&b, v);
  return sb_take(&b);
}
