"""Decoding one 5,000-reading JSON batch (the body ``benchmarks.ingest`` posts): the standard
library's ``json``, the whole parse as the API runs it (``parse_readings``: the one pass over
plain batches, `engine.feeds.parsing.plain`), the general path (stdlib decode, then each
object validated), and the binary-wheel decoders orjson and msgspec (untyped, and typed into
a struct, which also checks each field's type)."""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from benchmarks.common import emit
from benchmarks.ingest import START, readings
from engine.feeds.parsing import parse_readings
from engine.feeds.parsing.readings import parse_json_objects

try:
    import msgspec
except ImportError:  # optional: reported as absent
    msgspec = None
try:
    import orjson
except ImportError:
    orjson = None


def candidates(body: bytes) -> dict[str, Callable[[], Any]]:
    now = START + timedelta(days=1)
    found: dict[str, Callable[[], Any]] = {
        "stdlib_json_loads": lambda: json.loads(body.decode("utf-8-sig")),
        "parse_readings": lambda: parse_readings(body, "application/json", now),
        "general_parse_json_objects": lambda: parse_json_objects(body, now),
    }
    if orjson is not None:
        found["orjson_loads"] = lambda: orjson.loads(body)
    if msgspec is not None:
        found.update(_msgspec(body))
    return found


def _msgspec(body: bytes) -> dict[str, Callable[[], Any]]:
    class Reading(msgspec.Struct, forbid_unknown_fields=True):
        customer: str
        metric: str
        start: str
        duration: int | str
        value: float
        unit: str
        quality: str | None = None

    class TimedReading(msgspec.Struct, forbid_unknown_fields=True):
        customer: str
        metric: str
        start: datetime
        duration: int | str
        value: float
        unit: str
        quality: str | None = None

    plain = msgspec.json.Decoder()
    typed = msgspec.json.Decoder(list[Reading])
    timed = msgspec.json.Decoder(list[TimedReading])
    return {
        "msgspec_untyped": lambda: plain.decode(body),
        "msgspec_typed_struct": lambda: typed.decode(body),
        "msgspec_typed_struct_datetime": lambda: timed.decode(body),
    }


def best_of(run: Callable[[], Any], repeats: int) -> float:
    """Fastest of ``repeats`` runs, in seconds, with the collector off as in a tuned server."""
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
        gc.enable()
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    rows = readings(args.batch, 1)
    body = httpx.Request("POST", "/", json=rows).read()
    results = {}
    for name, run in candidates(body).items():
        seconds = best_of(run, args.repeats)
        results[name] = {
            "ms_per_batch": round(seconds * 1e3, 2),
            "us_per_reading": round(seconds * 1e6 / len(rows), 3),
        }
    emit(
        "decode",
        readings=len(rows),
        body_bytes=len(body),
        msgspec=getattr(msgspec, "__version__", None),
        orjson=getattr(orjson, "__version__", None),
        results=results,
    )


if __name__ == "__main__":
    main()
