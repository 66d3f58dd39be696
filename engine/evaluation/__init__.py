"""The evaluator: from incoming readings and events to durable, explained decisions."""
