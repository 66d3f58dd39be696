"""Delivery: claim due notifications, apply the customer's policies, render, send, record."""
