/* DNS replies for the gateway (see dns.h for why by hand).  RFC 1035 4.1. */
#include "runner/proxy/dns.h"

#include <string.h>

enum {
  HDR = 12,
  RCODE_OK = 0,
  RCODE_FORMERR = 1,
  RCODE_NXDOMAIN = 3,
  RCODE_NOTIMP = 4,
  TYPE_A = 1,
  CLASS_IN = 1,
};

int
cab_dns_zone_add(struct cab_dns_zone *z, const char *name)
{
  size_t n = strlen(name);
  if (n > 0 && name[n - 1] == '.')
    n--;
  if (n == 0 || n > 253 || z->n_names >= CAB_DNS_MAX_NAMES)
    return -1;
  char *dst = z->names[z->n_names++];
  for (size_t i = 0; i < n; i++)
    dst[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
  dst[n] = '\0';
  return 0;
}

static size_t
header_only(const uint8_t *q, uint8_t *out, int rcode)
{
  memset(out, 0, HDR);
  out[0] = q[0];
  out[1] = q[1];
  out[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, the query's opcode and RD */
  out[3] = (uint8_t)(0x80 | rcode);         /* RA */
  return HDR;
}

static void
put16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* The question's name at offset 12: labels of 1..63 bytes, 255 bytes in
 * all, no compression pointer (a question has nothing before it to point
 * to).  Lower-cased into NAME; *END is the offset after it; *PRINTABLE says
 * whether every byte is a plain name character. */
static int
read_qname(const uint8_t *q, size_t qlen, char name[256], size_t *end, int *printable)
{
  size_t pos = HDR, nlen = 0, wire = 0;
  *printable = 1;
  for (;;) {
    if (pos >= qlen)
      return -1;
    size_t l = q[pos];
    if (l == 0) {
      pos++;
      break;
    }
    if (l > 63 || pos + 1 + l > qlen)
      return -1;
    wire += 1 + l;
    if (wire + 1 > 255)
      return -1;
    if (nlen > 0)
      name[nlen++] = '.';
    for (size_t i = 0; i < l; i++) {
      uint8_t c = q[pos + 1 + i];
      if (c <= ' ' || c == '.' || c >= 0x7f)
        *printable = 0;
      name[nlen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    pos += 1 + l;
  }
  name[nlen] = '\0';
  *end = pos;
  return 0;
}

int
cab_dns_refused_name(const uint8_t *reply, size_t len, char name[256])
{
  size_t end;
  int printable;
  if (len < HDR || (reply[3] & 0x0f) != RCODE_NXDOMAIN || reply[4] != 0 || reply[5] != 1)
    return 0;
  if (read_qname(reply, len, name, &end, &printable) < 0 || !printable || name[0] == '\0')
    return 0;
  return 1;
}

size_t
cab_dns_answer(const struct cab_dns_zone *z, const uint8_t *q, size_t qlen, uint8_t *out)
{
  if (qlen < HDR)
    return 0;
  if (q[2] & 0x80)
    return 0; /* a response: never answer one (no loops) */
  if (((q[2] >> 3) & 0x0f) != 0)
    return header_only(q, out, RCODE_NOTIMP);
  if (q[4] != 0 || q[5] != 1)
    return header_only(q, out, RCODE_FORMERR);

  char name[256];
  size_t pos;
  int printable;
  if (read_qname(q, qlen, name, &pos, &printable) < 0)
    return header_only(q, out, RCODE_FORMERR);
  size_t nlen = strlen(name);
  if (pos + 4 > qlen)
    return header_only(q, out, RCODE_FORMERR);
  unsigned qtype = (unsigned)q[pos] << 8 | q[pos + 1];
  unsigned qclass = (unsigned)q[pos + 2] << 8 | q[pos + 3];
  size_t qsec = pos + 4 - HDR; /* at most 255 + 4 */

  int known = 0;
  for (size_t i = 0; printable && nlen > 0 && i < z->n_names; i++)
    if (strcmp(name, z->names[i]) == 0)
      known = 1;

  header_only(q, out, known ? RCODE_OK : RCODE_NXDOMAIN);
  out[2] |= 0x04; /* AA: this is the authority for what the sandbox sees */
  put16(out + 4, 1);
  memcpy(out + HDR, q + HDR, qsec);
  size_t len = HDR + qsec;
  if (known && qtype == TYPE_A && qclass == CLASS_IN) {
    uint8_t *a = out + len;
    put16(a, 0xc000 | HDR); /* the name: a pointer to the question's */
    put16(a + 2, TYPE_A);
    put16(a + 4, CLASS_IN);
    put16(a + 6, 0);
    put16(a + 8, 60); /* TTL */
    put16(a + 10, 4);
    memcpy(a + 12, &z->addr.s_addr, 4);
    len += 16;
    put16(out + 6, 1);
  }
  return len;
}
