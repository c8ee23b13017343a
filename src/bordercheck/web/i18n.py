"""The console's languages: gettext catalogs read from ``locale/``, one Jinja environment each.

Each area of the console keeps its strings in a catalog of its own
(``locale/LANG/LC_MESSAGES/AREA.po``); a language's catalogs are read together at start.
``tests/web/test_translations.py`` fails when a string of a template or of the code has no
translation in one of them.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself: what a person looks for in the switch
    direction: str  # "ltr" or "rtl"


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "ltr"),
    "fr": Language("fr", "Français", "ltr"),
    "es": Language("es", "Español", "ltr"),
    "ar": Language("ar", "العربية", "rtl"),
}


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "translated where shown")
    """Mark a string of the code for translation; the page translates it when it shows it."""
    return message


def catalog_files(code: str) -> list[Path]:
    return sorted((LOCALE_DIR / code / "LC_MESSAGES").glob("*.po"))


def read_catalog(code: str) -> Catalog:
    """Every catalog of one language, as one."""
    merged = Catalog(locale=code)
    for path in catalog_files(code):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=code):
                if message.id:
                    merged[message.id] = message
    return merged


@functools.cache
def translations(code: str) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(code))
    buffer.seek(0)
    return Translations(fp=buffer)


def choose(*candidates: str | None, accept_language: str = "") -> Language:
    """The first known language among ``candidates``, then the browser's, then English."""
    for code in candidates:
        if code in LANGUAGES:
            return LANGUAGES[code]
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return LANGUAGES[code]
    return LANGUAGES[DEFAULT_LANGUAGE]


def install(env: Environment, code: str) -> None:
    """Give ``env`` the language ``code``: its ``_()`` and its dates and numbers."""
    env.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(formatters(code))


def formatters(code: str) -> dict[str, Callable[..., str]]:
    """Dates and numbers as the language writes them (Arabic with its own conventions)."""
    locale = Locale.parse(code)

    def when(value: datetime | None, length: str = "medium") -> str:
        return "" if value is None else format_datetime(value, length, locale=locale)

    def day(value: date | None, length: str = "medium") -> str:
        return "" if value is None else format_date(value, length, locale=locale)

    def number(value: float | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=locale)

    return {"datetime": when, "date": day, "number": number}
