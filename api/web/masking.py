"""Contact points as the page shows them: enough to recognise, not enough to copy."""

from __future__ import annotations


def mask(address: str) -> str:
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    digits = address.lstrip("+")
    return f"+{digits[:2]} ••• {digits[-4:]}" if len(digits) > 6 else "•••"
