"""Message templates as a tenant sees them: its own, over the shipped defaults (SPEC §4)."""
