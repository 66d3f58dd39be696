"""Errors raised by rule authoring and parameter validation; the API maps them to problems."""

from __future__ import annotations


class RuleError(Exception):
    """Base of every error the rules package raises on purpose."""


class ConditionCompileError(RuleError):
    """A condition that does not parse or type-check, with the 1-based position of the fault."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column


class ParameterError(RuleError):
    """Parameter values that break the rule's declared types or bounds, one entry per fault."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors))
        self.errors = errors
