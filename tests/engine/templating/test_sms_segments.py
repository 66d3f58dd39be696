"""SMS segment counting for GSM-7 and UCS-2 texts."""

from __future__ import annotations

import pytest

from engine.templating import count_segments
from engine.templating.sms import is_gsm7, non_gsm7


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Grüße aus Köln, Ärger über Öl: ß" * 5, "GSM-7", 160, 1),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("[]{}|~^\\", "GSM-7", 16, 1),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
        ("a" * 159 + "😀", "UCS-2", 161, 3),
    ],
)
def test_counts_encoding_units_and_segments(
    text: str, encoding: str, units: int, segments: int
) -> None:
    result = count_segments(text)
    assert (result.encoding, result.units, result.segments) == (encoding, units, segments)
    assert result.characters == len(text)


def test_an_escape_pair_is_not_split_across_segments() -> None:
    # 152 septets, then "€" (2) would straddle the 153-septet boundary, so it starts part two.
    assert count_segments("a" * 152 + "€" + "a" * 153).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_a_surrogate_pair_is_not_split_across_segments() -> None:
    assert count_segments("ж" * 66 + "😀" + "ж" * 67).segments == 3
    assert count_segments("ж" * 65 + "😀" + "ж" * 67).segments == 2


def test_names_the_characters_that_force_ucs2() -> None:
    text = "Hallo „Anna“ 😀 €"
    assert not is_gsm7(text)
    assert non_gsm7(text) == ["„", "“", "😀"]
    assert is_gsm7("Hallo Anna, 12,5 kWh für 51,20 €")
