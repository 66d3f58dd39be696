"""Trigger tests drive the HTTP API with a clock that stands still until a test moves it."""

from __future__ import annotations

from tests.api.conftest import FrozenApi, frozen

__all__ = ["FrozenApi", "frozen"]
