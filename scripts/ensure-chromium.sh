#!/usr/bin/env bash
# Make sure a headless Chromium exists for the browser tests (tests/web); install Debian's
# chromium package when it is missing and we may. Playwright drives it; it downloads nothing.
set -euo pipefail

CHROMIUM=${NUDGE_TEST_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  echo "Chromium: $CHROMIUM"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "No Chromium found; installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] && echo "Chromium: $CHROMIUM" && exit 0
fi

echo "Chromium not found at $CHROMIUM and could not be installed;" \
     "browser tests will be skipped (set NUDGE_TEST_CHROMIUM to a chromium binary)" >&2
