"""What every part of the engine stands on: configuration, database, clock, ids, logs,
metrics, secrets and field types."""
