"""Print the mutation score of the last `mutmut run`, per module and in total, and list the
mutants that survived (show one with `mutmut show NAME`).

Killed, timed out and caught by the type checker count as killed; survivors and mutants no
selected test covers count against the score; skipped ones are left out. Exits non-zero
below the bar given with --min (a percentage).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check"}
LEFT_OUT = {"skipped", "not checked"}


def results(mutmut: str) -> dict[str, str]:
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min", type=float, default=0.0, help="fail below this score (%%)")
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    args = parser.parse_args()

    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for name, status in sorted(results(args.mutmut).items()):
        owner = _owner(name)
        by_module[owner][status] += 1
        if status not in KILLED | LEFT_OUT:
            survivors.append(f"{status:>10}  {name}")

    total = Counter[str]()
    print(f"{'module':45} {'killed':>7} {'of':>5} {'score':>7}")
    for owner, counts in sorted(by_module.items()):
        total.update(counts)
        print(_row(owner, counts))
    print(_row("TOTAL", total))
    print(f"\n{len(survivors)} surviving (mutmut show NAME):")
    print("\n".join(survivors))
    killed, counted = _score(total)
    score = 100.0 * killed / counted if counted else 100.0
    print(f"\nmutation score: {score:.1f}% ({killed} of {counted} mutants killed)")
    if total["not checked"]:
        print(f"{total['not checked']} mutants not checked yet: the run did not finish")
    return 1 if score < args.min or total["not checked"] else 0


def _owner(mutant: str) -> str:
    """``rules.windows.x_window_for__mutmut_3`` -> ``rules.windows``; methods keep the class."""
    head = mutant.split("__mutmut_")[0]
    parts = head.split(".")
    for i, part in enumerate(parts):
        if part.startswith("x_") or part.startswith("xǁ"):
            return ".".join(parts[:i])
    return ".".join(parts[:-1])


def _score(counts: Counter[str]) -> tuple[int, int]:
    killed = sum(counts[s] for s in KILLED)
    counted = sum(n for s, n in counts.items() if s not in LEFT_OUT)
    return killed, counted


def _row(owner: str, counts: Counter[str]) -> str:
    killed, counted = _score(counts)
    score = 100.0 * killed / counted if counted else 100.0
    return f"{owner:45} {killed:>7} {counted:>5} {score:>6.1f}%"


if __name__ == "__main__":
    sys.exit(main())
