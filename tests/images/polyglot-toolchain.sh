#!/bin/bash
# Install what the imported Aider polyglot tasks' verifiers need offline
# into PREFIX (the verifiers look in /opt/aider-polyglot):
#
#   tests/images/polyglot-toolchain.sh [PREFIX [AT]]   (default /opt/aider-polyglot)
#
# AT (default PREFIX) is where the tree is seen when the verifier runs: an
# image's build puts it in a directory of its own and AT is /opt/aider-polyglot.
#
#   PREFIX/javascript/node_modules   npm ci of tests/images/polyglot/javascript
#                                    (jest 29 and babel, the exercises' shared
#                                    devDependencies, exact versions, from the lock)
#   PREFIX/rust/vendor               cargo vendor --versioned-dirs of the crates in
#                                    tests/images/polyglot/rust/Cargo.lock
#   PREFIX/rust/cargo-config.toml    the source replacement the verifier passes
#                                    to `cargo test --offline --config FILE`
#   PREFIX/java/*.jar                JUnit 5's console launcher (standalone: the
#                                    platform, Jupiter and Vintage) and AssertJ,
#                                    from Maven Central, checked against the
#                                    sha256 below: the exercises' tests compile
#                                    with javac and run without Gradle
#
# Cached: PREFIX/.cab-key holds a hash of this script and the four manifest
# and lock files; a re-run with the same key does nothing.  A build goes into
# a temporary directory beside PREFIX, made world-readable, and replaces
# PREFIX by rename, so PREFIX is the old tree or the new one, never half of
# one.  Needs npm and a cargo that speaks crates.io's sparse index (>= 1.68:
# $CARGO, cargo on PATH or ~/.cargo/bin/cargo); without such a cargo the
# Rust part is left out with a warning (the JavaScript part still installs).
set -euo pipefail
export LC_ALL=C

prefix=${1:-/opt/aider-polyglot}
at=${2:-$prefix}
self=$(readlink -f "${BASH_SOURCE[0]}")
inputs=$(dirname "$self")/polyglot

key=$(cat "$self" "$inputs/javascript/package.json" "$inputs/javascript/package-lock.json" \
  "$inputs/rust/Cargo.toml" "$inputs/rust/Cargo.lock" <(echo "at=$at") | sha256sum | cut -c1-16)
parent=$(dirname "$prefix")
mkdir -p "$parent"
exec 9>"$parent/.$(basename "$prefix").lock"
flock 9
if [ "$(cat "$prefix/.cab-key" 2>/dev/null)" = "$key" ]; then
  echo "polyglot-toolchain.sh: $prefix is up to date (key $key)"
  exit 0
fi

command -v npm >/dev/null || { echo "polyglot-toolchain.sh: npm not found (apt-get install npm)" >&2; exit 1; }
cargo_sparse() {
  local c v
  for c in ${CARGO:-} "$(command -v cargo || :)" "$HOME/.cargo/bin/cargo"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    v=$("$c" --version 2>/dev/null | awk '{split($2, a, "."); print a[1] * 1000 + a[2]}') || continue
    [ -n "$v" ] && [ "$v" -ge 1068 ] && { echo "$c"; return 0; }
  done
  return 1
}

# Maven Central: path and sha256 (the exercises' build.gradle asks for
# junit-jupiter 5.10 and assertj-core 3.25).
JARS=(
  "org/junit/platform/junit-platform-console-standalone/1.10.2/junit-platform-console-standalone-1.10.2.jar a1de557821293ce903c213c694165fff532cf92081bac4238b9e05b35f04f43f"
  "org/assertj/assertj-core/3.25.1/assertj-core-3.25.1.jar 620da4e4de03108c2f412ec17a7ed44b0112dc65e181bd0732dc96fa3b65356f"
)
MAVEN=${CAB_MAVEN_CENTRAL:-https://repo1.maven.org/maven2}

start=$(date +%s)
work=$(mktemp -d "$parent/.$(basename "$prefix").build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
tree=$work/tree
mkdir -p "$tree/javascript" "$tree/rust"

# JavaScript: exactly the lock's versions; no install scripts run.
cp "$inputs/javascript/package.json" "$inputs/javascript/package-lock.json" "$tree/javascript/"
(cd "$tree/javascript" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 || {
  tail -n 20 "$work/npm.log" >&2
  echo "polyglot-toolchain.sh: npm ci failed (log above)" >&2
  exit 1
}
[ -x "$tree/javascript/node_modules/.bin/jest" ] || { echo "polyglot-toolchain.sh: npm ci installed no jest" >&2; exit 1; }

# Rust: the lock's crates as a directory source.  cargo vendor, not a
# registry cache, so the verifier needs no writable CARGO_HOME for it.
rust=skipped
if cargo=$(cargo_sparse); then
  cp -r "$inputs/rust" "$work/crates"
  CARGO_HOME=$work/cargo-home "$cargo" vendor --locked --versioned-dirs \
    --manifest-path "$work/crates/Cargo.toml" "$tree/rust/vendor" >"$work/cargo.log" 2>&1 || {
    tail -n 20 "$work/cargo.log" >&2
    echo "polyglot-toolchain.sh: cargo vendor failed (log above)" >&2
    exit 1
  }
  cat >"$tree/rust/cargo-config.toml" <<EOF
# Written by tests/images/polyglot-toolchain.sh: the verifier's
# \`cargo test --offline --config $at/rust/cargo-config.toml\` resolves
# crates.io dependencies from the vendored crates.
[source.crates-io]
replace-with = "aider-polyglot-vendor"

[source.aider-polyglot-vendor]
directory = "$at/rust/vendor"
EOF
  rust="$(find "$tree/rust/vendor" -mindepth 1 -maxdepth 1 -type d | wc -l) crates"
else
  echo "polyglot-toolchain.sh: warning: no cargo >= 1.68 (crates.io's sparse index) found; the Rust crates are left out" >&2
  rmdir "$tree/rust"
fi

# Java: two jars, each checked against its pinned hash.
command -v curl >/dev/null || { echo "polyglot-toolchain.sh: curl not found (apt-get install curl)" >&2; exit 1; }
mkdir -p "$tree/java"
for jar in "${JARS[@]}"; do
  path=${jar% *} sum=${jar##* }
  curl -fsS --retry 2 -o "$tree/java/${path##*/}" "$MAVEN/$path" ||
    { echo "polyglot-toolchain.sh: could not download $MAVEN/$path" >&2; exit 1; }
  echo "$sum  $tree/java/${path##*/}" | sha256sum -c --quiet - ||
    { echo "polyglot-toolchain.sh: ${path##*/}: sha256 is not the pinned $sum" >&2; exit 1; }
done

echo "$key" >"$tree/.cab-key"
chmod -R u+rwX,go+rX,go-w "$tree"
chmod 0755 "$tree"
if [ -e "$prefix" ]; then
  mv "$prefix" "$work/old"
fi
mv "$tree" "$prefix"
echo "polyglot-toolchain.sh: $prefix: jest $(node -p 'require(process.argv[1]).version' \
  "$prefix/javascript/node_modules/jest/package.json" 2>/dev/null || echo '?'), rust $rust, java ${#JARS[@]} jars," \
  "$(du -sm --apparent-size "$prefix" | cut -f1) MiB, $(($(date +%s) - start))s (key $key)"
