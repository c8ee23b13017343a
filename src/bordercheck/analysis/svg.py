"""Diagrams and charts drawn on the server as SVG: no script, no network, print as they show.

A network's diagram is laid out by networkx (force-directed, seeded, so the same network
draws the same); the charts are weekly bars, one colour per route.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from html import escape
from typing import Any

import networkx as nx

PALETTE = (
    "#1d70b8",
    "#d4351c",
    "#00703c",
    "#f47738",
    "#4c2c92",
    "#b58840",
    "#28a197",
    "#912b88",
    "#505a5f",
    "#85994b",
)
KIND_COLOURS = {
    "document": "#d4351c",
    "record": "#4c2c92",
    "incident": "#912b88",
    "person": "#1d70b8",
    "booking": "#00703c",
}


def network_diagram(detail: dict[str, Any], size: int = 560, label: str | None = None) -> str:
    """Nodes coloured by kind (documents, records, thefts, travellers, bookings)."""
    graph = nx.Graph()
    for link in detail["links"]:
        graph.add_edge(link["source"], link["target"], kind=link["kind"])
    if not graph:
        return ""
    layout = nx.spring_layout(graph, seed=7, k=1.6 / max(1, len(graph)) ** 0.5)
    xs = [p[0] for p in layout.values()]
    ys = [p[1] for p in layout.values()]
    pad = 18

    def at(node: str) -> tuple[float, float]:
        x, y = layout[node]
        span_x = (max(xs) - min(xs)) or 1.0
        span_y = (max(ys) - min(ys)) or 1.0
        return (
            pad + (x - min(xs)) / span_x * (size - 2 * pad),
            pad + (y - min(ys)) / span_y * (size - 2 * pad),
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}" role="img" '
        f'aria-label="{escape(label or "diagram of network " + detail["id"])}">'
    ]
    for a, b in graph.edges():
        (x1, y1), (x2, y2) = at(a), at(b)
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            'stroke="#b1b4b6" stroke-width="1"/>'
        )
    for node in graph.nodes():
        kind = node.split(":")[0]
        colour = KIND_COLOURS.get(kind, "#505a5f")
        radius = 7 if kind in ("record", "incident") else 4.5
        x, y = at(node)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
            f"<title>{escape(node)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


ENGLISH_KINDS = {
    "document": "document",
    "record": "record",
    "incident": "theft",
    "person": "traveller",
    "booking": "booking",
}


def legend(names: dict[str, str] | None = None) -> str:
    """The diagram's colours, named in ``names`` (by node kind) or in English."""
    names = names or ENGLISH_KINDS
    items = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true"><circle cx="6" '
        f'cy="6" r="5" fill="{colour}"/></svg> {escape(names.get(kind, kind))}</span>'
        for kind, colour in KIND_COLOURS.items()
    )
    return f'<p class="legend">{items}</p>'


def weekly_bars(
    series: dict[str, Counter[date]],
    weeks: list[date],
    *,
    marks: list[date] | None = None,
    width: int = 760,
    height: int = 180,
    mark_label: str = "shift",
    label: str = "trips by route and week",
) -> str:
    """Stacked weekly bars, one colour per route, with vertical marks (shifts)."""
    if not weeks or not series:
        return ""
    routes = sorted(series, key=lambda r: -sum(series[r].values()))
    colours = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(routes)}
    top = max(sum(series[r][w] for r in routes) for w in weeks) or 1
    left, bottom, chart_h = 30, 22, height - 30
    step = (width - left - 6) / len(weeks)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">',
        f'<text x="2" y="12" font-size="10">{top}</text>',
        f'<line x1="{left}" y1="{chart_h}" x2="{width}" y2="{chart_h}" stroke="#505a5f"/>',
    ]
    for i, week in enumerate(weeks):
        y = float(chart_h)
        for route in routes:
            count = series[route][week]
            if not count:
                continue
            h = count / top * (chart_h - 14)
            y -= h
            parts.append(
                f'<rect x="{left + i * step + 1:.1f}" y="{y:.1f}" '
                f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{colours[route]}"><title>{escape(route)}, week of '
                f"{week.isoformat()}: {count}</title></rect>"
            )
        if i % max(1, len(weeks) // 8) == 0:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" '
                f'font-size="9">{week:%d %b}</text>'
            )
    for mark in marks or []:
        offset = (mark - weeks[0]).days / 7
        x = left + offset * step
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{chart_h}" stroke="#0b0c0c" '
            f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="10" font-size="10">'
            f"{escape(mark_label)} {mark.isoformat()}</text>"
        )
    parts.append("</svg>")
    # Swatches drawn, not styled: a page's content security policy refuses inline styles.
    keys = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true"><rect width="12" '
        f'height="12" fill="{colours[r]}"/></svg> {escape(r)}</span>'
        for r in routes[:10]
    )
    return "".join(parts) + f'<p class="legend">{keys}</p>'


def horizontal_bars(
    counts: list[tuple[str, int]], width: int = 560, label: str = "hits per border post"
) -> str:
    if not counts:
        return ""
    top = max(n for _, n in counts) or 1
    row = 20
    height = row * len(counts) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="hits per border post">'
    ]
    for i, (label, n) in enumerate(counts):
        w = n / top * (width - 160)
        y = i * row + 2
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12">{escape(label)}</text>'
            f'<rect x="90" y="{y}" width="{w:.1f}" height="{row - 6}" fill="#1d70b8"/>'
            f'<text x="{94 + w:.1f}" y="{y + 13}" font-size="12">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
