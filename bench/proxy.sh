#!/bin/bash
# What a model call gains by going through cab's proxy: the same requests
# to `cab model-server`, directly on the host's 127.0.0.1 and from inside a
# `cab exec --net model` sandbox (veth to the gateway, the proxy, curl to
# the server).  Plain calls (whole response) and streamed ones (time to the
# first chunk), in one run.  Goal: < 1 ms median added per call.
#
#   bash bench/proxy.sh [CALLS]        (default 2000 per case; CAB_BUILD=...;
#                                       CAB_BENCH_KEY=K: with a key to redact)
#
# hyperfine would time process start-up, which dwarfs a sub-millisecond
# difference, so a small C client (below) makes CALLS requests over one
# keep-alive connection, as SDKs do, and reports per-call percentiles.
set -eu
export LC_ALL=C
SRC=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC/build}
CAB=${CAB:-$CAB_BUILD/cab}
CALLS=${1:-2000}
[ -x "$CAB" ] || { echo "bench/proxy.sh: $CAB not found (run make)" >&2; exit 1; }
command -v busybox >/dev/null || { echo "bench/proxy.sh: busybox-static needed (make deps)" >&2; exit 1; }

T=$(mktemp -d /tmp/cab-bench-proxy.XXXXXX)
chmod 0755 "$T"
MS_PIDS=""
cleanup() {
  local p
  for p in $MS_PIDS; do kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

# --- the client ----------------------------------------------------------------------
cat >"$T/client.c" <<'EOF'
/* client IP PORT PATH BODY CALLS: CALLS POSTs over one keep-alive
 * connection; prints "median p90 p99" of the whole call and of the time to
 * the first body byte, in microseconds. */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t have, off;
static int fd;

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
static void fill(void) {
  if (off == have) off = have = 0;
  if (have == sizeof buf) { memmove(buf, buf + off, have - off); have -= off; off = 0; }
  ssize_t n = read(fd, buf + have, sizeof buf - have);
  if (n <= 0) { fprintf(stderr, "client: connection closed\n"); exit(1); }
  have += (size_t)n;
}
static char *find(const char *s) {
  char *p;
  while (!(p = memmem(buf + off, have - off, s, strlen(s)))) fill();
  return p;
}
static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}
int main(int argc, char **argv) {
  if (argc < 6) return 2;
  int calls = atoi(argv[5]), warm = calls / 10 + 10, one = 1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("client: connect"); return 1; }
  char req[4096];
  int rl = snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: "
                    "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                    argv[3], strlen(argv[4]), argv[4]);
  long long *total = calloc((size_t)calls, sizeof *total), *first = calloc((size_t)calls, sizeof *first);
  for (int i = -warm; i < calls; i++) {
    long long t0 = now_us(), t1 = -1;
    if (write(fd, req, (size_t)rl) != rl) return 1;
    char *h = find("\r\n\r\n");
    size_t hlen = (size_t)(h - (buf + off)) + 4;
    char head[4096];
    snprintf(head, sizeof head, "%.*s", (int)(hlen < sizeof head ? hlen : sizeof head - 1), buf + off);
    for (char *c = head; *c; c++) if (*c >= 'A' && *c <= 'Z') *c += 32;
    off += hlen;
    char *cl = strstr(head, "\r\ncontent-length:");
    if (cl) {
      size_t want = strtoul(cl + 17, NULL, 10);
      while (have - off < want) { if (have > off && t1 < 0) t1 = now_us(); fill(); }
      if (t1 < 0) t1 = now_us();
      off += want;
    } else { /* chunked */
      for (;;) {
        char *crlf = find("\r\n");
        size_t size = strtoul(buf + off, NULL, 16);
        off = (size_t)(crlf - buf) + 2;
        if (size == 0) { find("\r\n"); off += 2; break; }
        if (t1 < 0) t1 = now_us();
        while (have - off < size + 2) fill();
        off += size + 2;
      }
    }
    if (i >= 0) { total[i] = now_us() - t0; first[i] = t1 - t0; }
  }
  qsort(total, (size_t)calls, sizeof *total, cmp);
  qsort(first, (size_t)calls, sizeof *first, cmp);
  printf("%lld %lld %lld %lld %lld %lld\n", total[calls / 2], total[calls * 9 / 10],
         total[calls * 99 / 100], first[calls / 2], first[calls * 9 / 10], first[calls * 99 / 100]);
  return 0;
}
EOF
cc -O2 -D_GNU_SOURCE -Wall -static -o "$T/client" "$T/client.c"

# --- the server and the sandbox ------------------------------------------------------
# Two servers: one answers at once (a stream then leaves in one piece), one
# paces its stream's events 2 ms apart, as a model emitting tokens would.
start_server() { # NAME DELAY_MS; sets SERVER_PORT
  cat >"$T/$1.json" <<EOS
{"model": "scripted/bench", "after_last": "repeat", "stream_chunk_delay_ms": $2,
 "turns": [{"content": "The quick brown fox jumps over the lazy dog, twice over.",
            "usage": {"prompt_tokens": 12, "completion_tokens": 12}}]}
EOS
  "$CAB" model-server --script "$T/$1.json" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
  MS_PIDS="$MS_PIDS $!"
  SERVER_PORT=""
  for _ in $(seq 100); do
    SERVER_PORT=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)/v1.*|\1|p' "$T/$1.out")
    [ -n "$SERVER_PORT" ] && break
    sleep 0.05
  done
  [ -n "$SERVER_PORT" ] || { echo "bench/proxy.sh: cab model-server did not start" >&2; exit 1; }
}
start_server fast 0
PORT=$SERVER_PORT
start_server paced 2
PACED=$SERVER_PORT
PACED_CALLS=$((CALLS / 10 > 20 ? CALLS / 10 : 20))

R=$T/rootfs
mkdir -p "$R/bin" "$R/proc" "$R/dev" "$R/tmp" "$R/etc" "$R/bench"
cp "$(command -v busybox)" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
cp "$T/client" "$R/bench/client"
chmod -R a+rX "$R"

PLAIN='{"model":"m","messages":[{"role":"user","content":"hi"}]}'
STREAM='{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
PATH_CHAT=/v1/chat/completions

echo "cab model-server on 127.0.0.1; $CALLS calls per case ($PACED_CALLS paced) over one keep-alive connection"
direct_plain=$("$T/client" 127.0.0.1 "$PORT" "$PATH_CHAT" "$PLAIN" "$CALLS")
direct_stream=$("$T/client" 127.0.0.1 "$PORT" "$PATH_CHAT" "$STREAM" "$CALLS")
direct_paced=$("$T/client" 127.0.0.1 "$PACED" "$PATH_CHAT" "$STREAM" "$PACED_CALLS")
# A sandbox reaches one endpoint: one run per server.
# CAB_BENCH_KEY=K: the proxy holds a key (and redacts it from every answer).
KEYOPT=()
[ -n "${CAB_BENCH_KEY:-}" ] && KEYOPT=(--key-env CAB_BENCH_KEY)
proxied=$("$CAB" exec --rootfs "$R" --net model --endpoint "http://127.0.0.1:$PORT/v1" "${KEYOPT[@]}" -- /bin/sh -c \
  "/bench/client 169.254.77.1 80 $PATH_CHAT '$PLAIN' $CALLS && /bench/client 169.254.77.1 80 $PATH_CHAT '$STREAM' $CALLS")
proxy_plain=$(echo "$proxied" | sed -n 1p)
proxy_stream=$(echo "$proxied" | sed -n 2p)
proxy_paced=$("$CAB" exec --rootfs "$R" --net model --endpoint "http://127.0.0.1:$PACED/v1" "${KEYOPT[@]}" -- \
  /bench/client 169.254.77.1 80 "$PATH_CHAT" "$STREAM" "$PACED_CALLS")

# row LABEL DIRECT PROXY FIELD-OFFSET
row() {
  local label=$1 d=$2 p=$3 k=$4
  set -- $d
  local d50=${!k} d90 d99
  d90=$(echo "$d" | cut -d' ' -f$((k + 1)))
  d99=$(echo "$d" | cut -d' ' -f$((k + 2)))
  set -- $p
  local p50=${!k} p90 p99
  p90=$(echo "$p" | cut -d' ' -f$((k + 1)))
  p99=$(echo "$p" | cut -d' ' -f$((k + 2)))
  printf '%-28s %9.3f %9.3f %9.3f | %9.3f %9.3f %9.3f | %+9.3f\n' "$label" \
    "$(echo "$d50/1000" | bc -l)" "$(echo "$d90/1000" | bc -l)" "$(echo "$d99/1000" | bc -l)" \
    "$(echo "$p50/1000" | bc -l)" "$(echo "$p90/1000" | bc -l)" "$(echo "$p99/1000" | bc -l)" \
    "$(echo "($p50-$d50)/1000" | bc -l)"
}
printf '%-28s %29s | %29s | %9s\n' "ms per call" "direct: p50 p90 p99" "through the proxy: p50 p90 p99" "added p50"
row "plain, whole response" "$direct_plain" "$proxy_plain" 1
row "streamed, first chunk" "$direct_stream" "$proxy_stream" 4
row "streamed, whole stream" "$direct_stream" "$proxy_stream" 1
row "paced stream, first chunk" "$direct_paced" "$proxy_paced" 4
row "paced stream, whole stream" "$direct_paced" "$proxy_paced" 1
echo "(a stream served at once leaves the server in one piece, so through the proxy"
echo " its first chunk comes with the rest; the paced rows show chunk-by-chunk relay)"
