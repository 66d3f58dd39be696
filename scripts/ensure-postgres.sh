#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl, postgres) exist for the test suite;
# install Debian's postgresql package when none are found and we may. Fails when it can do
# neither, unless NUDGE_TEST_SQLITE_ONLY=1 says the run is to skip PostgreSQL.
set -euo pipefail

if [ "${NUDGE_TEST_SQLITE_ONLY:-0}" != "0" ] && [ -n "${NUDGE_TEST_SQLITE_ONLY:-}" ]; then
  echo "NUDGE_TEST_SQLITE_ONLY is set: PostgreSQL tests will be skipped"
  exit 0
fi

find_bins() {
  if [ -n "${NUDGE_TEST_POSTGRES_BIN:-}" ]; then
    if [ -x "$NUDGE_TEST_POSTGRES_BIN/initdb" ] && [ -x "$NUDGE_TEST_POSTGRES_BIN/pg_ctl" ]; then
      echo "$NUDGE_TEST_POSTGRES_BIN"
      return 0
    fi
    echo "NUDGE_TEST_POSTGRES_BIN=$NUDGE_TEST_POSTGRES_BIN has no initdb and pg_ctl" >&2
    return 1
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

if dir=$(find_bins); then
  echo "PostgreSQL server binaries: $dir"
  exit 0
fi
[ -z "${NUDGE_TEST_POSTGRES_BIN:-}" ] || exit 1  # a wrong setting is not fixed by installing

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "No PostgreSQL server binaries found; installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; then
    dir=$(find_bins) && echo "PostgreSQL server binaries: $dir" && exit 0
  fi
fi

echo "PostgreSQL server binaries not found and could not be installed: the test suite" \
     "needs them. Install PostgreSQL, set NUDGE_TEST_POSTGRES_BIN to its bin directory," \
     "or run with NUDGE_TEST_SQLITE_ONLY=1 to test on SQLite only." >&2
exit 1
