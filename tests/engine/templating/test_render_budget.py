"""Templates are tenant code with budgets: a render that loops too long or writes too much
stops with a reason, at save (422) and at send (the message fails on that channel, recorded)."""

from __future__ import annotations

import time

import pytest

from engine.templating import render
from engine.templating.errors import TemplateOverBudget
from engine.templating.render import RENDER_SECONDS

NESTED = "{% for i in range(42000) %}{% for j in range(42000) %}{% endfor %}{% endfor %}x"
ATTRIBUTE_LOOPS = (
    "{% set l = customer.attributes.get('l', []) %}"
    "{% for a in l %}{% for b in l %}{% for c in l %}{% for d in l %}{% endfor %}{% endfor %}"
    "{% endfor %}{% endfor %}done"
)


def _context(**attributes: object) -> dict[str, object]:
    return {"customer": {"name": "Ada", "attributes": attributes}}


def test_a_nested_loop_stops_at_the_time_budget() -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateOverBudget) as caught:
        render({"text": NESTED}, _context(), "en", "UTC")
    elapsed = time.perf_counter() - started
    assert "longer than 200 ms" in caught.value.detail and caught.value.detail.startswith("text")
    assert elapsed < RENDER_SECONDS * 5


def test_loops_over_the_customers_data_are_budgeted_too() -> None:
    assert render({"text": ATTRIBUTE_LOOPS}, _context(l=[1, 2]), "en", "UTC").text == "done"
    with pytest.raises(TemplateOverBudget):
        render({"text": ATTRIBUTE_LOOPS}, _context(l=list(range(100))), "en", "UTC")


def test_output_beyond_the_limit_is_over_budget() -> None:
    source = "{% for i in range(2000) %}{{ 'x' * 100 }}{% endfor %}"
    with pytest.raises(TemplateOverBudget) as caught:
        render({"text": source}, _context(), "en", "UTC")
    assert "longer than 100000 characters" in caught.value.detail


def test_ordinary_loops_render_as_before() -> None:
    source = "{% for i in range(3) %}{{ i }}{% if not loop.last %},{% endif %}{% endfor %}"
    assert render({"text": source}, _context(), "en", "UTC").text == "0,1,2"
