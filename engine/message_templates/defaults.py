"""The default templates from ``templates/``, read once per process and indexed for lookups."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from engine.templating import TemplateId, TemplateSet, load_default_templates, templates_dir

T = TypeVar("T")
MAX_MEMO = 4096


class DefaultTemplates:
    """Template sets by (key, channel, locale), and by (key, channel) → locale."""

    def __init__(self, sets: Mapping[TemplateId, TemplateSet]) -> None:
        self._sets = MappingProxyType(dict(sets))
        index: dict[tuple[str, str], dict[str, TemplateSet]] = {}
        for (key, channel, locale), parts in self._sets.items():
            index.setdefault((key, channel), {})[locale] = parts
        self._index = index
        self._memo: dict[Hashable, Any] = {}

    def __iter__(self) -> Iterator[TemplateId]:
        return iter(sorted(self._sets))

    def __getitem__(self, template_id: TemplateId) -> TemplateSet:
        return dict(self._sets[template_id])

    def variants(self, key: str, channel: str) -> Mapping[str, TemplateSet]:
        """Locale → parts of one key and channel (empty if the defaults have none)."""
        return MappingProxyType(self._index.get((key, channel), {}))

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per ``key`` while these defaults are loaded."""
        if key not in self._memo:
            if len(self._memo) >= MAX_MEMO:
                self._memo.clear()
            self._memo[key] = make()
        value: T = self._memo[key]
        return value


@lru_cache(maxsize=4)
def _load(directory: Path) -> DefaultTemplates:
    return DefaultTemplates(load_default_templates(directory))


def default_templates() -> DefaultTemplates:
    """The defaults in `templates_dir` (``$NUDGE_TEMPLATES_DIR`` or ``templates/``)."""
    return _load(templates_dir())
