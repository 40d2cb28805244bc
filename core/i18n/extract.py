"""Keep the catalogues in step with the code: `python -m core.i18n.extract [check|update|missing PATH…]`.

check    lists ids the code uses that a catalogue lacks (or holds untranslated), and ids no code uses any more;
         exit status 1 if there are any (the unit tests run the same comparison).
update   rewrites each language's messages.po from the code: new ids added (empty in zh, to be translated),
         unused ones dropped, every other .po file of that language folded in (translations kept).
missing  prints, as .po entries ready to fill, the ids under PATH… that zh does not translate yet.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from core.i18n.catalog import LOCALE_DIR, po_files
from core.i18n.language import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("core", "ui", "pages", "streamlit_app.py")  # everything a person can read comes from these
# the callables whose first argument is a message id (a plain string literal)
KEYWORDS = ("_", "N_", "Message", "LocalizedError", "DataError", "ConfigError", "MemoryConfigError", "ClassError", "StoreError")


def source_files(paths: Iterable[str] = SOURCES) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = ROOT / p
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [f for f in files if "tests" not in f.relative_to(ROOT).parts]


def extracted(paths: Iterable[str] = SOURCES) -> dict[str, list[tuple[str, int]]]:
    """id → where the code uses it (file relative to the repository, line)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for f in source_files(paths):
        for line, msgid, _comments, _context in extract_from_file("python", f, keywords=dict.fromkeys(KEYWORDS)):
            if isinstance(msgid, str) and msgid:
                found.setdefault(msgid, []).append((str(f.relative_to(ROOT)), line))
    return found


def catalogue(language: str) -> dict[str, str]:
    """id → translation, over all of the language's .po files (fuzzy entries count as untranslated)."""
    out: dict[str, str] = {}
    for path in po_files(language):
        with path.open("rb") as f:
            for m in read_po(f, locale=language):
                if m.id and isinstance(m.id, str):
                    out.setdefault(m.id, "" if m.fuzzy else str(m.string or ""))
    return out


def problems() -> list[str]:
    used = extracted()
    out = []
    for language in LANGUAGES:
        have = catalogue(language)
        out += [f"{language}: missing {m!r} ({used[m][0][0]}:{used[m][0][1]})" for m in used if m not in have]
        if language != "en":
            out += [f"{language}: untranslated {m!r}" for m in used if m in have and not have[m]]
        out += [f"{language}: unused {m!r}" for m in have if m not in used]
    return out


def update() -> None:
    used = extracted()
    for language in LANGUAGES:
        have = catalogue(language) if language != "en" else {}
        catalog = Catalog(
            locale=language,
            project="Descent Lab",
            version="1",
            header_comment=f"# Descent Lab: the {LANGUAGES[language]} catalogue. `python -m core.i18n.extract update` rewrites the ids\n"
            "# from the code; write translations in msgstr (English: empty, the id is the text). Terms: docs/glossary.md.",
            copyright_holder="the Descent Lab developers",
            last_translator="the Descent Lab developers",
            language_team=f"{LANGUAGES[language]} ({language})",
            charset="utf-8",
            fuzzy=False,
        )
        for msgid, where in used.items():
            catalog.add(msgid, have.get(msgid, ""), locations=where[:3])
        folder = LOCALE_DIR / language / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        for old in po_files(language):
            old.unlink()
        with (folder / "messages.po").open("wb") as f:
            write_po(f, catalog, width=120, sort_output=False, include_lineno=False)  # files, not lines: fewer diffs


def missing(paths: list[str]) -> None:
    have = catalogue("zh")
    catalog = Catalog(locale="zh", charset="utf-8")
    for msgid, where in extracted(paths).items():
        if not have.get(msgid):
            catalog.add(msgid, "", locations=where[:3])
    write_po(sys.stdout.buffer, catalog, width=120, omit_header=True)


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["check"]
    if command == "update":
        update()
    elif command == "missing":
        missing(rest or list(SOURCES))
    else:
        found = problems()
        print("\n".join(found) or "The catalogues match the code.")
        sys.exit(1 if found else 0)
