# Helpers for the unpack integration tests and bench (source after
# tests/lib.sh).  Not a test itself: it lives outside tests/integration/.
# shellcheck shell=bash

# need_tool NAME: print the path of $CAB_BUILD/tests/NAME, building it into
# $T when the Makefile did not (tests/tools/tools.mk not included yet).
need_tool() {
  local name=$1 src=$TESTS_DIR/.. bin=$CAB_BUILD/tests/$1
  if [ -x "$bin" ]; then
    echo "$bin"
    return 0
  fi
  bin=$T/$name
  [ -x "$bin" ] && { echo "$bin"; return 0; }
  case $name in
  layer-apply)
    [ -r "$CAB_BUILD/libcab.a" ] || { say "no $CAB_BUILD/libcab.a (run make)" >&2; return 1; }
    # shellcheck disable=SC2046
    ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$src" $(pkg-config --cflags libcjson 2>/dev/null) \
      -o "$bin" "$src/tests/tools/layer-apply.c" "$CAB_BUILD/libcab.a" \
      $(pkg-config --libs libseccomp libcap libmnl libcjson libcrypto libcurl libarchive zlib libzstd) -lm \
      >&2 || return 1
    ;;
  mktar)
    ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -o "$bin" "$src/tests/images/mktar.c" -lz >&2 || return 1
    ;;
  *) return 1 ;;
  esac
  echo "$bin"
}

# tree_listing DIR: one line per path (relative path, type, mode, link
# target) plus the sha256 of every regular file; what two unpacks of one
# image must agree on.  Owners and times are left out (see tree_times).
tree_listing() {
  (
    cd "$1" || exit 1
    find . -mindepth 1 -printf '%P %y %m %l\n' | sort
    find . -type f -printf '%P\0' | sort -z | xargs -0 -r sha256sum
  )
}

# tree_times DIR: mtimes of everything but the root (ns precision).
tree_times() { (cd "$1" && find . -mindepth 1 -printf '%P %T@\n' | sort); }

# tree_snapshot DIR: everything about DIR that a test needs to see unchanged:
# names, types, modes, owners, sizes, link counts, mtimes, link targets and
# contents.
tree_snapshot() {
  (
    cd "$1" || exit 1
    find . -printf '%P %y %m %U:%G %s %n %T@ %l\n' | sort
    find . -type f -printf '%P\0' | sort -z | xargs -0 -r sha256sum
  )
}

# rm_tree DIR: delete a tree an unpack wrote, 0555 directories included.
rm_tree() {
  [ -e "$1" ] || [ -L "$1" ] || return 0
  chmod -R u+rwX "$1" 2>/dev/null
  rm -rf "$1"
}
