"""Benchmarks: each prints one JSON line. Run them all with ``make bench``."""
