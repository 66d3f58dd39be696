"""Finds channels (`nudge.channels`) and webhook providers (`nudge.webhooks`) through their
entry points, and builds the configured channels."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from engine.channels.base import Channel, ChannelConfigError
from engine.channels.webhooks import WebhookProvider

if TYPE_CHECKING:
    from engine.platform.config import Settings

ENTRY_POINT_GROUP = "nudge.channels"
WEBHOOK_ENTRY_POINT_GROUP = "nudge.webhooks"
OUTBOX = "outbox"
BUILT_IN_KINDS = ("email", "sms", "voice")


def available_channels() -> dict[str, type[Channel]]:
    """Every installed channel class by entry-point name."""
    return _installed(ENTRY_POINT_GROUP, Channel)


def available_webhook_providers() -> dict[str, type[WebhookProvider]]:
    """Every installed webhook provider class by entry-point name (its URL segment)."""
    providers = _installed(WEBHOOK_ENTRY_POINT_GROUP, WebhookProvider)
    for name, provider in providers.items():
        if provider.name != name:
            raise ChannelConfigError(
                f"webhook provider {provider.name!r} is registered as {name!r}"
            )
    return providers


@cache
def webhook_provider(kind: str) -> str | None:
    """The webhook provider that reports on messages of ``kind``: the one its installed
    channel class declares (even while the outbox stands in for it), None when it has none."""
    channel_class = available_channels().get(kind)
    return channel_class.webhooks if channel_class is not None else None


def _installed(group: str, base: type[object]) -> dict[str, Any]:
    """The classes an entry-point group names, each checked to be a ``base``."""
    classes: dict[str, Any] = {}
    for point in entry_points(group=group):
        loaded = point.load()
        if not (isinstance(loaded, type) and issubclass(loaded, base)):
            raise ChannelConfigError(f"entry point {point.value} is not a {base.__name__} subclass")
        classes[point.name] = loaded
    return classes


class ChannelRegistry(Mapping[str, Channel]):
    """The channel that carries each kind; the outbox stands in for unconfigured ones."""

    def __init__(self, channels: Mapping[str, Channel]) -> None:
        self._channels = dict(channels)

    @classmethod
    def from_settings(
        cls, settings: Settings, classes: Mapping[str, type[Channel]] | None = None
    ) -> ChannelRegistry:
        """Build each configured channel; email, sms and voice fall back to the outbox."""
        classes = available_channels() if classes is None else classes
        outbox = _build_outbox(settings, classes)
        channels: dict[str, Channel] = {}
        for kind, channel_class in classes.items():
            if kind != OUTBOX:
                built = channel_class.from_settings(settings)
                if built is not None:
                    channels[kind] = built
        for kind in BUILT_IN_KINDS:
            channels.setdefault(kind, outbox)
        return cls(channels)

    def __getitem__(self, kind: str) -> Channel:
        return self._channels[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)

    def describe(self) -> dict[str, str]:
        """Which channel serves which kind, e.g. `{"email": "outbox", "sms": "sms"}`."""
        return {kind: channel.name for kind, channel in self._channels.items()}

    async def aclose(self) -> None:
        """Close every distinct channel once."""
        unique = {id(channel): channel for channel in self._channels.values()}
        await asyncio.gather(*(channel.aclose() for channel in unique.values()))


def _build_outbox(settings: Settings, classes: Mapping[str, type[Channel]]) -> Channel:
    if OUTBOX not in classes:
        raise ChannelConfigError(
            f"no {OUTBOX!r} channel among the {ENTRY_POINT_GROUP} entry points"
        )
    outbox = classes[OUTBOX].from_settings(settings)
    if outbox is None:
        raise ChannelConfigError(f"the {OUTBOX!r} channel must always be available")
    return outbox
