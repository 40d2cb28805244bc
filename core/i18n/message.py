"""Messages: an English template (the id) and its parameters, rendered in the current language when shown."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.i18n.catalog import translations
from core.i18n.language import current


def _(msgid: str, /, **params: Any) -> str:
    """msgid in the current language, its {fields} filled from params (none: the text as is, braces and all)."""
    text = translations(current()).gettext(msgid) if msgid else msgid  # gettext's "" is the catalogue's header
    return text.format(**{k: render(v) for k, v in params.items()}) if params else text


def N_(msgid: str) -> str:
    """Marks a text for the catalogue where it is defined (a table of labels); _() translates it where shown."""
    return msgid


@dataclass(frozen=True)
class Message:
    """Text to show later, perhaps in another process or another language: the id and its parameters.
    A parameter may itself be a Message (a reason inside a sentence)."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return _(self.id, **self.params)


def render(value: Any) -> Any:
    """A Message (or a LocalizedError) as text in the current language; anything else as it is."""
    if isinstance(value, (Message, LocalizedError)):
        return str(value)
    return value


class LocalizedError(Exception):
    """An error a person has to act on: str(e) is its message in the current language.

    raise DataError("Column {name} is empty.", name=col) — the first argument is a catalogue id (the extractor
    reads it, so it must be a plain string literal, never an f-string)."""

    def __init__(self, msgid: str, /, **params: Any) -> None:
        super().__init__(msgid)
        self.message = Message(msgid, params)

    def __str__(self) -> str:
        return str(self.message)

    def __reduce__(self) -> tuple:  # through a worker's pipe with its parameters
        return (_rebuild, (type(self), self.message.id, dict(self.message.params)))


def _rebuild(cls: type[LocalizedError], msgid: str, params: dict) -> LocalizedError:
    return cls(msgid, **params)


_TAG = "i18n:"  # a stored message starts with it; any other stored text (older runs) is shown as it was written


def encode(value: Message | str) -> str:
    """A message as the run store keeps it: JSON of the id and parameters, so it reads in each reader's language."""
    return _TAG + json.dumps(_plain(value), ensure_ascii=False) if isinstance(value, Message) else value


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        return {"id": value.id, "params": {k: _plain(v) for k, v in value.params.items()}}
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def decode(text: str | None) -> Message | str | None:
    """The inverse of encode; text that is not an encoded message (or is damaged) comes back unchanged."""
    if not isinstance(text, str) or not text.startswith(_TAG):
        return text
    try:
        return _message(json.loads(text[len(_TAG) :]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return text


def _message(data: dict) -> Message:
    params = {k: _message(v) if isinstance(v, dict) else v for k, v in data["params"].items()}
    return Message(str(data["id"]), params)


def fields(template: str) -> list[tuple[str, str]]:
    """A template's {fields} with their format specs, as a translation must keep them."""
    return sorted((name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None)
