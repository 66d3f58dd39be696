"""Pure rule evaluation: schemas, CEL, calendar windows, aggregates and trigger state."""
