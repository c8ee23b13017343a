"""The console's strings and their translations: what the templates and the code ask for, and
what each language's catalogs lack.

``python -m bordercheck.web.catalogs`` lists the strings each language lacks;
``python -m bordercheck.web.catalogs --add-missing AREA`` appends them, untranslated, to
``locale/LANG/LC_MESSAGES/AREA.po`` for a translator to fill in (an empty translation still
fails the test).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bordercheck.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, read_catalog

ROOT = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
REPORT_METHODS = [("templates/report.html", "jinja2.ext:babel_extract"), ("report.py", "python")]
REPORT_OPTIONS = {"templates/report.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def wanted() -> dict[str, list[str]]:
    """Every string the console shows, with where it is asked for."""
    found: dict[str, list[str]] = {}
    for root, methods, options in (
        (ROOT, METHODS, OPTIONS),
        # An operation's final report, in the language of whoever asks for it.
        (ROOT.parent / "operations", REPORT_METHODS, REPORT_OPTIONS),
    ):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root, methods, options_map=options, keywords=KEYWORDS
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for msgid in ids:
                if msgid:
                    found.setdefault(msgid, []).append(f"{root.name}/{filename}:{lineno}")
    return found


def translated_languages() -> list[str]:
    return [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]


def missing(code: str, strings: Iterable[str] | None = None) -> list[str]:
    catalog = read_catalog(code)
    lacking = []
    for msgid in strings if strings is not None else wanted():
        message = catalog.get(msgid)
        if message is None or not message.string:
            lacking.append(msgid)
    return lacking


def broken_placeholders(code: str) -> list[str]:
    """Translations whose %(name)s placeholders are not those of the English."""
    catalog = read_catalog(code)
    wrong = []
    for message in catalog:
        if not message.id or not isinstance(message.string, str) or not message.string:
            continue
        if sorted(PLACEHOLDER.findall(str(message.id))) != sorted(
            PLACEHOLDER.findall(message.string)
        ):
            wrong.append(str(message.id))
    return wrong


def add_missing(area: str) -> None:
    strings = wanted()
    for code in translated_languages():
        lacking = missing(code, strings)
        if not lacking:
            continue
        path = LOCALE_DIR / code / "LC_MESSAGES" / f"{area}.po"
        catalog = Catalog(locale=code)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=code)
        for msgid in lacking:
            catalog.add(msgid, "", locations=[(loc.split(":")[0], 0) for loc in strings[msgid]])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False)
        print(f"{code}: {len(lacking)} strings to translate in {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add-missing", metavar="AREA")
    args = parser.parse_args()
    if args.add_missing:
        add_missing(args.add_missing)
        return
    strings = wanted()
    for code in translated_languages():
        lacking = missing(code, strings)
        print(f"{code}: {len(lacking)} of {len(strings)} strings lack a translation")
        for msgid in lacking:
            print(f"  {msgid!r}  ({strings[msgid][0]})")


if __name__ == "__main__":
    main()
