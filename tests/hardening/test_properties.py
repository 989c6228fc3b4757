"""Properties of the one number syntax and of shortened messages."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from cramprules.exceptions import shorten
from cramprules.facts import NUMBER_PATTERN, parse_number


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**30), 10**30))
def test_every_number_python_writes_reads_back(number: float) -> None:
    assert parse_number(repr(number)) == number


@given(st.text(max_size=30))
def test_a_number_is_read_exactly_when_it_has_the_one_syntax(text: str) -> None:
    number = parse_number(text)
    syntax = re.fullmatch(NUMBER_PATTERN, text.strip(), flags=re.ASCII) is not None
    if not syntax:
        assert number is None
    else:
        assert number is None or math.isfinite(number)
    assert number is None or all(ch.isascii() for ch in text.strip())


@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=5))
def test_digits_of_other_scripts_are_never_numbers(digits: str) -> None:
    if not digits.isascii():
        assert parse_number(digits) is None


@given(st.text(max_size=2_000), st.integers(min_value=2, max_value=300))
def test_a_shortened_text_fits_and_shows_only_visible_characters(text: str, limit: int) -> None:
    shown = shorten(text, limit)
    assert len(shown) <= limit
    assert shown.isprintable()
    if len(text) <= limit and text.isprintable():
        assert shown == text
