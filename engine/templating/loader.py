"""The default templates shipped in ``templates/``: ``<key>/<channel>.<locale>.<part>.j2``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.templating.errors import TemplateNotFound
from engine.templating.locales import normalize_tag, resolve_locale
from engine.templating.render import CHANNEL_PARTS

TemplateId = tuple[str, str, str]
"""(template key, channel, BCP 47 locale)."""
TemplateSet = dict[str, str]
"""Part name → Jinja source."""


def templates_dir() -> Path:
    """``$NUDGE_TEMPLATES_DIR``, else the repository's ``templates/``."""
    configured = os.environ.get("NUDGE_TEMPLATES_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "templates"


def load_default_templates(directory: Path | None = None) -> dict[TemplateId, TemplateSet]:
    """Every template set under ``directory`` (default `templates_dir`)."""
    root = directory or templates_dir()
    found: dict[TemplateId, TemplateSet] = {}
    for path in sorted(root.glob("*/*.j2")):
        key, channel, locale, part = _parse_name(path)
        found.setdefault((key, channel, locale), {})[part] = path.read_text(encoding="utf-8")
    return found


def _parse_name(path: Path) -> tuple[str, str, str, str]:
    pieces = path.name.removesuffix(".j2").split(".")
    if (
        len(pieces) != 3
        or pieces[0] not in CHANNEL_PARTS
        or pieces[2] not in CHANNEL_PARTS[pieces[0]]
    ):
        raise ValueError(
            f"{path}: expected <channel>.<locale>.<part>.j2 with a known channel and part"
        )
    channel, locale, part = pieces
    return path.parent.name, channel, normalize_tag(locale), part


def select_template(
    templates: Mapping[TemplateId, TemplateSet],
    key: str,
    channel: str,
    locale: str,
    tenant_default: str | None = None,
) -> tuple[str, TemplateSet]:
    """The best template set for a customer's locale, with the locale it is written in."""
    available = [loc for (k, c, loc) in templates if (k, c) == (key, channel)]
    if not available:
        raise TemplateNotFound(detail=f"no {channel} template for {key!r}")
    chosen = resolve_locale(locale, available, tenant_default)
    return chosen, templates[(key, channel, chosen)]
