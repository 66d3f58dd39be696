"""A customer's parameter values checked against a rule's parameter types and bounds."""

from __future__ import annotations

from typing import Any

from engine.errors import FieldError, InvalidInput
from rules.errors import ParameterError
from rules.schema import RuleDefinition


def check_params(definition: RuleDefinition, values: dict[str, Any]) -> dict[str, Any]:
    """The customer's values checked against the rule; 422 naming each bad parameter."""
    try:
        return definition.validate_params(values)
    except ParameterError as exc:
        errors = [FieldError(("body", "params", name), reason) for name, reason in exc.errors]
        raise InvalidInput("parameters do not fit the rule", errors) from None
