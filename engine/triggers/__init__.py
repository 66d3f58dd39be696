"""Customers' triggers: their own instances of published rules, and their state."""
