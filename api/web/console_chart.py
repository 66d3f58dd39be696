"""Per-day counts as SVG geometry: the draft's bars against the published versions' line.
Presentation attributes only, so the strict CSP holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 44, 22, 10


@dataclass(frozen=True)
class DayBar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class DayChart:
    width: int
    height: int
    bars: list[DayBar]
    line: str  # polyline points of the published counts
    top_value: int
    top_y: int
    base_y: int
    left: int


def day_chart(days: list[tuple[date, int, int]]) -> DayChart | None:
    if not days:
        return None
    top = max(max(a, b) for _, a, b in days) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / len(days)
    gap = min(2.0, step * 0.2)

    def y(value: int) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    bars = [
        DayBar(
            round(LEFT + i * step + gap / 2, 1),
            y(a),
            round(step - gap, 1),
            round(HEIGHT - BOTTOM - y(a), 1),
        )
        for i, (_, a, _) in enumerate(days)
    ]
    line = " ".join(
        f"{round(LEFT + (i + 0.5) * step, 1)},{y(b)}" for i, (_, _, b) in enumerate(days)
    )
    return DayChart(WIDTH, HEIGHT, bars, line, top, TOP, HEIGHT - BOTTOM, LEFT)
