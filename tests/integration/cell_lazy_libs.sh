#!/bin/bash
# libcurl, libmicrohttpd, libarchive and SQLite are opened where used
# (common/lazy_*.h), not linked:
#   * neither cab nor cab-full lists them as NEEDED;
#   * an oracle cell (--host-rootfs) loads none (LD_DEBUG=files of every
#     cab process, to files), and runs with all hidden (LD_LIBRARY_PATH to
#     empty files named like them);
#   * a cab-agent cell against a scripted `cab model-server` loads both at
#     its first use, and passes;
#   * with libcurl hidden, or libmicrohttpd hidden, that model cell stops
#     before any work: exit 125, one line naming the library and what to
#     install, no cell written (never a crash, never a silent cell);
#   * with SQLite hidden, `cab results ls` on those cells: the same line, 125.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 not installed (the tasks' toolchain)"
setup_cell_test
"$CAB" model-server --help >/dev/null 2>&1 || skip "this cab has no model-server command"
command -v readelf >/dev/null 2>&1 || skip "readelf not installed (binutils, make deps)"
OUT=$T/out
SWEEP=lazy-libs-test
TASK=integrity/unsolvable-refusal
HEAVY='libcurl\.so|libmicrohttpd\.so|libarchive\.so|libsqlite3\.so'

# --- linked: neither ------------------------------------------------------------------
for b in cab cab-full; do
  needed=$(readelf -d "$CAB_BUILD/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  [ -n "$needed" ] || fail "$b: readelf lists no NEEDED library at all"
  if printf '%s' "$needed" | grep -Eq "$HEAVY"; then
    fail "$b links a library it should open at first use: $needed"
  else
    pass "$b does not link libcurl, libmicrohttpd, libarchive or SQLite"
  fi
done

# Empty files named like the libraries: dlopen finds them first and fails.
mkdir -p "$T/hide-curl" "$T/hide-mhd" "$T/hide-all"
: >"$T/hide-curl/libcurl.so.4"
: >"$T/hide-mhd/libmicrohttpd.so.12"
for l in libcurl.so.4 libmicrohttpd.so.12 libarchive.so.13 libsqlite3.so.0; do : >"$T/hide-all/$l"; done
chmod -R a+rX "$T/hide-curl" "$T/hide-mhd" "$T/hide-all"

# --- an oracle cell: never loads them ---------------------------------------------------
mkdir -p "$T/ld-oracle"
LD_DEBUG=files LD_DEBUG_OUTPUT=$T/ld-oracle/ld run_cab "$T/oracle.out" run-cell --tui oracle --model cab/none \
  --task "$TASK" --host-rootfs --sweep-id "$SWEEP" --out "$OUT"
assert_rc 0 "an oracle cell exits 0"
n=$(find "$T/ld-oracle" -type f | wc -l)
assert_cmp "$n" -ge 2 "LD_DEBUG wrote the cab processes' loads (cab, then cab-full)"
assert_cmp "$(grep -lE 'file=libgit2\.so' "$T"/ld-oracle/* 2>/dev/null | wc -l)" -ge 1 \
  "... cab-full's among them (it links libgit2, cab does not)"
hits=$(grep -lE "file=($HEAVY)" "$T"/ld-oracle/* 2>/dev/null | wc -l)
assert_eq "$hits" 0 "no process of the oracle cell loads libcurl, libmicrohttpd, libarchive or SQLite"
LD_LIBRARY_PATH=$T/hide-all run_cab "$T/oracle-hidden.out" run-cell --tui oracle --model cab/none \
  --task "$TASK" --host-rootfs --sweep-id "$SWEEP-hidden" --out "$OUT"
assert_rc 0 "an oracle cell runs with all four libraries hidden"

# --- a model cell: loads them at first use ------------------------------------------------
MODEL_SCRIPT=$TESTS_DIR/model/cell-refusal-doc.json
start_model_server_file live "$MODEL_SCRIPT"
URL=$MS_URL
mkdir -p "$T/ld-model"
LD_DEBUG=files LD_DEBUG_OUTPUT=$T/ld-model/ld run_cab "$T/model.out" run-cell --tui cab-agent \
  --model scripted/cell-refusal-doc --task "$TASK" --host-rootfs --endpoint "$URL" --sweep-id "$SWEEP" --out "$OUT"
assert_rc 0 "a cab-agent cell against the scripted model exits 0"
CELL=$OUT/$SWEEP/cab-agent/scripted/cell-refusal-doc/$TASK
assert_json '[.outcome, .scorers.tokens.model_calls]' '["pass",3]' "$CELL/cell.json" \
  "the model cell passes (REFUSAL.md) with its three model calls through the proxy"
for lib in libcurl.so.4 libmicrohttpd.so.12; do
  assert_cmp "$(grep -l "file=$lib .*dynamically loaded by" "$T"/ld-model/* 2>/dev/null | wc -l)" -ge 1 \
    "the model cell's run-cell opened $lib at its first use (dlopen)"
done

# --- hidden: one line, 125, no cell -----------------------------------------------------
for hidden in curl:libcurl.so.4:libcurl4 mhd:libmicrohttpd.so.12:libmicrohttpd12; do
  IFS=: read -r dir lib pkg <<<"$hidden"
  LD_LIBRARY_PATH=$T/hide-$dir run_cab "$T/hidden-$dir.out" run-cell --tui cab-agent \
    --model scripted/cell-refusal-doc --task "$TASK" --host-rootfs --endpoint "$URL" \
    --sweep-id "$SWEEP-no-$dir" --out "$OUT"
  assert_rc 125 "$lib hidden: the model cell is exit 125"
  assert_eq "$(wc -l <"$T/hidden-$dir.out.err")" 1 "$lib hidden: one line on stderr"
  assert_match "$(cat "$T/hidden-$dir.out.err")" "^cab: .*$lib not found: apt-get install $pkg \(make deps\)" \
    "$lib hidden: the line names the library and what to install"
  [ -e "$OUT/$SWEEP-no-$dir" ] && fail "$lib hidden: a cell was written" || pass "$lib hidden: no cell written"
done

# --- SQLite hidden: results ls, one line, 125 ------------------------------------------
LD_LIBRARY_PATH=$T/hide-all run_cab "$T/ls-hidden.out" results ls "$OUT"
assert_rc 125 "libsqlite3.so.0 hidden: cab results ls is exit 125"
assert_eq "$(wc -l <"$T/ls-hidden.out.err")" 1 "libsqlite3.so.0 hidden: one line on stderr"
assert_match "$(cat "$T/ls-hidden.out.err")" '^cab: .*libsqlite3\.so\.0 not found: apt-get install libsqlite3-0 \(make deps\)' \
  "libsqlite3.so.0 hidden: the line names the library and what to install"
run_cab "$T/ls.out" results ls "$OUT"
assert_rc 0 "cab results ls on the same cells works with SQLite there"
finish
