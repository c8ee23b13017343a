"""The names people read for a case's codes (states, answers, actions, outcomes, sources),
and the time left to answer, in words."""

from __future__ import annotations

import hashlib
from datetime import datetime

from babel.dates import format_timedelta

from bordercheck.timestamps import as_utc
from bordercheck.web.i18n import N_, Language
from bordercheck.web.render import translate

STATES = {
    "open": N_("Waiting for the answer"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
    "escalated": N_("Escalated"),
}
ANSWERS = {
    "confirmed": N_("Confirmed"),
    "not_confirmed": N_("Not confirmed: the record was out of date"),
    "no_match": N_("No match: a different document"),
}
ACTIONS = {
    "seize_document": N_("Seize the document"),
    "refuse_entry": N_("Refuse entry"),
    "arrest": N_("Arrest the holder"),
    "contact_bureau": N_("Contact our bureau"),
    "other": N_("Other (see the note)"),
}
OUTCOMES = {
    "seized": N_("Document seized"),
    "refused_entry": N_("Entry refused"),
    "arrested": N_("Holder arrested"),
    "released": N_("Traveller released"),
    "other": N_("Other (see the note)"),
}
SOURCES = {
    "desk": N_("At a desk"),
    "batch": N_("Batch screening"),
    "manifest": N_("Passenger list"),
    "kit": N_("Offline kit"),
}
NAMES = {
    "states": STATES,
    "answers": ANSWERS,
    "actions": ACTIONS,
    "outcomes": OUTCOMES,
    "sources": SOURCES,
}


def time_left(language: Language, due: datetime, now: datetime) -> str:
    """ "3 hours left", or "overdue by 20 minutes", in the viewer's language."""
    delta = as_utc(due) - now
    words = format_timedelta(abs(delta), granularity="minute", locale=language.code)
    if delta.total_seconds() > 0:
        return translate(language, N_("%(time)s left"), time=words)
    return translate(language, N_("overdue by %(time)s"), time=words)


def digest(*parts: object) -> str:
    """A short fingerprint of what a live part shows: the same one means nothing to redraw."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
