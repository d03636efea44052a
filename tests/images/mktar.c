/* mktar: write a tar stream (optionally gzip) from a line-based spec, with
 * none of the safety a real tar applies, so that tests can build malicious
 * layers without python.  Used by tests/images/malicious-layers.sh.
 *
 *   mktar [-z] OUT < SPEC          (OUT "-" is stdout)
 *
 * SPEC, one entry a line, fields separated by single spaces ("#" starts a
 * comment line):
 *   file NAME [MODE [CONTENT]]   CONTENT is the rest of the line ("\n" added)
 *   dir NAME [MODE]
 *   symlink NAME TARGET
 *   hardlink NAME TARGET
 *   char NAME MAJOR MINOR | block NAME MAJOR MINOR | fifo NAME
 *   zeros NAME SIZE              a file of SIZE zero bytes (streamed)
 *   sparse NAME SIZE             GNU sparse file, apparent SIZE, 512 data bytes at the end
 *   longfile LEN                 a file whose name is LEN bytes long (PAX path)
 *   pax KEY=VALUE                a PAX record for the next entry
 *   owner UID GID                owner of the following entries (default 0 0)
 *   rawzeros SIZE                SIZE zero bytes straight into the stream (after the
 *                                end-of-archive blocks: a bomb that is not an entry)
 * SIZE takes K, M, G, T suffixes (binary).  With -z, runs of zeros are
 * written as repeated precompressed gzip members (RFC 1952 allows several),
 * so a 10 GiB bomb is made in a second and weighs about 10 MB. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512
#define ZCHUNK (1 << 20)

static FILE *out;
static bool gz;
static z_stream zs;
static bool zs_open;
static unsigned char *zero_member; /* gzip member of ZCHUNK zeros */
static size_t zero_member_len;
static uint64_t total; /* uncompressed bytes written */

static void
die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("mktar: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void
put_raw(const void *buf, size_t len)
{
  if (len && fwrite(buf, 1, len, out) != len)
    die("write: %s", strerror(errno));
}

static void
z_pump(int flush)
{
  unsigned char buf[65536];
  do {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    int r = deflate(&zs, flush);
    if (r == Z_STREAM_ERROR)
      die("deflate failed");
    put_raw(buf, sizeof buf - zs.avail_out);
  } while (zs.avail_out == 0);
}

static void
z_begin(void)
{
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    die("deflateInit2 failed");
  zs_open = true;
}

static void
z_end(void)
{
  if (!zs_open)
    return;
  zs.next_in = NULL;
  zs.avail_in = 0;
  z_pump(Z_FINISH);
  deflateEnd(&zs);
  zs_open = false;
}

static void
emit(const void *buf, size_t len)
{
  total += len;
  if (!gz) {
    put_raw(buf, len);
    return;
  }
  if (!zs_open)
    z_begin();
  zs.next_in = (unsigned char *)buf;
  zs.avail_in = (uInt)len;
  z_pump(Z_NO_FLUSH);
}

static void
make_zero_member(void)
{
  unsigned char *zeros = calloc(1, ZCHUNK);
  uLong bound = ZCHUNK / 100 + 4096;
  zero_member = malloc(bound);
  z_stream z = { 0 };
  if (!zeros || !zero_member
      || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    die("out of memory");
  z.next_in = zeros;
  z.avail_in = ZCHUNK;
  z.next_out = zero_member;
  z.avail_out = (uInt)bound;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END)
    die("compressing zeros failed");
  zero_member_len = bound - z.avail_out;
  deflateEnd(&z);
  free(zeros);
}

static void
emit_zeros(uint64_t n)
{
  static const unsigned char zeros[65536];
  if (gz && n >= 2 * ZCHUNK) {
    z_end();
    if (!zero_member)
      make_zero_member();
    for (; n >= ZCHUNK; n -= ZCHUNK) {
      put_raw(zero_member, zero_member_len);
      total += ZCHUNK;
    }
  }
  while (n > 0) {
    size_t k = n > sizeof zeros ? sizeof zeros : (size_t)n;
    emit(zeros, k);
    n -= k;
  }
}

static void
pad(uint64_t size)
{
  if (size % BLOCK)
    emit_zeros(BLOCK - size % BLOCK);
}

/* Numeric header field: octal when it fits, else GNU base-256. */
static void
num(char *field, size_t width, uint64_t v)
{
  if (width < 12 ? v < (1ULL << (3 * (width - 1))) : v < 077777777777ULL) {
    snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);
    return;
  }
  memset(field, 0, width);
  field[0] = (char)0x80;
  for (size_t i = width - 1; i > 0 && v; i--, v >>= 8)
    field[i] = (char)(v & 0xff);
}

static void
checksum(unsigned char *h)
{
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < BLOCK; i++)
    sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

static unsigned long owner_uid, owner_gid;
static char *pending_pax; /* records for the next entry */
static size_t pending_len;

static void
pax_add(const char *key, const char *value)
{
  size_t body = strlen(key) + strlen(value) + 3; /* " " "=" "\n" */
  size_t len = body + 1;
  char digits[32];
  for (;;) {
    int d = snprintf(digits, sizeof digits, "%zu", len);
    if (body + (size_t)d == len)
      break;
    len = body + (size_t)d;
  }
  pending_pax = realloc(pending_pax, pending_len + len + 1);
  if (!pending_pax)
    die("out of memory");
  snprintf(pending_pax + pending_len, len + 1, "%zu %s=%s\n", len, key, value);
  pending_len += len;
}

static void
header(const char *name, char type, uint64_t size, unsigned mode, const char *link,
       unsigned major, unsigned minor)
{
  if (strlen(name) > 100)
    pax_add("path", name);
  if (link && strlen(link) > 100)
    pax_add("linkpath", link);
  if (size > 077777777777ULL) {
    char s[32];
    snprintf(s, sizeof s, "%llu", (unsigned long long)size);
    pax_add("size", s);
  }
  if (pending_len) {
    unsigned char x[BLOCK] = { 0 };
    snprintf((char *)x, 100, "PaxHeaders/%.80s", name);
    num((char *)x + 100, 8, 0644);
    num((char *)x + 108, 8, 0);
    num((char *)x + 116, 8, 0);
    num((char *)x + 124, 12, pending_len);
    num((char *)x + 136, 12, 0);
    x[156] = 'x';
    memcpy(x + 257, "ustar\0" "00", 8);
    checksum(x);
    emit(x, BLOCK);
    emit(pending_pax, pending_len);
    pad(pending_len);
    pending_len = 0;
  }
  unsigned char h[BLOCK] = { 0 };
  memcpy(h, name, strlen(name) > 100 ? 100 : strlen(name));
  num((char *)h + 100, 8, mode);
  num((char *)h + 108, 8, owner_uid);
  num((char *)h + 116, 8, owner_gid);
  num((char *)h + 124, 12, size);
  num((char *)h + 136, 12, 1700000000);
  h[156] = (unsigned char)type;
  if (link)
    memcpy(h + 157, link, strlen(link) > 100 ? 100 : strlen(link));
  memcpy(h + 257, "ustar\0" "00", 8);
  num((char *)h + 329, 8, major);
  num((char *)h + 337, 8, minor);
  checksum(h);
  emit(h, BLOCK);
}

/* GNU old sparse ('S'): one 512-byte data chunk at the end of SIZE. */
static void
sparse(const char *name, uint64_t size)
{
  if (size < BLOCK)
    die("sparse: size below 512");
  unsigned char h[BLOCK] = { 0 };
  memcpy(h, name, strlen(name) > 100 ? 100 : strlen(name));
  num((char *)h + 100, 8, 0644);
  num((char *)h + 108, 8, owner_uid);
  num((char *)h + 116, 8, owner_gid);
  num((char *)h + 124, 12, BLOCK); /* stored bytes */
  num((char *)h + 136, 12, 1700000000);
  h[156] = 'S';
  memcpy(h + 257, "ustar  \0", 8); /* GNU magic */
  num((char *)h + 386, 12, size - BLOCK); /* sparse[0].offset */
  num((char *)h + 398, 12, BLOCK);        /* sparse[0].numbytes */
  num((char *)h + 483, 12, size);         /* realsize */
  checksum(h);
  emit(h, BLOCK);
  unsigned char data[BLOCK];
  memset(data, 'S', sizeof data);
  emit(data, BLOCK);
}

static uint64_t
parse_size(const char *s)
{
  char *end;
  unsigned long long v = strtoull(s, &end, 0);
  switch (*end) {
  case 'T': v <<= 10; /* fall through */
  case 'G': v <<= 10; /* fall through */
  case 'M': v <<= 10; /* fall through */
  case 'K': v <<= 10; end++; break;
  case '\0': break;
  default: die("bad size '%s'", s);
  }
  return v;
}

static unsigned
parse_mode(const char *s, unsigned def)
{
  return s ? (unsigned)strtoul(s, NULL, 8) : def;
}

int
main(int argc, char **argv)
{
  int i = 1;
  if (i < argc && strcmp(argv[i], "-z") == 0) {
    gz = true;
    i++;
  }
  if (i != argc - 1)
    die("usage: mktar [-z] OUT < SPEC");
  out = strcmp(argv[i], "-") == 0 ? stdout : fopen(argv[i], "wb");
  if (!out)
    die("%s: %s", argv[i], strerror(errno));

  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n')
      line[--n] = '\0';
    if (n == 0 || line[0] == '#')
      continue;
    char *rest = line;
    char *f[4] = { 0 };
    char *content = NULL;
    char *cmd = strsep(&rest, " ");
    for (int k = 0; k < 4 && rest; k++) {
      if (strcmp(cmd, "file") == 0 && k == 2) {
        content = rest;
        break;
      }
      f[k] = strsep(&rest, " ");
    }
    if (strcmp(cmd, "file") == 0 && f[0]) {
      size_t len = content ? strlen(content) + 1 : 0;
      header(f[0], '0', len, parse_mode(f[1], 0644), NULL, 0, 0);
      if (content) {
        emit(content, len - 1);
        emit("\n", 1);
      }
      pad(len);
    } else if (strcmp(cmd, "dir") == 0 && f[0]) {
      header(f[0], '5', 0, parse_mode(f[1], 0755), NULL, 0, 0);
    } else if (strcmp(cmd, "symlink") == 0 && f[1]) {
      header(f[0], '2', 0, 0777, f[1], 0, 0);
    } else if (strcmp(cmd, "hardlink") == 0 && f[1]) {
      header(f[0], '1', 0, 0644, f[1], 0, 0);
    } else if ((strcmp(cmd, "char") == 0 || strcmp(cmd, "block") == 0) && f[2]) {
      header(f[0], cmd[0] == 'c' ? '3' : '4', 0, 0666, NULL, (unsigned)atoi(f[1]),
             (unsigned)atoi(f[2]));
    } else if (strcmp(cmd, "fifo") == 0 && f[0]) {
      header(f[0], '6', 0, 0644, NULL, 0, 0);
    } else if (strcmp(cmd, "zeros") == 0 && f[1]) {
      uint64_t size = parse_size(f[1]);
      header(f[0], '0', size, 0644, NULL, 0, 0);
      emit_zeros(size);
      pad(size);
    } else if (strcmp(cmd, "sparse") == 0 && f[1]) {
      sparse(f[0], parse_size(f[1]));
    } else if (strcmp(cmd, "longfile") == 0 && f[0]) {
      size_t len = (size_t)parse_size(f[0]);
      char *name = malloc(len + 1);
      if (!name)
        die("out of memory");
      for (size_t k = 0; k < len; k++)
        name[k] = (k % 100 == 99) ? '/' : 'l';
      name[len] = '\0';
      if (name[len - 1] == '/')
        name[len - 1] = 'l';
      header(name, '0', 0, 0644, NULL, 0, 0);
      free(name);
    } else if (strcmp(cmd, "pax") == 0 && f[0] && strchr(f[0], '=')) {
      char *eq = strchr(f[0], '=');
      *eq = '\0';
      pax_add(f[0], eq + 1);
    } else if (strcmp(cmd, "owner") == 0 && f[1]) {
      owner_uid = strtoul(f[0], NULL, 10);
      owner_gid = strtoul(f[1], NULL, 10);
    } else if (strcmp(cmd, "rawzeros") == 0 && f[0]) {
      emit_zeros(parse_size(f[0]));
    } else {
      die("bad spec line: %s", line);
    }
  }
  free(line);
  /* End of archive: two zero blocks. */
  emit_zeros(2 * BLOCK);
  if (gz)
    z_end();
  if (fflush(out) != 0 || (out != stdout && fclose(out) != 0))
    die("write: %s", strerror(errno));
  return 0;
}
