"""Text a person typed (a CSV's column names, a file name, a run's name) shown as typed where Streamlit renders
Markdown: captions, messages and widget labels. A column named **x** or $x^2$ would otherwise become bold or
LaTeX, and [a](…) a link."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from core.i18n import _

# what makes Markdown, LaTeX ($…$), a link ([…](…)), an icon or emoji (:name:) or HTML of a name mid-sentence; an
# underscore only where it could open or close emphasis (area_m2 and 面积_m2 stay as they are)
_MARKUP = re.compile(r"([\\`*\[\]<>$~#:]|(?<!\w)_|_(?!\w))")


def md(text: object) -> str:
    """One name, escaped for Markdown, on one line."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).split()))


def md_list(names: Iterable[object]) -> str:
    return ", ".join(md(n) for n in names)


def readable(value: object, digits: int = 4) -> object:
    """A number as people read it: `digits` significant digits (1,335,000,000, not 1334622047.88; 36,530 and 0.9722),
    shown with thousands separators by a "localized" column. Anything else passes through."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value == 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def reads_as(table: Mapping[str, str], value: object) -> object:
    """A word the code keeps in English (a status, a column's key) as the reader says it, from a table of N_-marked
    ids; a value the table lacks (a name someone typed, a number) as it is."""
    text = table.get(value) if isinstance(value, str) else None
    return _(text) if text else value
