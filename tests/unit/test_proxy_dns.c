/* The gateway's DNS responder: answers, the malformed-packet corpus
 * (tests/fixtures/proxy/gen-dns-corpus.sh), random mutations, and the
 * responder thread on a real UDP socket. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fsutil.h"
#include "runner/proxy/dns.h"

#define CORPUS "tests/fixtures/proxy/dns"

static struct cab_dns_zone zone;

static int
setup(void **state)
{
  memset(&zone, 0, sizeof zone);
  inet_pton(AF_INET, "169.254.77.1", &zone.addr);
  assert_int_equal(cab_dns_zone_add(&zone, "model.cab.internal"), 0);
  assert_int_equal(cab_dns_zone_add(&zone, "API.Example.TEST."), 0);
  return 0;
}

static size_t
load(const char *name, uint8_t *buf, size_t size)
{
  char path[256];
  snprintf(path, sizeof path, CORPUS "/%s.bin", name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("%s: %s (run from the source tree)", path, strerror(errno));
  size_t n = fread(buf, 1, size, f);
  fclose(f);
  return n;
}

/* Every reply: an answer to the same ID, never larger than a UDP reply. */
static void
check_reply(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen)
{
  if (rlen == 0)
    return;
  assert_true(rlen >= 12 && rlen <= CAB_DNS_MAX_REPLY);
  assert_true(qlen >= 12);
  assert_memory_equal(r, q, 2);
  assert_true(r[2] & 0x80);
  unsigned qd = (unsigned)r[4] << 8 | r[5], an = (unsigned)r[6] << 8 | r[7];
  assert_true(qd <= 1 && an <= 1);
  if (an) /* the question, then one A record pointing at it */
    assert_memory_equal(r + rlen - 16, "\xc0\x0c\x00\x01\x00\x01", 6);
}

struct expect {
  const char *file;
  int rcode; /* -1: no reply */
  int answers;
};

static void
test_corpus(void **state)
{
  static const struct expect table[] = {
      {"ok-a", 0, 1},           {"ok-aaaa", 0, 0},         {"ok-upper", 0, 1},
      {"ok-edns", 0, 1},        {"other-name", 3, 0},      {"root-name", 3, 0},
      {"empty", -1, 0},         {"short-header", -1, 0},   {"header-only", 1, 0},
      {"response-bit", -1, 0},  {"opcode-status", 4, 0},   {"qdcount-0", 1, 0},
      {"qdcount-2", 1, 0},      {"qdcount-ffff", 1, 0},    {"label-past-end", 1, 0},
      {"label-64", 1, 0},       {"name-256", 1, 0},        {"no-terminator", 1, 0},
      {"no-type", 1, 0},        {"half-type", 1, 0},       {"no-class", 1, 0},
      {"pointer", 1, 0},        {"pointer-loop", 1, 0},    {"label-ext-0x40", 1, 0},
      {"dot-in-label", 3, 0},   {"nul-in-label", 3, 0},    {"class-chaos", 0, 0},
      {"type-any", 0, 0},       {"trailing-garbage", 0, 1}, {"all-ff-512", -1, 0},
      {"all-00-512", 1, 0},
  };
  size_t seen = 0;
  for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
    uint8_t q[2048], r[CAB_DNS_MAX_REPLY];
    size_t qlen = load(table[i].file, q, sizeof q);
    size_t rlen = cab_dns_answer(&zone, q, qlen, r);
    check_reply(q, qlen, r, rlen);
    if (table[i].rcode < 0) {
      if (rlen != 0)
        fail_msg("%s: expected no reply, got %zu bytes", table[i].file, rlen);
    } else {
      if (rlen == 0)
        fail_msg("%s: expected rcode %d, got no reply", table[i].file, table[i].rcode);
      if ((r[3] & 0x0f) != table[i].rcode || r[7] != table[i].answers)
        fail_msg("%s: expected rcode %d with %d answers, got %d with %d", table[i].file,
                 table[i].rcode, table[i].answers, r[3] & 0x0f, r[7]);
    }
    seen++;
  }
  /* Every file of the corpus is in the table. */
  DIR *d = opendir(CORPUS);
  assert_non_null(d);
  size_t files = 0;
  for (struct dirent *e; (e = readdir(d));)
    files += strstr(e->d_name, ".bin") != NULL;
  closedir(d);
  assert_int_equal(files, seen);
}

static void
test_a_record(void **state)
{
  uint8_t q[512], r[CAB_DNS_MAX_REPLY];
  size_t qlen = load("ok-a", q, sizeof q);
  size_t rlen = cab_dns_answer(&zone, q, qlen, r);
  assert_int_equal(rlen, qlen + 16);
  assert_true(r[2] & 0x04);                     /* authoritative */
  assert_memory_equal(r + 12, q + 12, qlen - 12); /* the question, echoed */
  const uint8_t *a = r + qlen;
  static const uint8_t want[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 169, 254, 77, 1};
  assert_memory_equal(a, want, sizeof want);

  /* The endpoint's name, added with capitals and a trailing dot. */
  static const uint8_t api[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', 'p', 'i',
                                7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't',
                                0, 0, 1, 0, 1};
  rlen = cab_dns_answer(&zone, api, sizeof api, r);
  assert_int_equal(rlen, sizeof api + 16);
  assert_int_equal(r[3] & 0x0f, 0);
  /* A longer name that merely ends like a known one is not known. */
  static const uint8_t sub[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 3, 'a', 'p',
                                'i', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't',
                                0, 0, 1, 0, 1};
  rlen = cab_dns_answer(&zone, sub, sizeof sub, r);
  assert_int_equal(r[3] & 0x0f, 3);
}

static void
test_zone_add(void **state)
{
  struct cab_dns_zone z = {0};
  assert_int_equal(cab_dns_zone_add(&z, ""), -1);
  assert_int_equal(cab_dns_zone_add(&z, "."), -1);
  for (int i = 0; i < CAB_DNS_MAX_NAMES; i++)
    assert_int_equal(cab_dns_zone_add(&z, "a.b"), 0);
  assert_int_equal(cab_dns_zone_add(&z, "full.example"), -1);
  char longname[300];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  struct cab_dns_zone z2 = {0};
  assert_int_equal(cab_dns_zone_add(&z2, longname), -1);
}

/* Random mutations of every corpus packet (a fixed seed: reproducible).
 * Under ASan any out-of-bounds read fails the test. */
static void
test_fuzz(void **state)
{
  static const char *const seeds[] = {"ok-a", "ok-aaaa", "ok-edns", "other-name", "qdcount-2",
                                      "pointer-loop", "name-256", "trailing-garbage"};
  static uint8_t seed[8][600];
  size_t seed_len[8];
  for (int i = 0; i < 8; i++)
    seed_len[i] = load(seeds[i], seed[i], sizeof seed[i]);
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  long replies = 0;
  for (int round = 0; round < 200000; round++) {
    uint8_t q[600], r[CAB_DNS_MAX_REPLY];
    size_t qlen = seed_len[round % 8];
    memcpy(q, seed[round % 8], qlen);
    int flips = 1 + (int)(x % 8);
    for (int f = 0; f < flips; f++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      if (qlen > 0)
        q[x % qlen] = (uint8_t)(x >> 32);
    }
    /* Sometimes cut or extend it. */
    if (x % 5 == 0 && qlen > 0)
      qlen = (size_t)(x >> 40) % qlen;
    else if (x % 7 == 0 && qlen + 40 < sizeof q) {
      memset(q + qlen, (int)(x >> 24), 40);
      qlen += 40;
    }
    /* Copy to an exact-size heap buffer so ASan sees any overread. */
    uint8_t *exact = malloc(qlen ? qlen : 1);
    memcpy(exact, q, qlen);
    size_t rlen = cab_dns_answer(&zone, exact, qlen, r);
    check_reply(exact, qlen, r, rlen);
    replies += rlen > 0;
    free(exact);
  }
  assert_true(replies > 1000);
}

/* The thread on a real socket: answers, and NXDOMAIN at once. */
static void
test_server(void **state)
{
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  struct cab_dns_server *s;
  cab_error err = {0};
  assert_int_equal(cab_dns_server_start(fd, &zone, &s, &err), 0);

  int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {.tv_sec = 2};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static const char *const files[] = {"ok-a", "other-name", "ok-aaaa", "response-bit", "ok-a"};
  static const int rcodes[] = {0, 3, 0, -1, 0};
  for (size_t i = 0; i < 5; i++) {
    uint8_t q[600], r[1500];
    size_t qlen = load(files[i], q, sizeof q);
    int64_t t0 = cab_now_ns();
    assert_int_equal(sendto(c, q, qlen, 0, (struct sockaddr *)&sa, sizeof sa), (ssize_t)qlen);
    if (rcodes[i] < 0)
      continue; /* no reply: the next answer must still be the next query's */
    ssize_t n = recv(c, r, sizeof r, 0);
    assert_true(n >= 12);
    assert_int_equal(r[3] & 0x0f, rcodes[i]);
    assert_true(cab_now_ns() - t0 < 100000000); /* well under 100 ms */
  }
  close(c);
  cab_dns_server_stop(s);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_corpus, setup),
      cmocka_unit_test_setup(test_a_record, setup),
      cmocka_unit_test(test_zone_add),
      cmocka_unit_test_setup(test_fuzz, setup),
      cmocka_unit_test_setup(test_server, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
