"""Compile a rule's CEL condition against its typed context once; evaluate it many times.

Fields are declared as typed qualified variables rather than protobuf messages (protobuf is
not a dependency); only the variables the checked expression references are bound per call.
Evaluation fails closed: any runtime error yields ``result=False`` with the error as a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cel_expr_python import cel

from rules.context import Context, Getter, Variable, context_values, declarations
from rules.cost import check_cost
from rules.errors import ConditionCompileError
from rules.params import ParameterSpec, ParamType

_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")
ParamSignature = tuple[tuple[str, ParamType], ...]


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A type-checked condition and the context variables it reads."""

    source: str
    kind: str
    expression: Any
    bindings: tuple[tuple[str, Getter], ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the context variables the condition may read."""
        return tuple(name for name, _ in self.bindings)


# Built on every evaluation; frozen dataclasses would add about a microsecond each.
@dataclass(slots=True)
class Evaluation:
    """Outcome of one evaluation; ``values`` (JSON-ready context) is filled when true or failed."""

    result: bool
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def compile_condition(
    source: str, kind: str, parameters: Sequence[ParameterSpec]
) -> CompiledCondition:
    """Parse and type-check ``source``; raises ConditionCompileError with its position."""
    signature = tuple((spec.name, spec.type) for spec in parameters)
    return _compile_cached(source, kind, signature)


def evaluate(
    condition: CompiledCondition, ctx: Context, overrides: Mapping[str, Any] | None = None
) -> Evaluation:
    """Evaluate against ``ctx`` (``overrides`` replace single variables); never raises."""
    try:
        data = {name: get(ctx) for name, get in condition.bindings}
        if overrides:
            data.update(overrides)
        result = condition.expression.eval(data=data).value()
    except Exception as exc:  # the runtime raises RuntimeError; getters may raise anything
        return _failed(ctx, str(exc) or type(exc).__name__)
    if not isinstance(result, bool):
        return _failed(ctx, str(result))
    return Evaluation(True, context_values(ctx)) if result else Evaluation(False)


def held(ctx: Context) -> Evaluation:
    """The outcome `evaluate` gives where the condition is known to hold on ``ctx`` (decided
    in bulk, exactly as the runtime decides): true, with the context's values."""
    return Evaluation(True, context_values(ctx))


@lru_cache(maxsize=4096)
def _compile_cached(source: str, kind: str, signature: ParamSignature) -> CompiledCondition:
    variables = declarations(kind, signature)
    check_cost(source)
    try:
        expression = _environment(kind, signature).compile(source)
    except RuntimeError as exc:
        raise _compile_error(str(exc)) from None
    returns = expression.return_type()
    if returns != cel.Type.BOOL:
        raise ConditionCompileError(f"condition must be a bool, not {returns.name()}", 1, 1)
    return CompiledCondition(source, kind, expression, _bindings(expression, variables))


@lru_cache(maxsize=256)
def _environment(kind: str, signature: ParamSignature) -> Any:
    variables = declarations(kind, signature)
    return cel.NewEnv(variables={name: var.type for name, var in variables.items()})


def _bindings(expression: Any, variables: dict[str, Variable]) -> tuple[tuple[str, Getter], ...]:
    """Getters for the variables named in the checked expression (a superset is harmless)."""
    checked = expression.serialize()
    return tuple((name, var.get) for name, var in variables.items() if name.encode() in checked)


def _compile_error(text: str) -> ConditionCompileError:
    match = _POSITION.search(text)
    if match is None:
        return ConditionCompileError(text.strip() or "condition does not compile", 1, 1)
    line, column, message = match.groups()
    return ConditionCompileError(message.strip(), int(line), int(column))


def _failed(ctx: Context, error: str) -> Evaluation:
    try:
        values = context_values(ctx)
    except Exception:  # a malformed context must not turn a failure into a crash
        values = {}
    return Evaluation(False, values, error)
