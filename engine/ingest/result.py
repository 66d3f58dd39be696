"""The one answer of a feed batch, for readings and events alike."""

from __future__ import annotations

from collections.abc import Iterable

from engine.feeds.parsing import Rejection
from engine.feeds.schemas import BatchResult, RejectedRow


def finished(
    result: BatchResult, rejections: Iterable[Rejection], notifications: int
) -> BatchResult:
    """``result`` with its refused rows in row order and the notifications it decided."""
    refused = sorted(rejections, key=lambda r: r.index)
    result.notifications = notifications
    result.rejected = len(refused)
    result.rejections = [
        RejectedRow(index=r.index, reason=r.reason, field=r.field) for r in refused
    ]
    return result
