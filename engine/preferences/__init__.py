"""A customer's delivery preferences."""
