#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build and test Voltex,
# and nothing else. Idempotent: each step checks first.
#   - cmake, libclang-dev, a C++ compiler: the `highs` crate builds HiGHS from source.
#   - pkg-config, libsqlite3-dev, libzstd-dev: SQLite and zstd are linked from the
#     system instead of compiled from C in every fresh target (issue 24).
#   - PostgreSQL server binaries: only when tests need a throwaway server
#     (scripts/test.sh decides; pass --postgres to force).
set -euo pipefail

need_pkgs=()
command -v cmake >/dev/null 2>&1 || need_pkgs+=(cmake)
command -v c++ >/dev/null 2>&1 || need_pkgs+=(g++)
# bindgen needs libclang itself (libclang.so / libclang-N.so), not libclang-cpp,
# which LLVM tool packages bring on their own and which must not count.
have_libclang() {
  local f
  for f in /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* \
    /usr/lib/*-linux-gnu/libclang.so* /usr/lib/*-linux-gnu/libclang-[0-9]*.so*; do
    [[ -e "$f" ]] && return 0
  done
  return 1
}
have_libclang || need_pkgs+=(libclang-dev)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }
have_pc sqlite3 || need_pkgs+=(libsqlite3-dev)
have_pc libzstd || need_pkgs+=(libzstd-dev)
if [[ "${1:-}" == "--postgres" ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_pkgs+=(postgresql)
fi

if ((${#need_pkgs[@]})); then
  echo "voltex setup: installing ${need_pkgs[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "voltex setup: cargo not found; install the stable Rust toolchain (rustup) first" >&2
  exit 1
fi
