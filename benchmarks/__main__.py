"""``make bench``: every benchmark, one JSON line each."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "benchmarks.ingest",
    "benchmarks.delivery",
    "benchmarks.reminders",
    "benchmarks.workers",
    "benchmarks.concurrency",
    "benchmarks.pages",
    "benchmarks.impact",
    "benchmarks.mixed_load",
    "benchmarks.neighbour",
]


def main() -> int:
    failed = 0
    for module in MODULES:
        failed |= subprocess.call([sys.executable, "-m", module, *sys.argv[1:]])
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
