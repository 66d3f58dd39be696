"""Services behind the operations console: rule overviews, moving triggers, rule tests."""
