"""What counts towards an operation, exactly: each kit and client by its own identity, checks
by its id from its participants only, posts in any case, passenger lists once per traveller,
and places shown by name only when they are its border posts."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.manifests.flight import Manifest, TravelDocument, Traveller
from bordercheck.manifests.writer import write_paxlst
from bordercheck.screening.models import ScreeningQuery
from tests.operations.test_api import (
    OPERATIONS,
    STOLEN,
    coordinator,
    figures_once_checked,
    new_operation,
    report_stolen,
    screen,
)
from tests.signin import Api, open_api

NOW = datetime.now(UTC)


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA", "ESP", "POL")) as api:
        yield api


def logged(api: Api, *entries: dict[str, Any]) -> None:
    """Checks written to the query log as the screening paths write them."""
    defaults = {
        "at": NOW, "location": None, "operation_id": None, "source": "number",
        "document_number": "X1", "issuing_country": "FRA", "document_type": None,
        "result": "no_hit", "match_count": 0,
    }  # fmt: skip
    with api.database.session(write=True) as session:
        for entry in entries:
            session.add(ScreeningQuery(id=secrets.token_hex(16), **(defaults | entry)))


def uploads(kit_id: str, count: int) -> list[dict[str, Any]]:
    """A kit's checks as the centre logs them when the kit syncs."""
    entry = {"principal_kind": "kit", "principal_name": kit_id, "bureau_code": "ESP"}
    return [entry | {"source": "kit"}] * count


def by_location(figures: dict[str, Any]) -> dict[str | None, int]:
    return {row["location"]: row["checked"] for row in figures["by_location"]}


def test_each_kit_and_client_counts_its_own_checks_only(api: Api) -> None:
    with api.database.session(write=True) as session:
        ours, _ = auth_service.add_client(session, "gates", bureau="FRA", role=Role.BORDER_OFFICER)
        # The same name in another bureau is another client.
        auth_service.add_client(session, "gates", bureau="POL", role=Role.BORDER_OFFICER)
        client_id = ours.client_id
    operation = new_operation(api, locations=["NOWHERE"], clients=[client_id])
    logged(
        api,
        *[{"principal_kind": "client", "principal_name": "gates", "bureau_code": "FRA"}] * 5,
        *[{"principal_kind": "client", "principal_name": "gates", "bureau_code": "POL"}] * 7,
        *uploads("kit-a", 3),
        *uploads("kit-b", 2),
    )
    figures = figures_once_checked(api, operation["id"], 5)
    assert figures["total"]["checked"] == 5
    assert [row["bureau"] for row in figures["by_bureau"] if row["checked"]] == ["FRA"]


def test_a_kit_counts_its_uploads_and_not_its_clients_other_kits(api: Api) -> None:
    from bordercheck.edge.models import EdgeKit

    with api.database.session(write=True) as session:
        client, _ = auth_service.add_client(
            session, "kit fco", bureau="ESP", role=Role.BORDER_OFFICER
        )
        for kit_id in ("kit-a", "kit-b"):
            session.add(
                EdgeKit(kit_id=kit_id, client_id=client.client_id, bureau_code="ESP",
                        secret_wrapped="-", registered_at=NOW)
            )  # fmt: skip
    operation = new_operation(api, locations=["NOWHERE"], kits=["kit-a"])
    logged(
        api,
        *uploads("kit-a", 3),
        *uploads("kit-b", 2),
        # The kit's client's own checks online are not the kit's.
        *[{"principal_kind": "client", "principal_name": "kit fco", "bureau_code": "ESP"}] * 2,
    )
    figures = figures_once_checked(api, operation["id"], 3)
    assert figures["total"]["checked"] == 3
    assert figures["by_source"] == {"kit": 3}


def test_a_client_name_is_unique_in_its_bureau(api: Api) -> None:
    from bordercheck.errors import Conflict

    with api.database.session(write=True) as session:
        auth_service.add_client(session, "gates", bureau="FRA", role=Role.BORDER_OFFICER)
        with pytest.raises(Conflict, match="has an API client named 'gates' already"):
            auth_service.add_client(session, "gates", bureau="FRA", role=Role.BORDER_OFFICER)


def test_its_id_counts_from_its_participants_and_places_are_named_only_when_its_posts(
    api: Api,
) -> None:
    report_stolen(api)
    operation = new_operation(api, bureaus=["FRA", "ITA"])
    number = operation["id"]
    # Poland takes no part: its checks sent with the id are not the operation's.
    assert screen(api, "X1000001", bureau="POL", operation_id=number) == "no_hit"
    assert screen(api, STOLEN, bureau="POL", operation_id=number, location="CDG2") == "hit"
    # A participant's check with the id, at a place of its own text.
    assert screen(api, "X1000002", operation_id=number, location="KRAUSEWITZ.H.1961") == "no_hit"
    assert screen(api, STOLEN, operation_id=number, location="ZQ7700001") == "hit"
    # Posts in any case.
    assert screen(api, "X1000003", bureau="ITA", location="fco") == "no_hit"
    assert screen(api, "X1000004", bureau="ITA", location="Cdg") == "no_hit"
    figures = figures_once_checked(api, number, 4)
    assert figures["total"] == {"checked": 4, "hits": 1, "possible_hits": 0}
    assert by_location(figures) == {"CDG": 1, "FCO": 1, None: 2}
    assert figures["cases"]["opened"] == 1
    report = api.client.get(f"{OPERATIONS}/{number}/report", headers=coordinator(api)).text
    for typed in ("KRAUSEWITZ", "ZQ7700001", "CDG2", STOLEN):
        assert typed not in report
    assert "other places" in report


def test_a_case_seen_again_at_its_posts_is_one_of_its_cases(api: Api) -> None:
    report_stolen(api)
    assert screen(api, STOLEN, location="ORY") == "hit"  # before, elsewhere: the case opens
    operation = new_operation(api)
    assert screen(api, STOLEN, location="CDG") == "hit"  # seen again, at its post
    figures = figures_once_checked(api, operation["id"], 1)
    assert figures["total"]["hits"] == 1
    assert figures["cases"]["opened"] == 1
    assert figures["cases"]["outcomes"]["pending"] == 1


def passenger_list(*documents_per_traveller: int, arrival: str = "CDG") -> bytes:
    travellers = [
        Traveller(
            position=i,
            role="passenger",
            surname=f"TRAVELLER{i}",
            given_names="ANNA",
            birth_date=date(1990, 1, 1),
            nationality="FRA",
            documents=[TravelDocument("P", None, f"T{i}D{d}0000", "FRA") for d in range(count)],
        )
        for i, count in enumerate(documents_per_traveller, 1)
    ]
    manifest = Manifest(
        flight="AF1234", carrier="AF", departure="JFK", arrival=arrival,
        departure_at=NOW - timedelta(hours=8), arrival_at=NOW, travellers=travellers,
    )  # fmt: skip
    return write_paxlst(manifest).encode()


def test_a_passenger_list_counts_once_per_traveller_where_the_flight_lands(api: Api) -> None:
    operation = new_operation(api)
    sent = api.client.post(
        "/api/v1/manifests",
        content=passenger_list(2, 1, 3, 0),  # four travellers, one without a document
        headers={"Content-Type": "application/edifact"} | api.bearer(Role.BORDER_OFFICER, "FRA"),
    )
    assert sent.status_code in (200, 201), sent.text
    figures = figures_once_checked(api, operation["id"], 3)
    assert figures["total"]["checked"] == 3  # three travellers with documents: six checked
    assert by_location(figures)["CDG"] == 3
    assert figures["by_source"] == {"manifest": 3}


def test_days_past_what_an_operation_may_last_are_refused(api: Api) -> None:
    body = {"name": "Far", "starts_on": "9999-12-31", "ends_on": "9999-12-31",
            "locations": ["CDG"], "bureaus": ["FRA"]}  # fmt: skip
    refused = api.client.post(OPERATIONS, json=body, headers=coordinator(api))
    assert refused.status_code == 422
    assert "a day from 2000-01-01 to 2099-12-31" in refused.text


def test_the_reports_foot_carries_the_name_as_written(api: Api) -> None:
    operation = new_operation(api, name='Sea & Sky O\'Hare "North" \\')
    report = api.client.get(f"{OPERATIONS}/{operation['id']}/report", headers=coordinator(api)).text
    foot = report.split("@bottom-center", 1)[1].split("}", 1)[0]
    assert "&amp;" not in foot
    for escaped in ("\\26 ", "\\22 ", "\\5c "):  # & " \
        assert escaped in foot
