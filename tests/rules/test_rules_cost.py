"""Conditions whose evaluation could run for seconds are refused when they are compiled,
with the position of the comprehension that breaks the bound."""

from __future__ import annotations

import pytest

from rules.condition import compile_condition, evaluate
from rules.cost import MAX_COMPREHENSIONS, check_cost
from rules.errors import ConditionCompileError
from rules.params import ParameterSpec
from tests.rules.test_rules_condition import LIMIT, day_stats


def _refused(source: str) -> ConditionCompileError:
    with pytest.raises(ConditionCompileError) as caught:
        check_cost(source)
    return caught.value


def test_list_building_macros_are_refused() -> None:
    for macro in ("map", "filter"):
        source = f"window.sum > 1.0 && [1, 2].{macro}(x, x > 1).size() > 0"
        error = _refused(source)
        assert error.message.startswith(f"'{macro}' builds a list")
        assert (error.line, error.column) == (1, source.index(f".{macro}") + 1)


def test_one_level_of_boolean_comprehensions_is_allowed() -> None:
    source = "[1.0, 2.0].exists(x, x > params.limit_kwh) || [3.0].all(y, y > 0.0)"
    condition = compile_condition(source, "threshold", LIMIT)
    assert evaluate(condition, day_stats(1)).error is None


def test_a_comprehension_in_the_predicate_of_another_is_nested() -> None:
    source = "[1].exists(a,\n  [2].exists_one(b, b > a))"
    error = _refused(source)
    assert (error.line, error.column) == (2, 6) and "inside another" in error.message


def test_comprehensions_are_counted() -> None:
    clause = "[1].exists(x, x > 0)"
    check_cost(" && ".join([clause] * MAX_COMPREHENSIONS))
    error = _refused(" && ".join([clause] * (MAX_COMPREHENSIONS + 1)))
    assert f"more than {MAX_COMPREHENSIONS} comprehensions" in error.message


def test_words_inside_strings_are_not_macros() -> None:
    check_cost("customer.attributes.note == 'x.map(a, a)' && \"[1].filter(b, b)\" != ''")
    check_cost('customer.attributes.note == """.all(a, .all(b, 1))"""')
    check_cost("'it\\'s .map(x, x)' != ''")


def test_a_field_named_like_a_macro_is_not_one() -> None:
    check_cost("customer.attributes.map == 'x' && customer.attributes.filter != 'y'")


def test_budget_applies_to_every_rule_kind() -> None:
    with pytest.raises(ConditionCompileError):
        compile_condition("event.fields.items.map(i, i).size() > 0", "event", ())
    limit = (ParameterSpec(name="limit", type="double"),)
    compile_condition("event.amount > params.limit", "event", limit)


def test_sequential_comprehensions_are_not_nested() -> None:
    check_cost("[1].exists(a, a > 0) && [2].all(b, (b > 0)) && ([3].exists_one(c, c == 3))")


def test_nesting_is_found_inside_extra_parentheses() -> None:
    source = "[1].exists(a, ((([2].all(b, b > a)))))"
    error = _refused(source)
    assert (error.line, error.column) == (1, source.index(".all") + 1)


def test_a_comprehension_after_a_closed_one_in_a_call_is_not_nested() -> None:
    check_cost("size([1].filter_not_a_macro) > 0 || ([1].exists(a, a > 0) && [2].all(b, b > 0))")


def test_positions_count_lines_and_columns_from_one() -> None:
    source = "true &&\n  false ||\n    [1].map(x, x).size() > 0"
    error = _refused(source)
    assert (error.line, error.column) == (3, 8)


def test_escaped_quotes_and_unterminated_strings() -> None:
    check_cost(r"'a \' .map(x, x)' != '' && \"b \\\" .filter(y, y)\" != ''")
    check_cost("'''a ' .map(x, x) '''  == ''")
    check_cost("'never closed .map(x, x)")  # the compiler reports the string, not the macro
    error = _refused("'x' + ''.size() > 0 || [1].map(a, a).size() > 0")
    assert error.message.startswith("'map' builds a list")
