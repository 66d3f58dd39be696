"""Replaying answers to repeated POSTs that carry the same ``Idempotency-Key``."""
