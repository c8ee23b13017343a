"""The analyst's report: one self-contained HTML file (inline CSS and SVG, no script).

Networks ranked with their diagrams and the links that put each together; routes over time
with the shifts marked; hits per border post. It reads as the API answers an analyst.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from bordercheck.analysis.graph import LinkGraph
from bordercheck.analysis.networks import Picture, week_of
from bordercheck.analysis.svg import horizontal_bars, legend, network_diagram, weekly_bars
from bordercheck.analysis.views import network_detail, networks_json, shifts_json, weeks_of

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#0b0c0c;
margin:0 auto;max-width:1000px;padding:1.5rem;line-height:1.45}
h1{font-size:2rem;margin-block-end:.2rem}h2{border-block-start:3px solid #1d70b8;
padding-block-start:.6rem;margin-block-start:2.2rem}h3{margin-block-end:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:start;
padding:.3rem .5rem;border-block-end:1px solid #b1b4b6;vertical-align:top}
.muted{color:#505a5f}.legend{font-size:.8rem}.key{margin-inline-end:1rem;white-space:nowrap}
.swatch{display:inline-block;width:.8rem;height:.8rem;vertical-align:middle}
.network{border:1px solid #b1b4b6;padding:1rem;margin-block:1rem}
.figures{display:flex;gap:2rem;flex-wrap:wrap}.figure strong{display:block;font-size:1.6rem}
details{margin-block:.5rem}summary{cursor:pointer;color:#1d70b8}
code{font-size:.85rem}svg{max-width:100%;height:auto}
"""
SHOWN = 12  # networks drawn in full; the others are listed


def render(links: LinkGraph, picture: Picture, *, now: datetime | None = None) -> str:
    made = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    weeks = weeks_of(picture)
    summaries = networks_json(links, picture, None)
    body = [
        "<h1>Networks behind stolen documents</h1>",
        f'<p class="muted">Made {made} from the data up to '
        f"{picture.latest.isoformat() if picture.latest else 'no flights yet'}.</p>",
        _figures(links, picture),
        "<h2>Networks, ranked</h2>",
        "<p>A network is a set of suspect documents (each hit a record, and its owner did not "
        "refute the hit) tied together by a shared theft (the same record, serial range or "
        "incident), a shared booking, or a traveller who carried both. Score = documents + 2 × "
        "hits confirmed + 3 × trips in the last 28 days + growth.</p>",
        _ranking(summaries),
    ]
    for network in picture.networks[:SHOWN]:
        body.append(_network(links, picture, network.id, weeks))
    body += [
        "<h2>Routes of hits, by week</h2>",
        "<p>Each hit's journey, origin → transit → destination, by the border posts' codes.</p>",
        weekly_bars(picture.hit_routes, weeks),
        "<h2>Route shifts</h2>",
        _shifts(shifts_json(picture, None)),
        "<h2>Hits per border post</h2>",
        "<p>Where the hits were made: the arrival airport of a screened flight, or the post "
        "of a desk check.</p>",
        horizontal_bars(picture.hits_by_post.most_common(25)),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>bordercheck: networks behind stolen documents</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def _figures(links: LinkGraph, picture: Picture) -> str:
    figures = [
        ("networks", len(picture.networks)),
        ("documents in networks", sum(len(n.documents) for n in picture.networks)),
        ("hits", sum(1 for h in links.hits.values() if not h.refuted)),
        ("flights read", len(links.legs)),
        ("shifts", sum(len(n.shifts) for n in picture.networks)),
    ]
    cells = "".join(
        f'<div class="figure"><strong>{n:,}</strong>{escape(label)}</div>' for label, n in figures
    )
    return f'<div class="figures">{cells}</div>'


def _ranking(summaries: list[dict[str, Any]]) -> str:
    if not summaries:
        return "<p>No network yet: no two suspect documents are tied together.</p>"
    rows = "".join(
        f'<tr><td>{s["rank"]}</td><td><a href="#{s["id"]}">{s["id"]}</a></td>'
        f"<td>{s['score']:.0f}</td><td>{s['sizes']['documents']}</td>"
        f"<td>{s['sizes']['travellers']}</td><td>{s['hits_confirmed']}/{s['hits']}</td>"
        f"<td>{s['first_seen'] or ''} – {s['last_seen'] or ''}</td>"
        f"<td>{escape(s['routes'][0]['route']) if s['routes'] else ''}</td>"
        f"<td>{s['shifts']}</td></tr>"
        for s in summaries
    )
    return (
        "<table><thead><tr><th>#</th><th>network</th><th>score</th><th>documents</th>"
        "<th>travellers</th><th>hits confirmed</th><th>seen</th><th>main route</th>"
        f"<th>shifts</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _network(links: LinkGraph, picture: Picture, network_id: str, weeks: list[date]) -> str:
    network = picture.by_id[network_id]
    detail = network_detail(links, picture, network, None)
    by_route: dict[str, Counter[date]] = {}
    for trip in network.trips:
        by_route.setdefault(trip.label, Counter())[week_of(trip.day)] += 1
    kinds = Counter(link["kind"] for link in detail["links"])
    said = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in kinds.most_common())
    thefts = ", ".join(escape(t) for t in detail["thefts"]) or "none recorded"
    evidence = "".join(
        f"<tr><td><code>{escape(link['source'])}</code></td><td>{link['kind']}</td>"
        f"<td><code>{escape(link['target'])}</code></td>"
        f"<td>{'<br>'.join(escape(e) for e in link['evidence'])}</td></tr>"
        for link in detail["links"]
        if link["kind"] in ("hit_record", "reported_in", "booked")
    )
    aliases = "".join(
        f"<li>{escape(a)}</li>" for t in detail["travellers"] for a in t.get("also_seen_as", [])
    )
    documents = ", ".join(
        f"{d['issuing_country']} {d['document_number']}" for d in detail["documents"][:40]
    )
    more = len(detail["documents"]) - 40
    return (
        f'<section class="network" id="{network.id}"><h3>#{network.rank} {network.id}</h3>'
        f"<p>{len(network.documents)} documents, {len(network.travellers)} travellers, "
        f"{len(network.bookings)} bookings, {len(network.legs)} flights; "
        f"{network.confirmed} of {len(network.hits)} hits confirmed. Thefts: {thefts}. "
        f"Seen {detail['first_seen']} to {detail['last_seen']}.</p>"
        f"<p><strong>Put together by</strong> {said}.</p>"
        f"{network_diagram(detail)}{legend()}"
        f"<h4>Trips by route and week</h4>"
        f"{weekly_bars(by_route, weeks, marks=[s.detected_on for s in network.shifts])}"
        f"<details><summary>Documents</summary><p>{escape(documents)}"
        f"{f' and {more} more' if more > 0 else ''}</p></details>"
        + (
            f"<details><summary>Travellers seen under several names</summary><ul>{aliases}</ul>"
            "</details>"
            if aliases
            else ""
        )
        + f"<details><summary>Evidence: hits, thefts and bookings</summary><table><thead><tr>"
        f"<th>from</th><th>link</th><th>to</th><th>evidence</th></tr></thead>"
        f"<tbody>{evidence}</tbody></table></details></section>"
    )


def _routes_cell(routes: list[dict[str, Any]]) -> str:
    return "<br>".join(f"{escape(r['route'])} ({r['trips']})" for r in routes)


def _shifts(shifts: list[dict[str, Any]]) -> str:
    if not shifts:
        return "<p>No network changed route significantly.</p>"
    rows = "".join(
        f'<tr><td><a href="#{s["network_id"]}">{s["network_id"]}</a></td>'
        f"<td>{s['detected_on']}</td><td>{_routes_cell(s['before'])}</td>"
        f"<td>{_routes_cell(s['after'])}</td>"
        f"<td>p = {s['evidence']['p_value']:.3f}, G = {s['evidence']['statistic']}</td></tr>"
        for s in shifts
    )
    return (
        "<table><thead><tr><th>network</th><th>from</th><th>routes before (trips)</th>"
        "<th>routes after (trips)</th><th>test</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
