"""Text a person typed (a CSV's column names, a file name, a run's name) shown as typed where Streamlit renders
Markdown: captions, messages and widget labels. A column named **x** or $x^2$ would otherwise become bold or
LaTeX, and [a](…) a link."""

from __future__ import annotations

import re
from collections.abc import Iterable

# what makes Markdown, LaTeX ($…$), a link ([…](…)), an icon or emoji (:name:) or HTML of a name mid-sentence; an
# underscore only where it could open or close emphasis (area_m2 and 面积_m2 stay as they are)
_MARKUP = re.compile(r"([\\`*\[\]<>$~#:]|(?<!\w)_|_(?!\w))")


def md(text: object) -> str:
    """One name, escaped for Markdown, on one line."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).split()))


def md_list(names: Iterable[object]) -> str:
    return ", ".join(md(n) for n in names)
