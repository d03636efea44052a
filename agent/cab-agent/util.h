/* cab-agent: small helpers shared by its modules (growable byte buffer,
 * checked allocation).  cab-agent links nothing but the C library, so it
 * keeps these to itself rather than using common/ (which lives in libcab.a
 * and pulls in its shared dependencies). */
#ifndef CAB_AGENT_UTIL_H
#define CAB_AGENT_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* A growable byte buffer; p is always NUL-terminated once anything was
 * appended (and NULL before). */
struct sbuf {
  char *p;
  size_t len, cap;
};

void sb_grow(struct sbuf *b, size_t extra);
void sb_add(struct sbuf *b, const void *data, size_t n);
void sb_adds(struct sbuf *b, const char *s);
void sb_addc(struct sbuf *b, char c);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap);
/* Hand over the contents (never NULL: "" when empty); B is reset. */
char *sb_take(struct sbuf *b);
void sb_free(struct sbuf *b);

/* Allocation failure ends the process with a one-line message (exit 2). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Length of the well-formed UTF-8 sequence at S (N > 0 bytes available),
 * or 0 when it is malformed, overlong, a surrogate or above U+10FFFF. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Length of the longest prefix of S[0..N) that is well-formed UTF-8 and
 * no longer than MAX bytes, never splitting a sequence. */
size_t utf8_prefix(const char *s, size_t n, size_t max);

#endif
