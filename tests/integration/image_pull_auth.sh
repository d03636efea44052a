#!/bin/bash
# cab pull from registries that want credentials: docker-registry with
# htpasswd (Basic), and one behind a bearer-token issuer written for the
# tests (tests/registry/token-issuer.c: RS256 JWTs the registry verifies
# against its rootcertbundle).  Credentials come from ~/.docker/config.json,
# $DOCKER_CONFIG or $REGISTRY_AUTH_FILE ("auth": base64 user:password).
# Blob downloads redirected to another origin ("blob storage") must not
# carry the registry's token.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/registry/registry.sh"
reg_setup
command -v htpasswd >/dev/null 2>&1 || skip "htpasswd not installed (apache2-utils; make deps)"
reg_tools
reg_image "$T/layout"
reg_start plain "$T/storage"
reg_push "$T/layout:latest" "$REG_PORT" cab/busybox:latest
MDIGEST=$(jq -r '.manifests[0].digest' "$T/layout/index.json")

auth_file() { # FILE HOST USER PASSWORD
  mkdir -p "$(dirname "$1")"
  printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$2" "$(printf '%s:%s' "$3" "$4" | base64 -w0)" >"$1"
}
fresh() { export CAB_HOME=$T/home-$1; }

# --- htpasswd (Basic) -------------------------------------------------------------------
htpasswd -Bbn bob 'pw with spaces' >"$T/htpasswd" 2>/dev/null || bail "htpasswd failed"
printf 'auth:\n  htpasswd:\n    realm: cab-test\n    path: %s\n' "$T/htpasswd" >"$T/auth-basic.yml"
reg_start basic "$T/storage" "$T/auth-basic.yml"
B=127.0.0.1:$REG_PORT
fresh basic-none
run_cab "$T/o" pull --insecure "$B/cab/busybox:latest"
assert_eq "$RC" 125 "basic: no credentials -> 125"
assert_match "$(cat "$T/o.err")" "no credentials for $B" "basic: the error says credentials are missing"
assert_eq "$(store_blob_count)" 0 "basic: nothing stored"
fresh basic-file
auth_file "$T/auth.json" "$B" bob 'pw with spaces'
REGISTRY_AUTH_FILE=$T/auth.json run_cab "$T/o" pull --insecure "$B/cab/busybox:latest"
assert_eq "$RC" 0 "basic: credentials from \$REGISTRY_AUTH_FILE"
assert_eq "$(cat "$T/o")" "$B/cab/busybox@$MDIGEST" "basic: pinned"
fresh basic-home
auth_file "$T/home/.docker/config.json" "$B" bob 'pw with spaces'
HOME=$T/home DOCKER_CONFIG= REGISTRY_AUTH_FILE= run_cab "$T/o" pull --insecure "$B/cab/busybox:latest"
assert_eq "$RC" 0 "basic: credentials from ~/.docker/config.json"
fresh basic-wrong
auth_file "$T/wrong.json" "$B" bob nope
REGISTRY_AUTH_FILE=$T/wrong.json run_cab "$T/o" pull --insecure "$B/cab/busybox:latest"
assert_eq "$RC" 125 "basic: a wrong password -> 125"
assert_match "$(cat "$T/o.err")" "unauthorized.*$T/wrong.json" "basic: the error names the credentials' source"
assert_no_match "$(cat "$T/o.err")" "nope" "basic: the password is not printed"
assert_eq "$(store_blob_count)" 0 "basic: nothing stored after a refusal"

# --- bearer tokens -------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/issuer.key" -out "$T/issuer.crt" -days 2 \
  -subj /CN=cab-test-issuer >/dev/null 2>&1 || bail "openssl could not make the issuer's key"
"$T/bin/token-issuer" --key "$T/issuer.key" --cert "$T/issuer.crt" --issuer cab-test-issuer \
  --service cab-test-registry --port-file "$T/issuer.port" --log "$T/issuer.log" \
  --user alice --password 's3cret!' &
at_exit "kill $!"
for i in $(seq 1 100); do [ -s "$T/issuer.port" ] && break; sleep 0.05; done
ISSUER=127.0.0.1:$(cat "$T/issuer.port")
printf 'auth:\n  token:\n    realm: http://%s/token\n    service: cab-test-registry\n    issuer: cab-test-issuer\n    rootcertbundle: %s\n' \
  "$ISSUER" "$T/issuer.crt" >"$T/auth-token.yml"
reg_start token "$T/storage" "$T/auth-token.yml"
TOKEN_PORT=$REG_PORT
K=127.0.0.1:$TOKEN_PORT
fresh token-none
run_cab "$T/o" pull --insecure "$K/cab/busybox:latest"
assert_eq "$RC" 125 "token: anonymous is refused by the issuer -> 125"
assert_match "$(cat "$T/o.err")" "token from http://$ISSUER/token" "token: the error names the token server"
assert_match "$(cat "$T/issuer.log")" "scope=repository:cab/busybox:pull user=anonymous granted=no" \
  "token: cab asked the realm for a pull scope"
fresh token-ok
auth_file "$T/docker-config/config.json" "$K" alice 's3cret!'
DOCKER_CONFIG=$T/docker-config REGISTRY_AUTH_FILE= run_cab "$T/o" pull --insecure "$K/cab/busybox:latest"
assert_eq "$RC" 0 "token: credentials from \$DOCKER_CONFIG/config.json"
assert_eq "$(cat "$T/o")" "$K/cab/busybox@$MDIGEST" "token: pinned"
assert_match "$(cat "$T/issuer.log")" "user=alice granted=.*pull" "token: the issuer granted pull to alice"
run_cab "$T/o" inspect "$K/cab/busybox:latest"
assert_eq "$RC" 0 "token: the image is in the store"
fresh token-digest
DOCKER_CONFIG=$T/docker-config REGISTRY_AUTH_FILE= run_cab "$T/o" pull --insecure "$K/cab/busybox@$MDIGEST"
assert_eq "$RC" 0 "token: pull by digest"
fresh token-wrong
auth_file "$T/wrong-token.json" "$K" alice wrong
REGISTRY_AUTH_FILE=$T/wrong-token.json run_cab "$T/o" pull --insecure "$K/cab/busybox:latest"
assert_eq "$RC" 125 "token: wrong credentials -> 125"
assert_match "$(cat "$T/o.err")" "rejected the credentials" "token: the error says the issuer rejected them"

# --- redirects to blob storage: the token stays home -------------------------------------------
reg_proxy "$TOKEN_PORT" "$T/redirect.log" --redirect-blobs "$T/storage"
P=127.0.0.1:$PROXY_PORT
fresh redirect
auth_file "$T/proxy-auth.json" "$P" alice 's3cret!'
REGISTRY_AUTH_FILE=$T/proxy-auth.json run_cab "$T/o" pull --insecure "$P/cab/busybox:latest"
assert_eq "$RC" 0 "redirect: a pull through blob-storage redirects"
assert_eq "$(cat "$T/o")" "$P/cab/busybox@$MDIGEST" "redirect: pinned"
nstorage=$(grep -c '^storage GET' "$T/redirect.log")
NLAYERS=$(jq '.layers | length' "$T/layout/blobs/sha256/${MDIGEST#sha256:}")
assert_eq "$nstorage" $((NLAYERS + 1)) "redirect: every blob came from the storage origin"
assert_eq "$(grep '^storage ' "$T/redirect.log" | grep -c 'auth=yes')" 0 \
  "redirect: no Authorization header reached the storage origin"
assert_cmp "$(grep '^main GET /v2/cab/busybox/blobs/' "$T/redirect.log" | grep -c 'auth=yes')" -ge 1 \
  "redirect: the registry itself got the token"
assert_no_match "$(cat "$T/o.err" 2>/dev/null)" "s3cr3t" "redirect: the signed URL's query is never printed"
finish
