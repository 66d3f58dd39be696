"""``nudge demo``: a demo tenant, its rules and customers, a replayed year of data."""
