"""Notifications: decided contacts, their status and delivery attempts."""
