#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl, postgres) exist for the test suite;
# install Debian's postgresql package when none are found and we may.
set -euo pipefail

find_bins() {
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

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "No PostgreSQL server binaries found; installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  dir=$(find_bins) && echo "PostgreSQL server binaries: $dir" && exit 0
fi

echo "PostgreSQL server binaries not found and could not be installed;" \
     "PostgreSQL tests will be skipped (set NUDGE_TEST_POSTGRES_BIN to a bin directory)" >&2
