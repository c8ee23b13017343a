"""``/analysis``: the networks behind stolen documents, their routes and shifts.

Reads only: each request first catches the analysis up with what arrived since the last
(``state``), then answers from the picture. Who sees what is ``views``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from bordercheck.analysis.export import export
from bordercheck.analysis.networks import Network, Picture
from bordercheck.analysis.state import AnalysisState
from bordercheck.analysis.views import (
    Viewer,
    network_detail,
    networks_json,
    routes_json,
    shifts_json,
    visible,
)
from bordercheck.api.deps import Principal, ReadSessionDep, SettingsDep, require_roles
from bordercheck.api.limits import rate_limit
from bordercheck.auth.models import Role
from bordercheck.errors import NotFound

READERS = (Role.ADMIN, Role.ANALYST, Role.BUREAU_OFFICER)
router = APIRouter(prefix="/analysis", tags=["analysis"], dependencies=[Depends(rate_limit)])
ReaderDep = Annotated[Principal, Depends(require_roles(*READERS))]
NetworkId = Annotated[
    str,
    Path(
        max_length=20, pattern=r"^N-[0-9A-F]{8}$", description="The network's id, e.g. N-3CF8E1D0."
    ),
]
MEDIA = {"graphml": "application/graphml+xml", "gexf": "application/gexf+xml"}


def analysis_state(request: Request) -> AnalysisState:
    state: AnalysisState | None = getattr(request.app.state, "analysis", None)
    if state is None:
        state = request.app.state.analysis = AnalysisState()
    return state


StateDep = Annotated[AnalysisState, Depends(analysis_state)]


def _viewer(principal: Principal, secretariat: str) -> Viewer:
    return Viewer(principal.role, principal.bureau_code, secretariat)


def _network(picture: Picture, viewer: Viewer, network_id: str) -> Network:
    network = picture.by_id.get(network_id)
    # The same 404 for a network that is not there and one the viewer may not see.
    if network is None or network not in visible(picture, viewer):
        raise NotFound(f"no network {network_id}", network_id=network_id)
    return network


@router.get("/networks")
def list_networks(
    principal: ReaderDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The networks, ranked (highest score first), each with its documents."""
    viewer = _viewer(principal, settings.secretariat_code)
    with state.reading(session) as picture:
        networks = networks_json(state.links, picture, viewer)
    return {
        "as_of": picture.latest.isoformat() if picture.latest else None,
        "total": len(networks),
        "networks": networks[:limit],
    }


@router.get("/networks/{network_id}")
def get_network(
    network_id: NetworkId,
    principal: ReaderDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    state: StateDep,
) -> dict[str, Any]:
    """One network: documents, travellers, bookings, flights, and the links with evidence."""
    viewer = _viewer(principal, settings.secretariat_code)
    with state.reading(session) as picture:
        network = _network(picture, viewer, network_id)
        return network_detail(state.links, picture, network, viewer)


@router.get("/networks/{network_id}/export", response_class=Response)
def export_network(
    network_id: NetworkId,
    principal: ReaderDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    state: StateDep,
    format: Annotated[Literal["graphml", "gexf"], Query()] = "graphml",
) -> Response:
    """The network as a GraphML or GEXF (Gephi) file."""
    viewer = _viewer(principal, settings.secretariat_code)
    with state.reading(session) as picture:
        network = _network(picture, viewer, network_id)
        body = export(state.links, picture, network, viewer, format)
    filename = f"network-{network_id}.{format}"
    return Response(
        body,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/routes")
def list_routes(
    principal: ReaderDep, session: ReadSessionDep, settings: SettingsDep, state: StateDep
) -> dict[str, Any]:
    """Routes (origin → transit → destination) by week: of hits, and of each network."""
    with state.reading(session) as picture:
        return routes_json(state.links, picture, _viewer(principal, settings.secretariat_code))


@router.get("/shifts")
def list_shifts(
    principal: ReaderDep, session: ReadSessionDep, settings: SettingsDep, state: StateDep
) -> dict[str, Any]:
    """Each network's route shifts: the routes before and after, and when."""
    with state.reading(session) as picture:
        return {"shifts": shifts_json(picture, _viewer(principal, settings.secretariat_code))}
