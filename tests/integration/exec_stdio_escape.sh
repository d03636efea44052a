#!/bin/bash
# The caller's stdin, stdout and stderr are no way out of the sandbox
# (issue 10, finding 9).  An fd is also a path: /proc/self/fd/N re-opens its
# file with the sandbox's own access, and walks on from a directory.
#   * a directory as stdin: /proc/self/fd/0/.. reached its parent on the
#     host, where the command created a file; now fd 0 is the sandbox's
#     /dev/null and the host directory stays untouched;
#   * an O_PATH fd as stdin (a symlink to a host directory, opened by a
#     generated helper with O_PATH|O_NOFOLLOW): likewise /dev/null;
#   * a read-only regular file as stdin (mode 0444): re-opened for writing
#     through /proc/self/fd/0 it was rewritten; now the command reads it
#     through a pipe the supervisor feeds (/dev/stdin works), and a re-open
#     gives that pipe: the file is unchanged;
#   * a regular file as stdout and stderr (2>&1): the command's output all
#     lands there, in order (/dev/stdout and /dev/stderr work), but a
#     re-open gives the relay's pipe: the command could rewrite the file's
#     first bytes before, now it can only append;
#   * a pipe as stdout still passes as it is;
#   * --result's "defences" says which of these happened, and cab exec
#     --seccomp verifier --read-only-proc reports the verifier's defences.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

H=$T/host
mkdir -p "$H/parent/dir"
chmod -R 0777 "$H"

# --- a directory as stdin -------------------------------------------------------
say "+ cab exec --rootfs R -- sh -c 'touch /proc/self/fd/0/../escaped ...' < $H/parent/dir"
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" --result "$T/dir.result" -- /bin/sh -c \
  'touch /proc/self/fd/0/../escaped /proc/self/fd/0/inside 2>/dev/null; readlink /proc/self/fd/0; exit 0' \
  <"$H/parent/dir" >"$T/dir.out" 2>"$T/dir.err"
assert_eq "$?" 0 "cab exec with a directory as stdin exits 0"
assert_json '.defences | [.seccomp, .proc, .stdio_nulled, .stdio_relayed]' '["default","read-write",true,true]' \
  "$T/dir.result" "--result says stdin was replaced by /dev/null and stdout relayed"
assert_eq "$(ls -A "$H/parent" | tr '\n' ' ')" "dir " "nothing was created beside the host directory"
assert_eq "$(ls -A "$H/parent/dir" | wc -l)" 0 "nothing was created in the host directory"
assert_eq "$(cat "$T/dir.out")" /dev/null "the command's stdin is /dev/null"
assert_eq "$(grep -c 'replaced by /dev/null' "$T/dir.err")" 1 "cab says so in one warning line"

# --- an O_PATH fd as stdin ----------------------------------------------------------
# A symlink to the host directory, opened O_PATH|O_NOFOLLOW and exec'd onto
# fd 0 by a tiny generated helper (no shell can open an O_PATH fd).
command -v cc >/dev/null 2>&1 || bail "no C compiler to build the O_PATH helper"
cat >"$T/opath.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int fd = open(argv[1], O_PATH | O_NOFOLLOW);
  if (fd < 0 || dup2(fd, 0) < 0) { perror(argv[1]); return 2; }
  execv(argv[2], argv + 2);
  perror(argv[2]);
  return 2;
}
EOF
cc -o "$T/opath" "$T/opath.c" || bail "cannot build the O_PATH helper"
ln -s "$H/parent/dir" "$H/link"
say "+ opath $H/link cab exec --rootfs R -- sh -c '...'"
timeout -k 5 "$CAB_TEST_TIMEOUT" "$T/opath" "$H/link" "$CAB" exec --rootfs "$R" -- /bin/sh -c \
  'touch /proc/self/fd/0/../escaped /proc/self/fd/0/inside 2>/dev/null; readlink /proc/self/fd/0; exit 0' \
  >"$T/opath.out" 2>"$T/opath.err"
assert_eq "$?" 0 "cab exec with an O_PATH fd as stdin exits 0"
assert_eq "$(ls -A "$H/parent" | tr '\n' ' ')" "dir " "nothing was created through the O_PATH fd"
assert_eq "$(ls -A "$H/parent/dir" | wc -l)" 0 "nothing was created in the directory behind it"
assert_eq "$(cat "$T/opath.out")" /dev/null "the command's stdin is /dev/null"

# --- a read-only regular file as stdin ------------------------------------------
printf 'original\n' >"$H/input"
chmod 0444 "$H/input"
say "+ cab exec --rootfs R -- sh -c 'cat /dev/stdin; echo FORGED >>/proc/self/fd/0' < $H/input"
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" -- /bin/sh -c \
  'cat /dev/stdin; readlink /proc/self/fd/0; echo FORGED >>/proc/self/fd/0 2>/dev/null; exit 0' \
  <"$H/input" >"$T/file.out" 2>"$T/file.err"
assert_eq "$?" 0 "cab exec with a file as stdin exits 0"
assert_eq "$(cat "$H/input")" original "the host file given as stdin is unchanged"
assert_eq "$(head -n 1 "$T/file.out")" original "the command read the file's content (through /dev/stdin)"
assert_match "$(sed -n 2p "$T/file.out")" '^pipe:' "the command's stdin is a pipe, not the file"

# A large stdin arrives whole, and the command may stop reading early.
seq 1 200000 >"$T/big"
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" -- /bin/sh -c 'wc -l' <"$T/big" >"$T/big.out" 2>&1
assert_eq "$(tr -d ' ' <"$T/big.out")" 200000 "a 1.2 MB stdin arrives whole"
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" -- /bin/sh -c 'head -n 1' <"$T/big" >"$T/head.out" 2>&1
assert_eq "$?:$(cat "$T/head.out")" 0:1 "a command that stops reading stdin early ends normally"

# --- a regular file as stdout and stderr ------------------------------------------
# Re-opening stdout (/proc/self/fd/1, /dev/stdout) gives the relay's pipe:
# what it writes is appended; the file's first bytes are never rewritten.
say "+ cab exec --rootfs R -- sh -c '...' > out 2>&1"
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" -- /bin/sh -c \
  'echo one; echo two >&2; echo three
   echo four >/dev/stdout; echo five >/dev/stderr
   printf "six\n" 1<>/proc/self/fd/1
   readlink /proc/self/fd/1
   seq 1 100000 | tail -n 1' >"$T/out.txt" 2>&1 </dev/null
assert_eq "$?" 0 "cab exec with stdout and stderr on one file exits 0"
assert_eq "$(head -n 6 "$T/out.txt" | tr '\n' ' ')" "one two three four five six " \
  "stdout and stderr land in the file, in order; /dev/stdout and a re-open append"
assert_match "$(sed -n 7p "$T/out.txt")" '^pipe:' "the command's stdout is a pipe, not the file"
assert_eq "$(tail -n 1 "$T/out.txt")" 100000 "output printed last is all there"

# The same on the host's root, where root's sandbox runs as another host id:
# the relay's pipe is still the command's own to re-open.
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --host-rootfs -- /bin/sh -c \
  'echo one; echo two >/dev/stdout; echo three >/dev/stderr' >"$T/host.txt" 2>&1 </dev/null
assert_eq "$?:$(tr '\n' ' ' <"$T/host.txt")" "0:one two three " "--host-rootfs: /dev/stdout and /dev/stderr open the relay"

# --- a pipe passes as it is -------------------------------------------------------
out=$(timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" --result "$T/pipe.result" -- \
  /bin/sh -c 'readlink /proc/self/fd/1' </dev/null 2>&1 | cat)
assert_match "$out" '^pipe:' "a pipe as stdout is passed as it is"
assert_json '.defences | [.stdio_nulled, .stdio_relayed]' '[false,false]' "$T/pipe.result" \
  "--result says nothing was relayed or replaced"

# --- the verifier's defences, from cab exec -----------------------------------------
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" --seccomp verifier --read-only-proc \
  --result "$T/ver.result" -- /bin/sh -c 'echo x >/proc/self/comm' </dev/null >"$T/ver.out" 2>&1
assert_match "$(cat "$T/ver.out")" 'Read-only file system' "--read-only-proc: /proc refuses writes"
assert_json '.defences | [.seccomp, .proc]' '["verifier","read-only"]' "$T/ver.result" \
  "--result records the verifier's seccomp profile and the read-only /proc"

finish
