"""Customers as the business registers them."""
