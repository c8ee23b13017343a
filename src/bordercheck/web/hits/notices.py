"""The lines the hit workflow writes (notifications, the centre's notes in a case's thread),
in the viewer's language.

They are stored as written, in English, for every reader: the API, webhooks, the audit
trail. The console recognises each by its form, as ``web.reasons`` does for refusals, and
says it again in the viewer's language with the case's names for answers, actions, outcomes
and matches; a line not recognised is shown as written, marked as English.
``tests/web/test_notices.py`` makes each line through the hit workflow itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from bordercheck.auth.policy import RESTRICTED
from bordercheck.web import labels
from bordercheck.web.hits.names import ACTIONS, ANSWERS, OUTCOMES, STATES
from bordercheck.web.i18n import N_, Language, translations

_HIT = r"(?P<hit>\d+)"
_CODE = r"[A-Z]{3}"
_WHERE = r"(?: at (?P<place>.+?))?"
_DUE = r"(?P<due>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC)"


@dataclass(frozen=True)
class Localised:
    """A translated line: the text, and whether it is in the viewer's language."""

    text: str
    translated: bool


def _coded(names: Mapping[str, str], spaced: bool = False) -> Callable[[str], str]:
    """A value named by one of the case's code lists (``spaced``: written with spaces)."""

    def name(value: str) -> str:
        key = value.replace(" ", "_") if spaced else value
        return names.get(key, value)

    return name


_RESTRICTED_KIND = re.compile(rf"{re.escape(RESTRICTED)} \((?P<owner>{_CODE})\)")


def _match(value: str) -> str:
    if _RESTRICTED_KIND.fullmatch(value):
        return N_("restricted: contact the owning bureau")
    return labels.MATCHES.get(value, value)


NOTICES: Final[tuple[tuple[re.Pattern[str], str, Mapping[str, Callable[[str], str]]], ...]] = (
    (
        re.compile(
            rf"Hit {_HIT}: a (?P<querying>{_CODE}) screening{_WHERE} matched your record "
            rf"(?P<record>\d+) \((?P<match>[a-z_]+)\); confirm it by {_DUE}"
        ),
        N_(
            "Hit %(hit)s: a %(querying)s screening%(where)s matched your record %(record)s "
            "(%(match)s); confirm it by %(due)s"
        ),
        {"match": _match},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: your screening{_WHERE} matched a (?P<owner>{_CODE}) record; "
            rf"the (?P=owner) bureau answers by {_DUE}"
        ),
        N_(
            "Hit %(hit)s: your screening%(where)s matched a %(owner)s record; the %(owner)s "
            "bureau answers by %(due)s"
        ),
        {},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: your screening{_WHERE} matched a (?P<owner>{_CODE}) record "
            rf"\({re.escape(RESTRICTED)} \((?P=owner)\)\); the (?P=owner) bureau answers "
            rf"by {_DUE}"
        ),
        N_(
            "Hit %(hit)s: your screening%(where)s matched a %(owner)s record (restricted: "
            "contact the owning bureau); the %(owner)s bureau answers by %(due)s"
        ),
        {},
    ),
    (
        re.compile(
            rf"Hit {_HIT} opened: a (?P<querying>{_CODE}) screening{_WHERE} matched a "
            rf"(?P<owner>{_CODE}) record \((?P<match>.+)\); the (?P=owner) bureau "
            rf"answers by {_DUE}"
        ),
        N_(
            "Hit %(hit)s opened: a %(querying)s screening%(where)s matched a %(owner)s record "
            "(%(match)s); the %(owner)s bureau answers by %(due)s"
        ),
        {"match": _match},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: the (?P<owner>{_CODE}) bureau answered "
            r"(?P<answer>confirmed|not confirmed|no match), asking to (?P<action>[a-z_]+)"
        ),
        N_("Hit %(hit)s: the %(owner)s bureau answered: %(answer)s; it asks: %(action)s"),
        {"answer": _coded(ANSWERS, spaced=True), "action": _coded(ACTIONS)},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: the (?P<owner>{_CODE}) bureau answered "
            r"(?P<answer>confirmed|not confirmed|no match)"
        ),
        N_("Hit %(hit)s: the %(owner)s bureau answered: %(answer)s"),
        {"answer": _coded(ANSWERS, spaced=True)},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: the (?P<querying>{_CODE}) side recorded the outcome: "
            r"(?P<outcome>[a-z ]+)"
        ),
        N_("Hit %(hit)s: the %(querying)s side recorded the outcome: %(outcome)s"),
        {"outcome": _coded(OUTCOMES, spaced=True)},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: your record (?P<record>\d+) was screened again{_WHERE} by "
            rf"(?P<querying>{_CODE}) \((?P<count>\d+) sightings\); the case is "
            r"(?P<state>[a-z]+)"
        ),
        N_(
            "Hit %(hit)s: your record %(record)s was screened again%(where)s by %(querying)s "
            "(%(count)s sightings); the case: %(state)s"
        ),
        {"state": _coded(STATES)},
    ),
    (
        re.compile(
            rf"Hit {_HIT}: the document was screened again{_WHERE} "
            r"\((?P<count>\d+) sightings\)"
        ),
        N_("Hit %(hit)s: the document was screened again%(where)s (%(count)s sightings)"),
        {},
    ),
    (
        re.compile(rf"Reminder: hit {_HIT} on your record (?P<record>\d+) is due at {_DUE}"),
        N_("Reminder: hit %(hit)s on your record %(record)s is due at %(due)s"),
        {},
    ),
    (
        re.compile(
            rf"Escalated: hit {_HIT} was not answered by {_DUE}; the secretariat "
            r"follows it up"
        ),
        N_("Escalated: hit %(hit)s was not answered by %(due)s; the secretariat follows it up"),
        {},
    ),
    (
        re.compile(
            rf"Escalated: hit {_HIT} was not answered by {_DUE}; answer it now "
            r"\(record (?P<record>\d+)\)"
        ),
        N_("Escalated: hit %(hit)s was not answered by %(due)s; answer it now (record %(record)s)"),
        {},
    ),
    (
        re.compile(
            rf"Escalated: hit {_HIT} was not answered by {_DUE} by the "
            rf"(?P<owner>{_CODE}) bureau \(screening by (?P<querying>{_CODE})\)"
        ),
        N_(
            "Escalated: hit %(hit)s was not answered by %(due)s by the %(owner)s bureau "
            "(screening by %(querying)s)"
        ),
        {},
    ),
)
_AT = N_(" at %(place)s")


def localise(language: Language, text: str) -> Localised:
    """``text`` in ``language`` if it is one of the workflow's lines, else as written."""
    if language.code == "en":
        return Localised(text, translated=True)
    gettext = translations(language.code).gettext
    for pattern, message, names in NOTICES:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        values = {key: value or "" for key, value in found.groupdict().items()}
        for key, name in names.items():
            values[key] = gettext(name(values[key]))
        place = values.pop("place", "")
        values["where"] = gettext(_AT) % {"place": place} if place else ""
        return Localised(gettext(message) % values, translated=True)
    return Localised(text, translated=False)
