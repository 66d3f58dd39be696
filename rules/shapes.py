"""Threshold conditions whose truth can be decided without the CEL runtime, many at a time.

A condition has a recognised shape when it is a comparison of one window aggregate with an
arithmetic expression of parameters and constants (``window.sum > params.limit_kwh``,
``params.limit * 1.1 <= window.max``), or a conjunction (``&&``) of such. For one trigger the
expression is worked out once (`Shape.bounds`): the condition is then true exactly when each
aggregate compares as stated with its bound, which `Shape.holds` checks for one window and
`Shape.decide` for arrays of windows at once. Anything else (``previous``, ``baseline``,
``now``, ``customer``, ``window.elapsed``, calls, ``||``, ``!``, ``==``, ternaries) has no
shape: `recognize` returns None and the condition takes the full CEL evaluation.

The decisions are CEL's, exactly: IEEE doubles (NaN compares false, ``x / 0.0`` is infinite),
int64 that fails on overflow and division by zero. Where CEL would fail, or a parameter value
is missing or not of its declared type, `Shape.bounds` returns None: that trigger takes the
full evaluation, which records the failure as it always does.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from rules import cel_numbers as num
from rules.aggregates import AGGREGATES, AggregateName, WindowStats
from rules.cel_subset import (
    Arithmetic,
    Conjunction,
    Field,
    Negate,
    Node,
    Number,
    Param,
    Relation,
    parse,
)
from rules.condition import compile_condition
from rules.params import ParameterSpec, ParamType
from rules.trigger import CompiledRule

Op = Literal[">", ">=", "<", "<="]
Bound = int | float
BoundFunction = Callable[[Mapping[str, Any]], Bound]
NumType = Literal["int", "double"]

_FLIPPED: dict[str, Op] = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_GROWING: frozenset[str] = frozenset({"count", "max"})  # never decrease as readings are added


@dataclass(frozen=True, slots=True)
class Comparison:
    """``window.<aggregate> <op> <bound>``, with the bound a function of the parameters."""

    aggregate: AggregateName
    op: Op
    bound: BoundFunction = field(compare=False, repr=False)
    params: tuple[str, ...] = ()  # the parameters the bound reads
    read: Callable[[WindowStats], Any] = field(init=False, compare=False, repr=False)
    compare: Callable[[Any, Any], Any] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read", operator.attrgetter(self.aggregate))
        object.__setattr__(self, "compare", _COMPARE[self.op])

    @property
    def integer(self) -> bool:
        """Whether the aggregate and its bound are CEL ints (``count``) rather than doubles."""
        return self.aggregate == "count"

    @property
    def dtype(self) -> type[np.int64] | type[np.float64]:
        return np.int64 if self.integer else np.float64

    @property
    def rising(self) -> bool:
        """Whether the comparison turns true as the aggregate grows (``>``, ``>=``)."""
        return self.op in (">", ">=")

    def latches(self, nonnegative_readings: bool) -> bool:
        """Whether, once true in a window with readings, adding readings keeps it true
        (corrections may not; an empty window reads 0 for every aggregate, so the first reading
        may move ``max`` down or ``min`` up): a growing aggregate compared from below, or
        ``min`` from above."""
        growing = self.aggregate in _GROWING or (self.aggregate == "sum" and nonnegative_readings)
        return self.rising if growing else (self.aggregate == "min" and not self.rising)


@dataclass(frozen=True, slots=True)
class Shape:
    """A recognised condition: true exactly when every comparison holds."""

    source: str
    comparisons: tuple[Comparison, ...]

    @property
    def aggregates(self) -> tuple[AggregateName, ...]:
        """The window aggregates the condition reads, each once, in order of appearance."""
        return tuple(dict.fromkeys(c.aggregate for c in self.comparisons))

    def latches(self, nonnegative_readings: bool) -> bool:
        """Whether, once true in a window, the condition stays true as readings are added."""
        return all(c.latches(nonnegative_readings) for c in self.comparisons)

    def bounds(self, params: Mapping[str, Any]) -> tuple[Bound, ...] | None:
        """Each comparison's bound for a trigger with these parameter values; None where CEL
        would fail or might read a value differently (take the full evaluation then)."""
        try:
            return tuple(c.bound(params) for c in self.comparisons)
        except (num.Undecidable, KeyError):
            return None

    def holds(self, window: WindowStats, bounds: Sequence[Bound]) -> bool:
        """The condition's value for one window, given this trigger's `bounds`."""
        for comparison, bound in zip(self.comparisons, bounds, strict=True):
            if not comparison.compare(comparison.read(window), bound):
                return False
        return True

    def stack(self, rows: Sequence[Sequence[Bound]]) -> tuple[npt.NDArray[Any], ...]:
        """Bounds of many triggers (rows from `bounds`) as one array per comparison."""
        return tuple(
            np.array([row[i] for row in rows], dtype=c.dtype)
            for i, c in enumerate(self.comparisons)
        )

    def decide(
        self, values: Mapping[str, npt.NDArray[Any]], bounds: Sequence[npt.NDArray[Any]]
    ) -> npt.NDArray[np.bool_]:
        """The condition's value for many windows at once. ``values[aggregate]`` holds the
        windows' aggregates as the condition would see them (float64; int64 for ``count``),
        ``bounds`` the arrays from `stack`, each window at the position of its trigger."""
        result: npt.NDArray[np.bool_] | None = None
        for comparison, bound in zip(self.comparisons, bounds, strict=True):
            column = values[comparison.aggregate]
            if column.dtype != comparison.dtype or bound.dtype != comparison.dtype:
                raise TypeError(f"{comparison.aggregate}: expected {comparison.dtype.__name__}")
            hit = comparison.compare(column, bound)
            result = hit if result is None else np.logical_and(result, hit, out=result)
        assert result is not None  # a shape has at least one comparison
        return result


def window_columns(
    aggregates: Sequence[AggregateName],
    total: npt.NDArray[np.float64],
    count: npt.NDArray[np.int64],
    low: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    last: npt.NDArray[np.float64],
    scale: float | npt.NDArray[np.float64] = 1.0,
) -> dict[str, npt.NDArray[Any]]:
    """Stored running totals of many windows (one element each) as a condition sees them,
    for `Shape.decide`: scaled by ``scale`` (minor to major units of money; one factor, or
    one a window), ``avg`` the
    scaled sum over the count, every aggregate 0 in a window without readings (`stats_at`,
    `WindowStats.empty`)."""
    filled = count > 0
    scaled_total = total * scale
    raw: dict[str, Callable[[], npt.NDArray[np.float64]]] = {
        "sum": lambda: scaled_total,
        "avg": lambda: np.divide(scaled_total, count, out=np.zeros_like(total), where=filled),
        "min": lambda: low * scale,
        "max": lambda: high * scale,
        "last": lambda: last * scale,
    }
    columns: dict[str, npt.NDArray[Any]] = {}
    for name in aggregates:
        columns[name] = count.copy() if name == "count" else np.where(filled, raw[name](), 0.0)
    return columns


def shape_of(rule: CompiledRule) -> Shape | None:
    """The shape of a compiled threshold rule's condition, or None."""
    definition = rule.definition
    return recognize(definition.condition, definition.kind, definition.parameters)


def recognize(source: str, kind: str, parameters: Sequence[ParameterSpec]) -> Shape | None:
    """The shape of ``source`` as a condition of a rule of ``kind`` with these parameters, or
    None; raises ConditionCompileError (as `compile_condition`) when it does not compile."""
    compile_condition(source, kind, parameters)
    return _recognize(source, kind, tuple((p.name, p.type) for p in parameters))


@lru_cache(maxsize=4096)
def _recognize(
    source: str, kind: str, signature: tuple[tuple[str, ParamType], ...]
) -> Shape | None:
    if kind != "threshold":
        return None
    tree = parse(source)
    if tree is None:
        return None
    items = tree.items if isinstance(tree, Conjunction) else (tree,)
    comparisons = [_comparison(item, dict(signature)) for item in _flatten(items)]
    if any(c is None for c in comparisons):
        return None
    return Shape(source, tuple(c for c in comparisons if c is not None))


def _flatten(items: Sequence[Node]) -> list[Node]:
    """Nested conjunctions (``(a && b) && c``) as one list: ``&&`` of error-free terms is
    associative."""
    flat: list[Node] = []
    for item in items:
        flat.extend(_flatten(item.items) if isinstance(item, Conjunction) else [item])
    return flat


def _comparison(node: Node, types: Mapping[str, ParamType]) -> Comparison | None:
    if not isinstance(node, Relation):
        return None
    if isinstance(node.left, Field) and not _reads_window(node.right):
        field_, op, side = node.left, cast(Op, node.op), node.right
    elif isinstance(node.right, Field) and not _reads_window(node.left):
        field_, op, side = node.right, _FLIPPED[node.op], node.left
    else:
        return None
    if field_.name not in AGGREGATES:
        return None
    aggregate = field_.name
    compiled = _term(side, types)
    if compiled is None or compiled[1] != ("int" if aggregate == "count" else "double"):
        return None
    return Comparison(aggregate, op, compiled[0], tuple(sorted(_params(side))))


def _reads_window(node: Node) -> bool:
    if isinstance(node, Field):
        return True
    if isinstance(node, Negate):
        return _reads_window(node.operand)
    if isinstance(node, Arithmetic | Relation):
        return _reads_window(node.left) or _reads_window(node.right)
    return isinstance(node, Conjunction)


def _params(node: Node) -> set[str]:
    if isinstance(node, Param):
        return {node.name}
    if isinstance(node, Negate):
        return _params(node.operand)
    if isinstance(node, Arithmetic):
        return _params(node.left) | _params(node.right)
    return set()


def _term(node: Node, types: Mapping[str, ParamType]) -> tuple[BoundFunction, NumType] | None:
    """A function computing ``node`` from parameter values as CEL would, and its CEL type;
    None outside the subset or where the types do not match (the checker would refuse)."""
    if isinstance(node, Number):
        value = node.value
        return (lambda _p: value), ("int" if isinstance(value, int) else "double")
    if isinstance(node, Param):
        return _param_term(node.name, types.get(node.name))
    if isinstance(node, Negate):
        return _negate_term(node, types)
    if isinstance(node, Arithmetic):
        return _arithmetic_term(node, types)
    return None


def _param_term(name: str, param_type: ParamType | None) -> tuple[BoundFunction, NumType] | None:
    if param_type == "double":
        return (lambda p: num.as_double(p[name])), "double"
    if param_type == "int":
        return (lambda p: num.as_int(p[name])), "int"
    return None


def _negate_term(
    node: Negate, types: Mapping[str, ParamType]
) -> tuple[BoundFunction, NumType] | None:
    if isinstance(node.operand, Negate):  # CEL's parser drops a double negation: no overflow
        return _term(node.operand.operand, types)
    inner = _term(node.operand, types)
    if inner is None:
        return None
    get, kind = inner
    negate: Callable[[Any], Bound] = num.negate_int if kind == "int" else num.negate_double
    return (lambda p: negate(get(p))), kind


def _arithmetic_term(
    node: Arithmetic, types: Mapping[str, ParamType]
) -> tuple[BoundFunction, NumType] | None:
    left, right = _term(node.left, types), _term(node.right, types)
    if left is None or right is None or left[1] != right[1]:
        return None
    ops: Mapping[str, Callable[[Any, Any], Bound]] = (
        num.INT_OPS if left[1] == "int" else num.DOUBLE_OPS
    )
    apply = ops.get(node.op)
    if apply is None:  # ``%`` of doubles does not type-check
        return None
    get_left, get_right = left[0], right[0]
    return (lambda p: apply(get_left(p), get_right(p))), left[1]
