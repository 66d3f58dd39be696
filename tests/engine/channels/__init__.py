"""Tests of the delivery channels against real local counterparts."""
