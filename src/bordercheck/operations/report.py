"""The final report of an operation: one HTML page (charts inline as SVG images) and the same
page as PDF, rendered by WeasyPrint. It names the participants, the period and the figures,
and counts the notable cases with their outcomes: no traveller, no document number."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.models import Bureau
from bordercheck.errors import InvalidInput
from bordercheck.installation import installation_of
from bordercheck.operations import charts
from bordercheck.operations.service import Figures
from bordercheck.web import i18n
from bordercheck.web.i18n import N_

FORMATS = ("html", "pdf")
LABELS = {
    "confirmed": N_("confirmed"), "not_confirmed": N_("not confirmed"),
    "no_match": N_("no match"), "unanswered": N_("not yet answered"),
    "seized": N_("document seized"), "refused_entry": N_("refused entry"),
    "arrested": N_("arrested"), "released": N_("released"), "other": N_("other"),
    "pending": N_("outcome not yet recorded"),
}  # fmt: skip
# Where the checks came from (``figures.by_source``).
SOURCES = {
    "desk": N_("checks at a desk"), "batch": N_("checks in batches"),
    "manifest": N_("passenger lists (once per traveller)"), "kit": N_("offline kits"),
}  # fmt: skip


@functools.cache
def _templates(code: str) -> Environment:
    """The report's template in one language (the console's catalogs)."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.install(env, code)
    return env


def language_of(code: str) -> i18n.Language:
    """One of the console's languages, or a refusal naming them."""
    if code not in i18n.LANGUAGES:
        raise InvalidInput(f"language: one of {', '.join(i18n.LANGUAGES)}, not {code!r}")
    return i18n.LANGUAGES[code]


def chart_images(
    figures: Figures, language: str = i18n.DEFAULT_LANGUAGE, *, captioned: bool = False
) -> dict[str, str]:
    """The charts as SVG documents, by name: the console's four, with their words drawn in
    them; or, ``captioned``, the report's two of days, whose titles and legends the page
    shows (the PDF renderer cannot draw joined letters in an SVG: a day is then in digits
    where the language's month names are in such a script)."""
    _ = i18n.translations(language).gettext
    locale = Locale.parse(language)
    number = i18n.formatters(language)["number"]
    digits = captioned and i18n.LANGUAGES[language].direction == "rtl"
    days = [format_date(d, "dd/MM" if digits else "d MMM", locale=locale) for d in figures.by_day]
    totals = list(figures.by_day.values())
    of_days = {
        "days": charts.columns(
            _("Documents checked per day"),
            days,
            [(_("documents checked"), [t.checked for t in totals])],
            number=number,
            captioned=captioned,
        ),
        "hits": charts.columns(
            _("Hits and possible hits per day"),
            days,
            [
                (_("hits"), [t.hit for t in totals]),
                (_("possible hits"), [t.possible_hit for t in totals]),
            ],
            number=number,
            captioned=captioned,
        ),
    }
    if captioned:
        return of_days
    return {
        **of_days,
        "locations": charts.bars(
            _("Documents checked per border post"),
            [(loc or _("other places"), t.checked) for loc, t in figures.by_location.items()],
            number=number,
        ),
        "outcomes": charts.bars(
            _("Outcomes of the hits"),
            [(_(LABELS[k]), v) for k, v in figures.outcomes().items()],
            number=number,
        ),
    }


def render_html(session: Session, figures: Figures, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """The report as one HTML page in ``language`` (one of the console's)."""
    chosen = language_of(language)
    gettext = i18n.translations(chosen.code).gettext
    operation = figures.operation
    rows = session.execute(
        select(Bureau.country_code, Bureau.name).where(
            Bureau.country_code.in_(
                [*operation.bureaus, operation.coordinator_bureau, *figures.by_bureau]
            )
        )
    ).all()
    names: dict[str, str] = dict(rows)
    images = chart_images(figures, chosen.code, captioned=True)
    outcomes = [(gettext(LABELS[k]), v) for k, v in figures.outcomes().items()]
    context: dict[str, Any] = {
        "language": chosen,
        "operation": operation,
        "figures": figures,
        "bureau_names": names,
        "charts": {k: charts.data_uri(v) for k, v in images.items()},
        "bars": {
            "locations": _shares(
                [(k or gettext("other places"), t.checked) for k, t in figures.by_location.items()]
            ),
            "outcomes": _shares(outcomes),
        },
        "labels": {k: gettext(v) for k, v in LABELS.items()},
        "sources": {k: gettext(v) for k, v in SOURCES.items()},
        "answer_times": figures.answer_times(),
        "duration": functools.partial(duration, gettext),
        # Read from the database itself: a sandbox's report says so whoever renders it.
        "training": installation_of(session).sandbox_name,
        # Each page's foot, as a CSS string (the name is the coordinator's text, every
        # character of it but letters, digits and a few marks escaped for CSS).
        "footer": Markup(  # noqa: S704
            _css_string(gettext("Operation %(name)s") % {"name": operation.name})
        ),
    }
    return _templates(chosen.code).get_template("report.html").render(context)


def render(
    session: Session, figures: Figures, format: str, language: str = i18n.DEFAULT_LANGUAGE
) -> bytes:
    """The report in ``html`` or ``pdf``, in ``language``."""
    if format not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}, not {format!r}")
    html = render_html(session, figures, language)
    if format == "html":
        return html.encode()
    from weasyprint import HTML  # slow to import; only those who ask for a PDF wait for it

    # WeasyPrint reports each step of its work as a warning; only its errors are worth a log.
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal followed by a dash, whatever characters it holds."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,-_()'" else f"\\{ord(ch):x} " for ch in text + " — "
    )
    return f'"{escaped}"'


def _shares(rows: list[tuple[str, int]]) -> list[tuple[str, int, float]]:
    """Each row with its bar's length: a share of the longest's, in per cent."""
    peak = max((value for _, value in rows), default=0) or 1
    return [(label, value, round(80 * value / peak, 1)) for label, value in rows]


def duration(gettext: Callable[[str], str], seconds: float | None) -> str:
    """A time to an answer, to the minute."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 1:
        return gettext("under a minute")
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    return gettext("%(hours)s h %(minutes)s min") % {
        "hours": minutes // 60,
        "minutes": f"{minutes % 60:02d}",
    }
