#!/bin/bash
# The malicious-layer corpus (tests/images/malicious-layers.sh) against
# cab_layer_apply (through tests/tools/layer-apply): each case is rejected
# with the expected message or neutralised as its expectation says, and
# nothing outside the target changes: a canary directory beside the target
# is compared byte for byte before and after every case, host files named
# by the cases are checked, and the target stays a directory.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/tools/unpack-lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
chmod 0755 "$T"
trap _cleanup EXIT
say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"

LA=$(need_tool layer-apply) || bail "cannot build layer-apply"
MKTAR=$(need_tool mktar) || bail "cannot build mktar"
C=$T/corpus
MKTAR=$MKTAR bash "$TESTS_DIR/images/malicious-layers.sh" "$C" >"$T/gen.out" 2>&1 ||
  bail "malicious-layers.sh failed: $(tail -n 5 "$T/gen.out")"
say "# $(cat "$T/gen.out")"
read -r -a LIMITS <<<"$(sed -n 's/^#limits //p' "$C/expectations.txt")"

# The canary: beside the target, with a bit of everything.
CAN=$T/canary
mkdir -p "$CAN/sub" "$CAN/etc"
echo 'canary file' >"$CAN/file"
echo 'canary passwd' >"$CAN/etc/passwd"
echo 'canary secret' >"$CAN/sub/secret"
chmod 0600 "$CAN/sub/secret"
ln -s ../file "$CAN/sub/link"
ln "$CAN/file" "$CAN/hardlink"
touch -d '2020-02-02 02:02:02' "$CAN/file" "$CAN/sub"
O=$T/out
mkdir -p "$O"
canary_before=$(tree_snapshot "$CAN")
host_before=$(stat -c '%h %s %Y %a %U' /etc/passwd; sha256sum /etc/passwd)
t_before=$(ls -A "$T")
escape_re='^(cab-escape|cab-chain|cab-root|cab-through|pwn|pwned)'
escape_dirs=("/" "/etc" "/tmp" "$T" "$(dirname "$T")")

check() { # check TARGET CHECK STATSFILE CASE
  local tg=$1 c=$2 stats=$3 name=$4 key val p want
  case $c in
  f:*) p=${c#f:}; [ -f "$tg/$p" ] && [ ! -L "$tg/$p" ] && pass "$name: $p is a file" || fail "$name: $p is not a regular file" ;;
  d:*) p=${c#d:}; [ -d "$tg/$p" ] && [ ! -L "$tg/$p" ] && pass "$name: $p is a directory" || fail "$name: $p is not a directory" ;;
  p:*) p=${c#p:}; [ -p "$tg/$p" ] && pass "$name: $p is a FIFO" || fail "$name: $p is not a FIFO" ;;
  absent:*) p=${c#absent:}; [ ! -e "$tg/$p" ] && [ ! -L "$tg/$p" ] && pass "$name: $p absent" || fail "$name: $p exists" ;;
  hostabsent:*) p=${c#hostabsent:}; [ ! -e "$p" ] && pass "$name: host $p absent" || fail "$name: host $p exists!" ;;
  l:*) p=${c#l:}; want=${p#*=}; p=${p%%=*}
    assert_eq "$(readlink "$tg/$p" 2>/dev/null)" "$want" "$name: $p -> $want" ;;
  content:*) p=${c#content:}; want=${p#*=}; p=${p%%=*}
    assert_eq "$(cat "$tg/$p" 2>/dev/null)" "$want" "$name: content of $p" ;;
  mode:*) p=${c#mode:}; want=${p#*=}; p=${p%%=*}
    assert_eq "$(stat -c %a "$tg/$p" 2>/dev/null)" "$want" "$name: mode of $p" ;;
  stat:*'>='*) key=${c#stat:}; want=${key#*>=}; key=${key%%>=*}
    val=$(jget ".$key" "$stats"); assert_cmp "${val:-x}" -ge "$want" "$name: stats.$key" ;;
  stat:*) key=${c#stat:}; want=${key#*=}; key=${key%%=*}
    assert_eq "$(jget ".$key" "$stats")" "$want" "$name: stats.$key" ;;
  *) fail "$name: unknown check '$c'" ;;
  esac
}

ncases=0
while IFS='|' read -r name layers outcome expect what; do
  case $name in '' | '#'*) continue ;; esac
  ncases=$((ncases + 1))
  say "# case $name ($outcome): $what"
  tg=$T/target
  mkdir -m 0755 "$tg"
  files=()
  IFS=, read -r -a ls_ <<<"$layers"
  for l in "${ls_[@]}"; do files+=("$C/$l"); done
  timeout -k 5 60 "$LA" "${LIMITS[@]}" --stats "$tg" "${files[@]}" >"$O/stats" 2>"$O/err"
  rc=$?
  err=$(cat "$O/err")
  [ -n "$err" ] && say "  stderr: $err"
  if [ "$outcome" = rejected ]; then
    assert_ne "$rc" 0 "$name: rejected"
    assert_match "$err" "$expect" "$name: message"
    assert_no_match "$err" "Killed|Segmentation|AddressSanitizer|runtime error" "$name: no crash"
  else
    assert_eq "$rc" 0 "$name: applied (neutralised)"
    IFS=';' read -r -a checks <<<"$expect"
    for c in "${checks[@]}"; do check "$tg" "$c" "$O/stats" "$name"; done
  fi
  # Whatever happened: the target is still a plain directory, the canary,
  # the host's /etc/passwd and the directories around are untouched.
  [ -d "$tg" ] && [ ! -L "$tg" ] && pass "$name: target still a directory" ||
    fail "$name: target is no longer a directory"
  assert_eq "$(tree_snapshot "$CAN")" "$canary_before" "$name: canary unchanged"
  assert_eq "$(stat -c '%h %s %Y %a %U' /etc/passwd; sha256sum /etc/passwd)" "$host_before" \
    "$name: host /etc/passwd unchanged"
  for d in "${escape_dirs[@]}"; do
    leaked=$(ls -A "$d" 2>/dev/null | grep -E "$escape_re" || true)
    assert_eq "$leaked" "" "$name: nothing written into $d"
  done
  rm_tree "$tg"
  assert_eq "$(ls -A "$T")" "$t_before" "$name: nothing new beside the target"
done <"$C/expectations.txt"

assert_cmp "$ncases" -ge 30 "corpus size"
finish
