"""Compile once, evaluate many: published rule versions parsed and CEL-compiled, cached by id."""

from __future__ import annotations

import re
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
_FIELD_PATH = re.compile(r"[a-z_]+(\.[a-z_]+)*")


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A published version, compiled: ``core`` is what the pure evaluator works on."""

    version_id: str
    version: int
    definition: RuleDefinition
    condition: CompiledCondition
    reads_previous: bool = False
    reads_baseline: bool = False

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
        errors = [error for e in exc.errors() for error in _field_errors(e, loc)]
        detail = "; ".join(f"{'.'.join(map(str, e.loc[len(loc) :]))}: {e.msg}" for e in errors)
        raise InvalidInput(f"the rule definition is invalid: {detail}", errors) from None
    compile_checked(definition, loc)
    return definition


def _field_errors(error: Any, loc: tuple[str | int, ...]) -> list[FieldError]:
    """One FieldError per fault; the definition's cross-field checks report ``"field: reason"``
    joined by ``"; "`` at the model level, so each part gets the path of the field it names."""
    msg: str = error["msg"].removeprefix("Value error, ")
    if error["loc"] or error["type"] != "value_error":
        return [FieldError((*loc, *error["loc"]), msg, error["type"])]
    errors = []
    for part in msg.split("; "):
        name, sep, reason = part.partition(": ")
        if sep and _FIELD_PATH.fullmatch(name):
            errors.append(FieldError((*loc, *name.split(".")), reason))
        else:
            errors.append(FieldError(loc, part))
    return errors


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
        names = condition.variables
        cached = _CACHE[version_id] = CompiledRule(
            version_id,
            version,
            parsed,
            condition,
            reads_previous=any(v.startswith("previous.") for v in names),
            reads_baseline=any(v.startswith("baseline.") for v in names),
        )
    return cached
