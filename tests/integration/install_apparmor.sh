#!/bin/bash
# The AppArmor profile make install writes (sandbox/apparmor/cab.in, PREFIX
# filled in) parses with an apparmor_parser that knows abi 4.0 and the
# userns rule (AppArmor 4, Ubuntu 24.04's), without loading it into the
# kernel (-Q) or touching the cache (-K).  Skipped where there is no such
# parser: Debian 12's apparmor is 3.0, which knows neither.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
command -v make >/dev/null 2>&1 || skip "make is not installed (make deps)"
parser=$(command -v apparmor_parser 2>/dev/null || { [ -x /sbin/apparmor_parser ] && echo /sbin/apparmor_parser; })
[ -n "$parser" ] || skip "apparmor_parser is not installed (AppArmor 4 is needed to parse abi 4.0 and userns)"
version=$("$parser" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1)
case $version in
[4-9].* | [1-9][0-9].*) ;;
*) skip "apparmor_parser ${version:-of unknown version} predates AppArmor 4 (abi 4.0, the userns rule)" ;;
esac
[ -r /etc/apparmor.d/abi/4.0 ] || skip "apparmor_parser $version is here but /etc/apparmor.d/abi/4.0 is not"

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$T"' EXIT
(cd "$SRC_DIR" && make --no-print-directory BUILD="$CAB_BUILD" install DESTDIR="$T/stage" PREFIX=/usr/local) \
  >"$T/install.log" 2>&1 || bail "make install failed: $(tail -n 3 "$T/install.log" | tr '\n' '|')"
"$parser" -Q -K "$T/stage/etc/apparmor.d/cab" >"$T/parse.log" 2>&1
assert_eq "$?" 0 "apparmor_parser $version parses the installed profile ($(head -c 300 "$T/parse.log" | tr '\n' '|'))"
# What the kernel would be given names the profile "cab" (-N lists names).
assert_eq "$("$parser" -N "$T/stage/etc/apparmor.d/cab" 2>/dev/null)" cab "the profile is named cab"
finish
