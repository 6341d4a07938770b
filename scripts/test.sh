#!/usr/bin/env bash
# The test command of README.md: everything a fresh machine needs, then the
# whole workspace's tests.
#
# PostgreSQL: the store's conformance suite runs against a real server. It uses
# $VOLTEX_TEST_POSTGRES_URL if set; else postgres://postgres@127.0.0.1:5432/test
# if a server answers there (the development machines and CI); else this script
# starts a throwaway cluster in a temporary directory (initdb + pg_ctl, trust
# auth, a free port) and stops and deletes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

default_pg="postgres://postgres@127.0.0.1:5432/test"
pg_answers() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

throwaway=""
cleanup() {
  if [[ -n "$throwaway" ]]; then
    "$PG_BIN/pg_ctl" -D "$throwaway/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$throwaway"
  fi
}
trap cleanup EXIT

if [[ -z "${VOLTEX_TEST_POSTGRES_URL:-}" ]]; then
  if pg_answers 127.0.0.1 5432; then
    export VOLTEX_TEST_POSTGRES_URL="$default_pg"
  else
    # A server installed but stopped (Debian cluster): start it.
    if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql/*/main >/dev/null 2>&1; then
      v=$(ls /etc/postgresql | head -n1)
      pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
      sleep 2
    fi
    if pg_answers 127.0.0.1 5432 && psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
      export VOLTEX_TEST_POSTGRES_URL="$default_pg"
    else
      bash scripts/setup.sh --postgres
      PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
      throwaway=$(mktemp -d /tmp/voltex-pg.XXXXXX)
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
      runas=()
      if [[ $(id -u) -eq 0 ]]; then
        # initdb refuses to run as root: hand the cluster to the postgres user.
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown -R postgres "$throwaway"
        runas=(runuser -u postgres --)
      fi
      "${runas[@]}" "$PG_BIN/initdb" -D "$throwaway/data" -U postgres --auth=trust >/dev/null
      "${runas[@]}" "$PG_BIN/pg_ctl" -D "$throwaway/data" -o "-p $port -k $throwaway -c listen_addresses=127.0.0.1" -l "$throwaway/log" -w start >/dev/null
      "${runas[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres test
      export VOLTEX_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/test"
      echo "voltex tests: started a throwaway PostgreSQL on port $port" >&2
    fi
  fi
fi

bash scripts/setup.sh
# Headless Chromium for the portal's real-browser test (skips with a message without it).
bash scripts/setup-browser.sh
# Build first and say how long it took, so a build-time regression shows in
# every CI log (reference figures: docs/performance.md, "Build").
build_start=$SECONDS
cargo test --workspace --locked --no-run "$@"
echo "voltex tests: build took $((SECONDS - build_start)) s" >&2
cargo test --workspace --locked "$@"
