"""A customer's right to their data: export and erasure."""
