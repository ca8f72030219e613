#!/usr/bin/env bash
# Installs every dependency of CodeAnatomy on a Debian 12 machine (see ../shared/dependencies.md).
# Idempotent: a second run checks stamps and installed packages and does nothing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps="$root/deps"
mkdir -p "$deps"

apt_packages=(
  build-essential cmake ninja-build pkg-config
  libtree-sitter-dev libjansson-dev libb2-dev libutf8proc-dev libroaring-dev
  libssl-dev zlib1g-dev libcmocka-dev
  python3-dev python3-pytest python3-setuptools
  valgrind clang-14 libclang-rt-14-dev
)

log() { printf 'bootstrap: %s\n' "$*" >&2; }

missing_apt_packages() {
  local p status
  for p in "${apt_packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || printf '%s\n' "$p"
  done
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_apt() {
  local missing
  missing=$(missing_apt_packages)
  [[ -z $missing ]] && return 0
  log "installing apt packages: $(echo $missing)"
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# msgpack-c without the boost headers libmsgpack-dev drags in (dependencies.md).
install_msgpack() {
  local stamp="$deps/msgpack/.stamp"
  [[ -f $stamp ]] && return 0
  log "fetching libmsgpack-dev (C part only)"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download libmsgpack-dev >/dev/null 2>&1) || {
    as_root apt-get update -qq; (cd "$tmp" && apt-get download libmsgpack-dev >/dev/null); }
  rm -rf "$deps/msgpack"; mkdir -p "$deps/msgpack"
  dpkg-deb -x "$tmp"/libmsgpack-dev_*.deb "$tmp/x"
  mkdir -p "$deps/msgpack/include" "$deps/msgpack/lib"
  cp -r "$tmp/x/usr/include/." "$deps/msgpack/include/"
  cp "$tmp"/x/usr/lib/x86_64-linux-gnu/libmsgpackc.a "$deps/msgpack/lib/"
  rm -rf "$tmp"
  touch "$stamp"
}

# npm_fetch NAME VERSION SHA256 -> path of the verified tarball in a temp dir (stdout)
npm_fetch() {
  local name=$1 version=$2 sum=$3 tmp file
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent --loglevel=error "$name@$version" >/dev/null)
  file=$(ls "$tmp"/*.tgz)
  if ! echo "$sum  $file" | sha256sum -c --status; then
    log "checksum mismatch for $name@$version: $(sha256sum "$file")"
    exit 1
  fi
  printf '%s\n' "$file"
}

install_duckdb() {
  local dir="$deps/duckdb" stamp="$deps/duckdb/.stamp-1.4.4-r.4"
  [[ -f $stamp ]] && return 0
  log "fetching DuckDB 1.4.4 (npm)"
  rm -rf "$dir"; mkdir -p "$dir/lib" "$dir/include"
  local lib hdr
  lib=$(npm_fetch @duckdb/node-bindings-linux-x64 1.4.4-r.4 732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b)
  tar -xzf "$lib" -C "$dir/lib" --strip-components=1 package/libduckdb.so
  hdr=$(npm_fetch duckdb 1.4.4 5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed)
  tar -xzf "$hdr" -C "$dir/include" --strip-components=5 \
    package/src/duckdb/src/include/duckdb.h package/src/duckdb/src/include/duckdb_extension.h
  rm -rf "$(dirname "$lib")" "$(dirname "$hdr")"
  touch "$stamp"
}

install_grammar() {
  local dir="$deps/tree-sitter-python" stamp="$deps/tree-sitter-python/.stamp-0.23.6"
  [[ -f $stamp ]] && return 0
  log "fetching tree-sitter-python 0.23.6 (npm)"
  rm -rf "$dir"; mkdir -p "$dir"
  local tgz
  tgz=$(npm_fetch tree-sitter-python 0.23.6 aab5b860d93dbf84b37fed532f7dacc0468ede5387d0c74911d68f964287662a)
  tar -xzf "$tgz" -C "$dir" --strip-components=1 package/src/parser.c package/src/scanner.c \
    package/src/tree_sitter package/package.json
  rm -rf "$(dirname "$tgz")"
  touch "$stamp"
}

write_versions() {
  local f="$deps/versions.env"
  [[ -f $f ]] && return 0
  {
    echo "TREE_SITTER_RUNTIME_VERSION=$(dpkg-query -W -f='${Version}' libtree-sitter0)"
    echo "TREE_SITTER_PYTHON_VERSION=0.23.6"
    echo "DUCKDB_PACKAGE_VERSION=1.4.4"
  } >"$f"
}

install_apt
install_msgpack
install_duckdb
install_grammar
write_versions
