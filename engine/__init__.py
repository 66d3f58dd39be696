"""nudge engine: the domain, storage, scheduling and delivery."""
