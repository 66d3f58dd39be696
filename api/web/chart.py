"""A preview's windows as SVG geometry: one bar per window against the limit line. The page
draws it with presentation attributes only (no inline style, so the CSP stays strict)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.portal.preview import Preview

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 44, 22, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fired: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    limit_y: float | None
    top_value: float
    top_y: float
    base_y: float
    left: int


def chart(preview: Preview) -> Chart | None:
    values = [w.value for w in preview.windows if w.value is not None]
    if not values:
        return None
    top = max([*values, preview.limit or 0.0]) * 1.1 or 1.0
    plot_h = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / len(preview.windows)
    gap = min(2.0, step * 0.2)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - max(value, 0.0) / top), 1)

    bars = [
        Bar(
            round(LEFT + i * step + gap / 2, 1),
            y(w.value),
            round(step - gap, 1),
            round(HEIGHT - BOTTOM - y(w.value), 1),
            w.fired,
        )
        for i, w in enumerate(preview.windows)
        if w.value is not None
    ]
    limit_y = y(preview.limit) if preview.limit is not None else None
    return Chart(WIDTH, HEIGHT, bars, limit_y, top, TOP, HEIGHT - BOTTOM, LEFT)
