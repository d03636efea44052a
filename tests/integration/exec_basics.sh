#!/bin/bash
# cab exec basics: running a command, stdio, --workdir, --hostname, --env,
# --user, --bind (rw and ro), --tmpfs-size, --tty, --result and cab doctor.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

W=$T/work
mkdir -p "$W"
echo from-host >"$W/in.txt"

# --- a command runs, output comes back ---------------------------------------
run_cab "$T/out" exec --rootfs "$R" -- /bin/echo hello world
assert_rc 0 "echo exits 0"
assert_eq "$(cat "$T/out")" "hello world" "stdout of the command reaches the caller"

# PATH lookup of a bare command name, through the shell.
run_cab "$T/out" exec --rootfs "$R" -- sh -c 'echo "$0 via sh"; echo to-stderr >&2' ok
assert_rc 0 "sh -c exits 0"
assert_eq "$(cat "$T/out")" "ok via sh" "bare command names are found on PATH"
assert_match "$(cat "$T/out.err")" "to-stderr" "stderr of the command reaches the caller"

# stdin is passed through.
say "+ printf 'line1\nline2\n' | cab exec --rootfs R -- /bin/wc -l"
out=$(printf 'line1\nline2\n' | timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" -- /bin/wc -l 2>"$T/err")
assert_eq "$?" 0 "wc exits 0"
assert_eq "$(printf %s "$out" | tr -d ' ')" 2 "stdin reaches the command"

# --- identity ----------------------------------------------------------------
run_cab "$T/id" exec --rootfs "$R" -- /bin/sh -c 'id -u; id -g; hostname'
assert_rc 0 "id exits 0"
assert_eq "$(sed -n 1p "$T/id")" 0 "default uid inside is 0"
assert_eq "$(sed -n 2p "$T/id")" 0 "default gid inside is 0"
assert_eq "$(sed -n 3p "$T/id")" cab "default hostname is cab"

run_cab "$T/id" exec --rootfs "$R" --user 1000:1000 -- /bin/sh -c 'id -u; id -g'
assert_rc 0 "--user 1000:1000 exits 0"
assert_eq "$(sed -n 1p "$T/id")" 1000 "--user 1000:1000 gives uid 1000"
assert_eq "$(sed -n 2p "$T/id")" 1000 "--user 1000:1000 gives gid 1000"

run_cab "$T/rep" exec --rootfs "$R" --user 1000:1000 -- /usr/bin/probe report
assert_rc 0 "probe as --user 1000:1000 exits 0"
assert_json '.uid' 1000 "$T/rep" "probe sees uid 1000"
assert_json '.gid' 1000 "$T/rep" "probe sees gid 1000"
assert_json '.cap_eff' 0000000000000000 "$T/rep" "a non-root --user has no effective capabilities (as Docker)"
assert_json '.no_new_privs' 1 "$T/rep" "NoNewPrivs 1 for --user too"

run_cab "$T/id" exec --rootfs "$R" --user 1234 -- /bin/sh -c 'id -u'
assert_rc 0 "--user 1234 (no gid) exits 0"
assert_eq "$(cat "$T/id")" 1234 "--user 1234 gives uid 1234"

run_cab "$T/id" exec --rootfs "$R" --hostname sandbox-7 -- /bin/hostname
assert_rc 0 "--hostname exits 0"
assert_eq "$(cat "$T/id")" sandbox-7 "--hostname sets the hostname"

# --- generated /etc files -------------------------------------------------------
run_cab "$T/etc" exec --rootfs "$R" --hostname h1 -- /bin/sh -c \
  'cat /etc/hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf'
assert_rc 0 "reading /etc exits 0"
assert_eq "$(sed -n 1p "$T/etc")" h1 "/etc/hostname is generated with the hostname"
assert_match "$(cat "$T/etc")" "127\.0\.0\.1[[:space:]]+.*localhost" "/etc/hosts maps localhost"
assert_no_match "$(cat "$T/etc")" "rootfs-sentinel" "the rootfs's own /etc files are replaced"
assert_eq "$(cat "$R/etc/hostname")" rootfs-sentinel "the rootfs's /etc/hostname is left untouched on disk"

# A rootfs without /etc at all still gets them.
make_busybox_rootfs "$T/bare" --bare && rmdir "$T/bare/etc"
run_cab "$T/bare.out" exec --rootfs "$T/bare" -- /bin/sh -c 'cat /etc/hostname; grep -q "^127.0.0.1.*localhost" /etc/hosts && echo hosts; test -e /etc/resolv.conf && echo resolv'
assert_rc 0 "a rootfs without /etc runs"
assert_eq "$(tr '\n' ' ' <"$T/bare.out")" "cab hosts resolv " "a rootfs without /etc gets hostname, hosts and resolv.conf"

# --- environment ----------------------------------------------------------------
say "+ (env SECRET_HOST_VAR=1 TERM=xterm-test) cab exec --env FOO=bar --env EMPTY= -- probe env"
SECRET_HOST_VAR=1 TERM=xterm-test timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" \
  --env FOO=bar --env 'SPACED=a b' -- /usr/bin/probe env >"$T/env" 2>"$T/env.err"
assert_eq "$?" 0 "probe env exits 0"
assert_json '.FOO' bar "$T/env" "--env FOO=bar is passed"
assert_json '.SPACED' 'a b' "$T/env" "--env values keep spaces"
assert_json 'keys' '["FOO","HOME","PATH","SPACED","TERM"]' "$T/env" "env is only PATH HOME TERM plus --env"
assert_json '.SECRET_HOST_VAR' null "$T/env" "host variables do not leak"
assert_jq '.PATH | test("(^|:)/bin(:|$)")' "$T/env" "PATH includes /bin"

# --- --workdir and --bind -------------------------------------------------------
run_cab "$T/pwd" exec --rootfs "$R" --bind "$W:/work" --workdir /work -- /bin/sh -c \
  'pwd; cat in.txt; echo from-sandbox > out.txt'
assert_rc 0 "bind + workdir exits 0"
assert_eq "$(sed -n 1p "$T/pwd")" /work "--workdir sets the working directory"
assert_eq "$(sed -n 2p "$T/pwd")" from-host "a bind mount shows host files"
assert_eq "$(cat "$W/out.txt" 2>/dev/null)" from-sandbox "writes to a rw bind reach the host"

mkdir -p "$T/ro"
echo ro-data >"$T/ro/data"
run_cab "$T/ro.json" exec --rootfs "$R" --bind "$T/ro:/mnt/ro:ro" --bind "$W:/work" -- \
  /usr/bin/probe write /mnt/ro/new-file
assert_rc 1 "writing into a :ro bind fails"
assert_errno '.result' EROFS "$T/ro.json" "a :ro bind gives EROFS"
assert_eq "$(ls "$T/ro")" data "nothing was created in the :ro source"
run_cab "$T/ro2" exec --rootfs "$R" --bind "$T/ro:/mnt/ro:ro" -- /bin/cat /mnt/ro/data
assert_eq "$(cat "$T/ro2")" ro-data "a :ro bind is readable"

# A bind onto a path that does not exist in the (read-only) rootfs.
run_cab "$T/deep" exec --rootfs "$R" --bind "$W:/opt/deep/work" -- /bin/cat /opt/deep/work/in.txt
assert_rc 0 "bind onto a missing mount point exits 0"
assert_eq "$(cat "$T/deep")" from-host "bind onto a missing mount point works"

# A single file bind.
run_cab "$T/fb" exec --rootfs "$R" --bind "$W/in.txt:/etc/motd:ro" -- /bin/cat /etc/motd
assert_eq "$(cat "$T/fb")" from-host "a file can be bind-mounted"

# --- /tmp -----------------------------------------------------------------------
run_cab "$T/tmp" exec --rootfs "$R" --tmpfs-size 8M -- /usr/bin/probe report
assert_rc 0 "probe with --tmpfs-size exits 0"
assert_json '.tmp_is_tmpfs' true "$T/tmp" "/tmp is a tmpfs"
assert_json '.tmp_writable' ok "$T/tmp" "/tmp is writable"
assert_json '.tmp_size_bytes' 8388608 "$T/tmp" "--tmpfs-size 8M sizes /tmp"

run_cab "$T/full" exec --rootfs "$R" --tmpfs-size 1M -- /bin/sh -c \
  'dd if=/dev/zero of=/tmp/big bs=1024 count=4096 2>/dev/null; echo rc=$?'
assert_eq "$(cat "$T/full")" "rc=1" "writing past --tmpfs-size fails"

# --- --tty ----------------------------------------------------------------------
run_cab "$T/tty" exec --rootfs "$R" --tty -- /usr/bin/probe report
assert_rc 0 "probe under --tty exits 0"
tr -d '\r' <"$T/tty" >"$T/tty.json"
assert_json '.stdout_tty' true "$T/tty.json" "--tty gives the command a terminal on stdout"
assert_json '.stdin_tty' true "$T/tty.json" "--tty gives the command a terminal on stdin"
run_cab "$T/notty" exec --rootfs "$R" -- /usr/bin/probe report
assert_json '.stdout_tty' false "$T/notty" "no terminal without --tty"

# --- --result -------------------------------------------------------------------
run_cab "$T/o" exec --rootfs "$R" --result "$T/result.json" -- /bin/sh -c 'exit 4'
assert_rc 4 "exit code with --result"
assert_json_valid "$T/result.json" "--result writes JSON"
assert_json '[ "exit_code","signal","timed_out","oom_killed","wall_ms","user_ms","sys_ms","peak_memory_bytes","limits" ] - keys' \
  '[]' "$T/result.json" "--result has every key"
assert_json '.limits | keys' '["cpu","memory","pids"]' "$T/result.json" "--result limits has memory, pids, cpu"
assert_json '.exit_code' 4 "$T/result.json" "--result exit_code"
assert_json '.timed_out' false "$T/result.json" "--result timed_out false"
assert_json '.oom_killed' false "$T/result.json" "--result oom_killed false"
assert_json '[.limits.memory, .limits.pids, .limits.cpu]' '["none","none","none"]' "$T/result.json" \
  "no limit asked: every mechanism is none"
assert_jq '(.wall_ms|type) == "number" and .wall_ms >= 0 and .wall_ms < 30000' "$T/result.json" "--result wall_ms is a sane number"

# --- cab doctor -----------------------------------------------------------------
run_cab "$T/doctor" doctor
assert_rc 0 "cab doctor exits 0"
for word in userns overlay cgroup seccomp openat2 landlock; do
  assert_match "$(tr '[:upper:]' '[:lower:]' <"$T/doctor")" "$word" "cab doctor reports $word"
done

finish
