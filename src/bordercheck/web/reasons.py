"""What the services say is wrong, in the viewer's language.

The services (registry, screening, directory, operations, accounts) write their refusals in
English for every caller: the API, the commands and the console. The console shows the ones
a person meets on its forms in the viewer's language: each is recognised here by its form
(values in it become the translation's placeholders), and what is not recognised is shown as
the service wrote it. ``tests/web/test_reasons.py`` sends each of them through the real
service, so that a reworded refusal cannot go untranslated unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from bordercheck.web.i18n import N_, Language, translations

_VALUE = r"'(?P<value>[^']*)'"

# (the refusal's form, its text for people). Anchored at both ends; one reason may hold
# several refusals joined by "; ".
REASONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        # documents and records
        (rf"{_VALUE} is not a country code", N_("'%(value)s' is not a country code")),
        (r"document number is empty", N_("the document number is empty")),
        (
            r"document number is (?P<length>\d+) characters long \(at most (?P<limit>\d+)\)",
            N_("the document number is %(length)s characters long (at most %(limit)s)"),
        ),
        (
            r"document number may hold only letters A-Z and digits, not (?P<chars>.+)",
            N_("a document number holds only letters A-Z and digits, not %(chars)s"),
        ),
        (r"expiry_date is before issue_date", N_("the expiry date is before the issue date")),
        (r"is required", N_("required")),
        (r"must not be empty", N_("required")),
        (r"String should have at least 1 character", N_("required")),
        (r"Field required", N_("required")),
        (
            r"String should have at most (?P<limit>\d+) characters?",
            N_("at most %(limit)s characters"),
        ),
        (r"List should have at least 1 item after validation, not 0", N_("choose at least one")),
        (r"Input should be a valid date.*", N_("not a date: write it as 2026-12-31")),
        # machine-readable zones
        (r"the text is empty; an MRZ has 2 or 3 lines", N_("paste the MRZ: 2 or 3 lines")),
        (
            r"an MRZ has 2 or 3 lines, this text has (?P<count>\d+)",
            N_("an MRZ has 2 or 3 lines; this text has %(count)s"),
        ),
        (
            r"line (?P<line>\d+) is (?P<length>\d+) characters long; (?P<format>\S+) lines are "
            r"(?P<expected>\d+)",
            N_("line %(line)s is %(length)s characters long; %(format)s lines are %(expected)s"),
        ),
        (
            r"line (?P<line>\d+) is (?P<length>\d+) characters long; a two-line MRZ has lines "
            r"of 36 \(TD2, MRV-B\) or 44 \(TD3, MRV-A\) characters",
            N_(
                "line %(line)s is %(length)s characters long; a two-line MRZ has lines of 36 "
                "(TD2, MRV-B, France's card) or 44 (TD3, MRV-A)"
            ),
        ),
        (
            r"not a travel document MRZ: .*",
            N_("not the MRZ of a travel document (a driving licence's, perhaps)"),
        ),
        # accounts and bureaus
        (
            r"(?:[a-z_]+: )?a password needs at least (?P<count>\d+) characters",
            N_("a password needs at least %(count)s characters"),
        ),
        (
            r"a username is 2 to 64 characters: a letter, then letters, digits, '\.', '_' or '-'",
            N_("a username is 2 to 64 characters: a letter, then letters, digits, '.', '_' or '-'"),
        ),
        (
            r"a bureau for (?P<code>[A-Z]{3}) already exists",
            N_("a bureau for %(code)s already exists"),
        ),
        (r"user '(?P<name>[^']*)' already exists", N_("the username '%(name)s' is taken")),
        (
            r"there is no partner organisation (?P<code>\S+); add it with `.*`",
            N_(
                "there is no partner organisation %(code)s: add it first, under "
                "Administration, Partner organisations"
            ),
        ),
        # the directory
        (rf"{_VALUE} is not an e-mail address", N_("'%(value)s' is not an e-mail address")),
        (
            rf"{_VALUE} is not an IANA time zone, e\.g\. Europe/Berlin",
            N_("'%(value)s' is not a time zone such as Europe/Berlin"),
        ),
        (
            rf"{_VALUE} is not an international phone number: .*",
            N_(
                "'%(value)s' is not an international phone number: '+', the country code, "
                "then the number, such as +49 611 55-0"
            ),
        ),
        # operations
        (r"give the operation a name", N_("give the operation a name")),
        (r"name at least one border post", N_("name at least one border post")),
        (rf"{_VALUE} is not a border post code", N_("'%(value)s' is not a border post code")),
        (r"name at least one participating bureau", N_("name at least one participating bureau")),
        (r"no bureau (?P<code>\S+)", N_("there is no bureau %(code)s")),
        (r"the last day comes before the first", N_("the last day comes before the first")),
        (
            r"an operation lasts at most (?P<days>\d+) days",
            N_("an operation lasts at most %(days)s days"),
        ),
        (r"a day from (?P<first>\S+) to (?P<last>\S+)", N_("a day from %(first)s to %(last)s")),
        (
            rf"the bureau (?P<code>[A-Z]{{3}}) has an API client named {_VALUE} already; give "
            "this one another name",
            N_(
                "the bureau %(code)s has an API client named '%(value)s' already; give this one "
                "another name"
            ),
        ),
        (r"at most (?P<count>\d+) entries", N_("at most %(count)s entries")),
        # passenger lists
        (
            r"no EDIFACT interchange found: the file has no UNA, UNB or UNH segment",
            N_("this is not a passenger list: the file has no UNA, UNB or UNH segment"),
        ),
        (
            r"the body is empty: send the PAXLST file as the body, or as the form field 'file'",
            N_("choose the passenger list's file"),
        ),
        # cases
        (r"there is no hit (?P<hit>\d+) for your bureau", N_("your bureau has no case %(hit)s")),
    )
)


def translate_reason(language: Language, reason: object) -> str:
    """``reason`` in ``language`` where it is one of the refusals above, else as written."""
    text = str(reason)
    if not text:
        return text
    gettext = translations(language.code).gettext
    whole = _one(gettext, text)  # some hold "; " themselves
    if whole is not None:
        return whole
    return "; ".join(_one(gettext, part) or part for part in text.split("; "))


def _one(gettext: Callable[[str], str], text: str) -> str | None:
    for pattern, message in REASONS:
        found = pattern.fullmatch(text)
        if found is not None:
            translated = gettext(message)
            return translated % found.groupdict() if found.groupdict() else translated
    return None
