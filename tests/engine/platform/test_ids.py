"""Identifiers: Crockford base-32 digits of the creation millisecond then a random part, so
that sorting ids sorts by creation time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.platform.ids import _ALPHABET, _encode, new_id


def _digits(number: int, length: int) -> str:
    """Base 32, most significant digit first, one digit at a time."""
    out = ""
    for _ in range(length):
        number, rest = divmod(number, 32)
        out = _ALPHABET[rest] + out
    return out


@given(st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1))
def test_an_id_is_the_millisecond_then_the_random_part_in_base_32(millis: int, rand: int) -> None:
    assert _encode(millis, rand) == _digits(millis, 10) + _digits(rand, 16)


def test_ids_sort_in_the_order_they_were_made() -> None:
    made = [new_id("ntf") for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(len(i) == 30 and i.startswith("ntf_") for i in made)
    assert set("".join(i[4:] for i in made)) <= set(_ALPHABET)
