"""The catalogues: gettext .po files under core/i18n/locale/<language>/LC_MESSAGES, read with Babel.

Read from the .po text itself (no compiled .mo in the repository to fall out of date); a language's folder
may hold several .po files, read as one catalogue."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def po_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's translations; English (the ids themselves) and anything unknown fall through unchanged."""
    chain = gettext.NullTranslations()
    for path in po_files(language):
        with path.open("rb") as f:
            catalog = read_po(f, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)  # fuzzy entries stay out, as gettext's msgfmt leaves them out
        buffer.seek(0)
        part = gettext.GNUTranslations(buffer)
        part.add_fallback(chain)
        chain = part
    return chain
