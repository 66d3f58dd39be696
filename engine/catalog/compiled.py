"""Compile once, evaluate many: published rule versions parsed and CEL-compiled, cached by id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.errors import FieldError, InvalidInput
from rules.condition import CompiledCondition, compile_condition
from rules.errors import ConditionCompileError
from rules.schema import RuleDefinition
from rules.trigger import CompiledRule as CoreRule

_CACHE: dict[str, CompiledRule] = {}
_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A published version, compiled: ``core`` is what the pure evaluator works on."""

    version_id: str
    version: int
    definition: RuleDefinition
    condition: CompiledCondition

    @property
    def core(self) -> CoreRule:
        return CoreRule(self.definition, self.version, self.condition)


def check_definition(
    data: dict[str, Any], loc: tuple[str | int, ...] = ("body",)
) -> RuleDefinition:
    """Validate a definition and compile its condition; InvalidInput naming fields otherwise."""
    try:
        definition = RuleDefinition.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError((*loc, *e["loc"]), e["msg"].removeprefix("Value error, "), e["type"])
            for e in exc.errors()
        ]
        raise InvalidInput("the rule definition is invalid", errors) from None
    compile_checked(definition, loc)
    return definition


def compile_checked(definition: RuleDefinition, loc: tuple[str | int, ...]) -> CompiledCondition:
    try:
        return compile_condition(definition.condition, definition.kind, definition.parameters)
    except ConditionCompileError as exc:
        message = f"condition does not compile at {exc.line}:{exc.column}: {exc.message}"
        raise InvalidInput(
            message,
            [FieldError((*loc, "condition"), message, "cel_error")],
            {"position": {"line": exc.line, "column": exc.column}},
        ) from None


def compiled_version(version_id: str, version: int, definition: dict[str, Any]) -> CompiledRule:
    """The cached compiled form of a published (hence immutable) version."""
    cached = _CACHE.get(version_id)
    if cached is None:
        parsed = RuleDefinition.model_validate(definition)
        condition = compile_checked(parsed, ("rule", parsed.key))
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        cached = _CACHE[version_id] = CompiledRule(version_id, version, parsed, condition)
    return cached
