"""ui/text.py: names shown as typed, numbers as people read them."""

import math

import pytest

from ui.text import md, readable


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1334622047.88, 1_335_000_000), (36532.479, 36530), (0.972234, 0.9722), (-1056.405, -1056), (7, 7), (0.0, 0.0)],
)
def test_numbers_keep_four_significant_digits(value, shown):
    assert readable(value) == pytest.approx(shown)


def test_what_is_not_a_finite_number_passes_through():
    assert readable(None) is None and readable("—") == "—" and math.isnan(readable(float("nan"))) and readable(True) is True


def test_markdown_characters_are_escaped_but_a_plain_name_is_left_alone():
    assert md("area_m2") == "area_m2" and md("面积_m2") == "面积_m2"
    assert md("_x_ **b** $x^2$ [a](b) :smile:") == r"\_x\_ \*\*b\*\* \$x^2\$ \[a\](b) \:smile\:"
