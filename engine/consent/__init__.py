"""Consent per customer, channel and topic."""
