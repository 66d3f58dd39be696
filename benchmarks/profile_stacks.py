"""Where each microsecond per reading goes: a py-spy profile of the api server during
``python -m benchmarks.ingest``, folded into a few named costs.

Record (the server is the benchmark's child process)::

    python -m benchmarks.ingest > bench.json &
    py-spy record --pid <server pid> --rate 250 --nonblocking --format raw \\
        --full-filenames -o stacks.txt
    python -m benchmarks.profile_stacks stacks.txt --json bench.json

Each sample is charged to the innermost frame that names a cost (time spent inside a C call
shows as its calling Python line, so ``cursor.executemany`` is SQLite and ``expression.eval``
is the CEL runtime). Samples taken while the server imported modules at start-up are left
out; the rest are shared out over the timed loop's microseconds per reading.
"""

from __future__ import annotations

import argparse
import json
import linecache
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*):(?P<line>\d+)\)$")
Frame = tuple[str, str, int]  # function, path, line
Rule = tuple[str, Callable[[Frame], bool]]

STARTUP = "start-up (imports; outside the timed loop)"


def _in(*parts: str) -> Callable[[Frame], bool]:
    return lambda frame: any(part in frame[1] for part in parts)


def _named(*names: str) -> Callable[[Frame], bool]:
    return lambda frame: frame[0].split(".")[-1].split(" ")[0] in names


def _calls(file_part: str, text: str) -> Callable[[Frame], bool]:
    def match(frame: Frame) -> bool:
        return file_part in frame[1] and text in linecache.getline(frame[1], frame[2])

    return match


RULES: list[Rule] = [
    ("SQLite: commit (WAL write)", _named("do_commit")),
    (
        "SQLite: statements (C, execute + fetch)",
        _named("_execmany", "_query", "do_execute", "do_executemany", "fetchall"),
    ),
    ("SQLAlchemy/SQLModel (Python)", _in("/sqlalchemy/", "/sqlmodel/")),
    ("CEL runtime (expression.eval, C++)", _calls("rules/condition.py", ".eval(")),
    ("CEL: binding variables, Evaluation", _in("rules/condition.py", "rules/context.py")),
    ("JSON decode (stdlib json)", _in("/json/")),
    (
        "JSON decode + type check (msgspec, C)",
        _calls("engine/feeds/parsing/plain.py", ".decode("),
    ),
    ("parse + validate rows (Python)", _in("engine/feeds/parsing/")),
    ("rows to/from SQL (Python)", _in("repository.py")),
    ("fold readings into windows (Python)", _in("engine/evaluation/aggregation.py")),
    (
        "trigger cache (first batch loads 100k)",
        lambda f: "engine/evaluation/cache.py" in f[1] or f[0] == "plans" or "plan.py" in f[1],
    ),
    (
        "evaluation loop: contexts, stats, state (Python)",
        _in("engine/evaluation/", "rules/"),
    ),
    ("feed service: dedupe, customers (Python)", _in("engine/feeds/", "engine/customers/")),
    ("ingest step: snapshot, draft, write (Python)", _in("engine/ingest/")),
    (
        "HTTP: uvicorn, starlette, fastapi, pydantic",
        _in("/uvicorn/", "/starlette/", "/fastapi/", "/anyio/", "/pydantic", "/h11/", "api/"),
    ),
    ("HTTP: event loop (uvloop, httptools; C)", _in("asyncio/")),
]


def parse_stacks(lines: Iterable[str]) -> Iterable[tuple[list[Frame], int]]:
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = []
        for text in stack.split(";"):
            match = _FRAME.match(text)
            if match:
                frames.append((match["function"], match["path"], int(match["line"])))
        yield frames, int(count)


def category(frames: list[Frame]) -> str:
    if any("importlib" in path or function == "_find_and_load" for function, path, _ in frames):
        return STARTUP
    for frame in reversed(frames):
        for name, matches in RULES:
            if matches(frame):
                return name
    return "other"


def table(path: Path, seconds: float, readings: int) -> list[tuple[str, int, float, float]]:
    """(cost, samples, share of the timed loop, microseconds per reading), largest first."""
    counts: Counter[str] = Counter()
    with path.open() as lines:
        for frames, count in parse_stacks(lines):
            counts[category(frames)] += count
    counts.pop(STARTUP, None)
    total = sum(counts.values())
    per_reading = seconds * 1e6 / readings
    return [(name, n, n / total, n / total * per_reading) for name, n in counts.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", type=Path, help="py-spy --format raw output")
    parser.add_argument("--json", type=Path, help="the benchmark's JSON line")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--readings", type=int)
    args = parser.parse_args()
    seconds, readings = args.seconds, args.readings
    if args.json:
        result = json.loads(args.json.read_text().strip().splitlines()[-1])
        seconds, readings = result["seconds"], result["readings"]
    rows = table(args.stacks, seconds, readings)
    print(f"| cost | share | µs per reading (of {seconds * 1e6 / readings:.1f}) |")
    print("| --- | ---: | ---: |")
    for name, _, share, micros in rows:
        print(f"| {name} | {share:.1%} | {micros:.2f} |")


if __name__ == "__main__":
    main()
