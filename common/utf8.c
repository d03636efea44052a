#include "common/utf8.h"

uint32_t
cab_utf8_next(const unsigned char *s, size_t len, size_t *used, bool *valid)
{
  unsigned char c = s[0];
  *valid = true;
  *used = 1;
  if (c < 0x80)
    return c;
  size_t n;
  uint32_t cp, min;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    *valid = false;
    return 0xdc00 + c;
  }
  if (len < n) {
    *valid = false;
    return 0xdc00 + c;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) {
      *valid = false;
      return 0xdc00 + c;
    }
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    *valid = false;
    return 0xdc00 + c;
  }
  *used = n;
  return cp;
}
