"""Feeds: what businesses push (meter readings, events, Green Button files) and its ingest."""
