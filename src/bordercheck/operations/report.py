"""The final report of an operation: one HTML page (charts inline as SVG images) and the same
page as PDF, rendered by WeasyPrint. It names the participants, the period and the figures,
and counts the notable cases with their outcomes: no traveller, no document number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.models import Bureau
from bordercheck.errors import InvalidInput
from bordercheck.installation import installation_of
from bordercheck.operations import charts
from bordercheck.operations.service import Figures

FORMATS = ("html", "pdf")
LABELS = {
    "confirmed": "confirmed", "not_confirmed": "not confirmed", "no_match": "no match",
    "unanswered": "not yet answered", "seized": "document seized",
    "refused_entry": "refused entry", "arrested": "arrested", "released": "released",
    "other": "other", "pending": "outcome not yet recorded",
}  # fmt: skip

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def chart_images(figures: Figures) -> dict[str, str]:
    """The report's charts as SVG documents, by name (also served to the console)."""
    days = list(figures.by_day.items())
    return {
        "days": charts.columns(
            "Documents checked per day",
            [d.strftime("%d %b") for d, _ in days],
            [("documents checked", [t.checked for _, t in days])],
        ),
        "hits": charts.columns(
            "Hits and possible hits per day",
            [d.strftime("%d %b") for d, _ in days],
            [
                ("hits", [t.hit for _, t in days]),
                ("possible hits", [t.possible_hit for _, t in days]),
            ],
        ),
        "locations": charts.bars(
            "Documents checked per border post",
            [(loc, t.checked) for loc, t in figures.by_location.items()],
        ),
        "outcomes": charts.bars(
            "Outcomes of the hits",
            [(LABELS[k], v) for k, v in figures.outcomes().items()],
        ),
    }


def render_html(session: Session, figures: Figures) -> str:
    operation = figures.operation
    rows = session.execute(
        select(Bureau.country_code, Bureau.name).where(
            Bureau.country_code.in_([*operation.bureaus, operation.coordinator_bureau])
        )
    ).all()
    names: dict[str, str] = dict(rows)
    context: dict[str, Any] = {
        "operation": operation,
        "figures": figures,
        "bureau_names": names,
        "charts": {k: charts.data_uri(v) for k, v in chart_images(figures).items()},
        "labels": LABELS,
        "answer_times": figures.answer_times(),
        "duration": _duration,
        # Read from the database itself: a sandbox's report says so whoever renders it.
        "training": installation_of(session).sandbox_name,
    }
    return _templates.get_template("report.html").render(context)


def render(session: Session, figures: Figures, format: str) -> bytes:
    """The report in ``html`` or ``pdf``."""
    if format not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}, not {format!r}")
    html = render_html(session, figures)
    if format == "html":
        return html.encode()
    from weasyprint import HTML  # slow to import; only those who ask for a PDF wait for it

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
