"""Charts of an operation's figures as SVG drawn on the server: no script, nothing fetched,
the same images in the console, the HTML report and the PDF."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

WIDTH = 640
LABEL_WIDTH = 56  # room a day's label takes under its bars
VALUE_WIDTH = 24  # room a figure takes above its bar
BAR_COLOURS = ("#1d4f91", "#b3541e", "#6b6b6b")  # checked / hits / possible hits


def _number(value: float) -> str:
    return f"{value:,.0f}"


def columns(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    number: Callable[[float], str] = _number,
    *,
    captioned: bool = False,
) -> str:
    """Grouped vertical bars, one group per label (a day), one bar per series, on one scale
    (so chart thousands of documents and a handful of hits separately).

    ``captioned``: the page shows the title and the legend (the PDF renderer draws an SVG's
    text letter by letter, which scripts whose letters join, as Arabic's, cannot be)."""
    height, top, bottom, left = (230, 24, 32, 20) if captioned else (260, 40, 50, 20)
    plot_height = height - top - bottom
    group = (WIDTH - 2 * left) / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    every = math.ceil(LABEL_WIDTH / group)  # many days: a label every few, lest they overlap
    parts = [_head(None if captioned else title, height, title)]
    peak = max((v for _, values in series for v in values), default=0) or 1
    for s, (name, values) in enumerate(series):
        colour = BAR_COLOURS[s % len(BAR_COLOURS)]
        for i, value in enumerate(values):
            h = plot_height * value / peak
            x = left + i * group + group * 0.1 + s * bar
            y = top + plot_height - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.2f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(name)}: {number(value)}</title></rect>'
            )
            if bar >= VALUE_WIDTH:  # narrower, the figures would run into each other
                parts.append(
                    f'<text x="{x + bar * 0.45:.1f}" y="{y - 4:.1f}" font-size="11" '
                    f'text-anchor="middle">{number(value)}</text>'
                )
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = left + i * group + group / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_height + 18}" font-size="12" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    if not captioned:
        parts.append(_legend([name for name, _ in series], height - 14))
    parts.append("</svg>")
    return "".join(parts)


def bars(
    title: str, rows: Sequence[tuple[str, int]], number: Callable[[float], str] = _number
) -> str:
    """Horizontal bars, one per row (a location, a bureau, an outcome)."""
    row_height, top, label_width = 26, 36, 220
    height = top + row_height * max(len(rows), 1) + 10
    peak = max((value for _, value in rows), default=0) or 1
    span = WIDTH - label_width - 80
    parts = [_head(title, height, title)]
    for i, (label, value) in enumerate(rows):
        y = top + i * row_height
        w = span * value / peak
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" font-size="12" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row_height - 8}" '
            f'fill="{BAR_COLOURS[0]}"/>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + 16}" '
            f'font-size="12">{number(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _head(shown: str | None, height: int, title: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="DejaVu Sans, sans-serif">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
    )
    if shown is None:
        return head
    return head + f'<text x="20" y="22" font-size="14" font-weight="bold">{escape(shown)}</text>'


def _legend(names: Sequence[str], y: int) -> str:
    parts = []
    for s, name in enumerate(names):
        x = 20 + s * 170
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{BAR_COLOURS[s % len(BAR_COLOURS)]}"/>'
            f'<text x="{x + 18}" y="{y}" font-size="12">{escape(name)}</text>'
        )
    return "".join(parts)


def data_uri(svg: str) -> str:
    """The chart as an ``img`` source: allowed by the console's policy, read by WeasyPrint."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
