"""Topics as customers know them: by the titles of the rules in them, in the page's language."""

from __future__ import annotations

from collections.abc import Iterable

from api.web.deps import Me
from engine.catalog.service import CatalogService
from engine.inbound import messages


def topic_names(me: Me, catalog: CatalogService, topics: Iterable[str]) -> dict[str, str]:
    rules = catalog.published(me.customer.tenant_id)
    return {
        topic: messages.topic_name(
            topic,
            [dict(r.definition.title) for r in rules if r.definition.topic == topic],
            me.visitor.lang,
            quoted=False,
        )
        for topic in topics
    }
