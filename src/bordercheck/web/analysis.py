"""The analysts' pages: the networks ranked, with the routes of hits and the shifts; one
network with its diagram, its trips by route and week, and the evidence of its links.

The same picture and the same rules as ``/api/v1/analysis``: analysts, administrators and
the secretariat see every network, a bureau officer those touching its records, with what
other owners withhold from its country withheld. Charts and diagrams are drawn on the server
as SVG: no script, nothing fetched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response
from markupsafe import Markup

from bordercheck.analysis.api import MEDIA, READERS, analysis_state
from bordercheck.analysis.export import export
from bordercheck.analysis.networks import Network, Picture, week_of
from bordercheck.analysis.state import AnalysisState
from bordercheck.analysis.svg import horizontal_bars, legend, network_diagram, weekly_bars
from bordercheck.analysis.views import (
    Viewer as AnalysisViewer,
)
from bordercheck.analysis.views import (
    network_detail,
    networks_json,
    shifts_json,
    visible,
    weeks_of,
)
from bordercheck.errors import NotFound
from bordercheck.web.access import ViewerDep, allow, database_of, language_of, settings_of
from bordercheck.web.i18n import N_
from bordercheck.web.render import render, translate
from bordercheck.web.routing import console_router
from bordercheck.web.sessions import Viewer

router = console_router()
NetworkId = Annotated[str, Path(max_length=20, pattern=r"^N-[0-9A-F]{8}$")]
KINDS = {
    "document": N_("document"),
    "record": N_("record"),
    "incident": N_("theft"),
    "person": N_("traveller"),
    "booking": N_("booking"),
}
SHIFT_MARK = N_("shift")
LINKS = {
    "hit_record": N_("hit the record"),
    "reported_in": N_("reported in the theft"),
    "carried": N_("carried"),
    "booked": N_("booked on"),
}


@contextmanager
def _picture(
    request: Request, viewer: Viewer
) -> Iterator[tuple[AnalysisState, Picture, AnalysisViewer]]:
    """The picture, held still while the page is drawn from it."""
    allow(viewer, *READERS)
    state = analysis_state(request)
    secretariat = settings_of(request).secretariat_code
    who = AnalysisViewer(viewer.role, viewer.principal.bureau_code, secretariat)
    with database_of(request).session() as session, state.reading(session) as picture:
        yield state, picture, who


def _network(picture: Picture, who: AnalysisViewer, network_id: str) -> Network:
    network = picture.by_id.get(network_id)
    if network is None or network not in visible(picture, who):
        raise NotFound(f"no network {network_id}", network_id=network_id)
    return network


@router.get("/analysis")
def networks_page(request: Request, viewer: ViewerDep) -> Response:
    with _picture(request, viewer) as (state, picture, who):
        language = language_of(request, viewer)
        weeks = weeks_of(picture)
        routes = picture.hit_routes
        if not who.sees_all:
            routes = picture.hit_routes_by_bureau.get(who.bureau, {})
        chart = weekly_bars(routes, weeks, label=translate(language, "Routes of hits by week"))
        posts = horizontal_bars(
            picture.hits_by_post.most_common(15), label=translate(language, "Hits per border post")
        )
        return render(
            request,
            "analysis/networks.html",
            {
                "viewer": viewer,
                "as_of": picture.latest,
                "networks": networks_json(state.links, picture, who),
                "shifts": shifts_json(picture, who),
                "routes_chart": Markup(chart),  # noqa: S704  (drawn by svg.py, every text escaped)
                "posts_chart": Markup(posts) if who.sees_all else "",  # noqa: S704
            },
            language=language,
        )


@router.get("/analysis/networks/{network_id}")
def network_page(request: Request, viewer: ViewerDep, network_id: NetworkId) -> Response:
    with _picture(request, viewer) as (state, picture, who):
        language = language_of(request, viewer)
        network = _network(picture, who, network_id)
        detail = network_detail(state.links, picture, network, who)
        by_route: dict[str, Counter[date]] = {}
        for trip in network.trips:
            by_route.setdefault(trip.label, Counter())[week_of(trip.day)] += 1
        names = {kind: translate(language, label) for kind, label in KINDS.items()}
        diagram = network_diagram(detail, label=translate(language, "Diagram of the network"))
        chart = weekly_bars(
            by_route,
            weeks_of(picture),
            marks=[s.detected_on for s in network.shifts],
            mark_label=translate(language, SHIFT_MARK),
            label=translate(language, "Trips by route and week"),
        )
        return render(
            request,
            "analysis/network.html",
            {
                "viewer": viewer,
                "network": detail,
                "diagram": Markup(diagram + legend(names)),  # noqa: S704  (escaped in svg.py)
                "chart": Markup(chart),  # noqa: S704
                "link_kinds": LINKS,
            },
            language=language,
        )


@router.get("/analysis/networks/{network_id}/export")
def network_file(
    request: Request,
    viewer: ViewerDep,
    network_id: NetworkId,
    format: Annotated[Literal["graphml", "gexf"], Query()] = "gexf",
) -> Response:
    with _picture(request, viewer) as (state, picture, who):
        network = _network(picture, who, network_id)
        body = export(state.links, picture, network, who, format)
        headers = {
            "Content-Disposition": f'attachment; filename="network-{network_id}.{format}"',
            "Cache-Control": "no-store",
        }
        return Response(body, media_type=MEDIA[format], headers=headers)
