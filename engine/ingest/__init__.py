"""Ingest: the step above feeds (parse and store) and evaluation (decide) that composes them,
for readings and events alike."""
