"""The words a person reads, in their language: English or 中文 (Chinese), from gettext catalogues.

The English text is the message id (as in gettext and Django): code reads as what the user sees, and a
message with no translation yet still says something. Ids are str.format templates with named fields
("{rows:,} rows"), so a translation may reorder them. The language is a context variable: the app sets it at
the top of each script run (each session runs in its own thread), the CLI from --lang or LANG; core code
that builds text calls _() where the text is made and never needs to know who asked.

Errors a person has to act on (DataError, ConfigError, …) carry their message id and parameters
(LocalizedError), so a message made in a worker process or read back from the run store is shown in the
language of whoever reads it, not of whoever raised it.
"""

from __future__ import annotations

from core.i18n.language import LANGUAGES, current, follow, language_of, use
from core.i18n.message import N_, LocalizedError, Message, _, decode, encode, render

__all__ = [
    "LANGUAGES",
    "LocalizedError",
    "Message",
    "N_",
    "_",
    "current",
    "decode",
    "follow",
    "encode",
    "language_of",
    "render",
    "use",
]
