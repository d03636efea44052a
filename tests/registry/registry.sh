# Helpers for cab's image tests: a real registry (Debian's docker-registry)
# on a loopback port, the busybox test image, and the two test tools in this
# directory (token-issuer, regproxy).  Source after tests/lib.sh:
#
#   . "$(dirname "$0")/../registry/registry.sh"
#   reg_setup                         # like setup, without a rootfs; skips
#                                     # unless the tools are installed
#   reg_image "$T/layout"             # umoci-built busybox OCI layout
#   reg_start plain "$T/storage"      # sets REG_PORT (and REG_PID)
#   reg_push "$T/layout:latest" "$REG_PORT" bb:latest
#   reg_tools                         # builds $T/bin/token-issuer, $T/bin/regproxy
#
# Everything listens on 127.0.0.1 only and is killed (by pid) at exit.
# shellcheck shell=bash

REG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# setup without the busybox rootfs (image tests bring their own image).
reg_setup() {
  command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
  [ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
  T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
  chmod 0755 "$T"
  trap _cleanup EXIT
  trap 'exit 130' INT TERM
  say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"
  reg_require
}

reg_require() {
  local tool
  for tool in docker-registry skopeo umoci jq openssl; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (make deps)"
  done
  command -v "${CC:-cc}" >/dev/null 2>&1 || skip "no C compiler for the test tools"
  export CAB_HOME=$T/cab-home
  # No credentials unless a test provides them.
  export REGISTRY_AUTH_FILE=$T/no-auth.json DOCKER_CONFIG=$T/no-docker-config
  unset XDG_RUNTIME_DIR CAB_INSECURE_REGISTRIES
  # Tests talk to plain-http registries on 127.0.0.1; nothing else.
  unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
}

# reg_image DIR [TAG]: the shared multi-layer busybox image (tests/images).
reg_image() {
  bash "$TESTS_DIR/images/busybox-image.sh" "$1" "${2:-latest}" >"$T/image-build.log" 2>&1 ||
    bail "busybox-image.sh failed: $(tail -n 3 "$T/image-build.log" | tr '\n' ' ')"
}

reg_tools() {
  mkdir -p "$T/bin"
  [ -x "$T/bin/token-issuer" ] ||
    "${CC:-cc}" -O1 -o "$T/bin/token-issuer" "$REG_DIR/token-issuer.c" -lcrypto ||
    bail "cannot build token-issuer"
  [ -x "$T/bin/regproxy" ] || "${CC:-cc}" -O1 -o "$T/bin/regproxy" "$REG_DIR/regproxy.c" ||
    bail "cannot build regproxy"
}

_reg_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# reg_start NAME STORAGE_DIR [AUTH_YAML_FILE]: start docker-registry; sets
# REG_PORT and REG_PID.  AUTH_YAML_FILE holds an "auth:" section.
reg_start() {
  local name=$1 storage=$2 auth=${3:-} try port cfg
  mkdir -p "$storage"
  for try in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 7 + $$ + try * 131) % 12000))
    _reg_listening "$port" && continue
    cfg=$T/registry-$name.yml
    {
      printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n'
      printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$storage"
      printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
      [ -n "$auth" ] && cat "$auth"
    } >"$cfg"
    # docker-registry takes REGISTRY_* variables as configuration.
    env -u REGISTRY_AUTH_FILE docker-registry serve "$cfg" >"$T/registry-$name.log" 2>&1 &
    REG_PID=$!
    at_exit "kill $REG_PID"
    local i
    for i in $(seq 1 100); do
      if _reg_listening "$port"; then
        REG_PORT=$port
        say "# registry $name on 127.0.0.1:$port (pid $REG_PID)"
        return 0
      fi
      kill -0 "$REG_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$REG_PID" 2>/dev/null
    wait "$REG_PID" 2>/dev/null
  done
  bail "docker-registry $name did not start: $(tail -n 3 "$T/registry-$name.log" | tr '\n' ' ')"
}

# reg_push SRC_LAYOUT:TAG PORT REPO:TAG [skopeo options...]
reg_push() {
  local src=$1 port=$2 dst=$3
  shift 3
  skopeo --insecure-policy copy -q --dest-tls-verify=false "$@" "oci:$src" \
    "docker://127.0.0.1:$port/$dst" >"$T/push.log" 2>&1 ||
    bail "skopeo push to 127.0.0.1:$port/$dst failed: $(tail -n 3 "$T/push.log" | tr '\n' ' ')"
}

# reg_proxy UPSTREAM_PORT LOG [regproxy options...]: sets PROXY_PORT, PROXY_STORAGE_PORT
reg_proxy() {
  local up=$1 log=$2 pf
  shift 2
  pf=$T/proxy.$RANDOM.port
  "$T/bin/regproxy" --upstream "$up" --port-file "$pf" --log "$log" "$@" &
  local pid=$!
  at_exit "kill $pid"
  local i
  for i in $(seq 1 100); do
    [ -s "$pf" ] && break
    sleep 0.05
  done
  [ -s "$pf" ] || bail "regproxy did not start"
  read -r PROXY_PORT PROXY_STORAGE_PORT <"$pf"
}

# The store holds no blob and no staging leftovers.
store_blob_count() { find "$CAB_HOME/oci/blobs/sha256" -type f 2>/dev/null | wc -l; }
store_tmp_count() { find "$CAB_HOME/tmp" -mindepth 1 2>/dev/null | wc -l; }
store_ref_count() { jq '.manifests | length' "$CAB_HOME/oci/index.json"; }

# One line of stderr, naming what it must.
assert_one_line_error() {
  local file=$1 msg=$2
  assert_eq "$(wc -l <"$file")" 1 "$msg: exactly one error line"
}
