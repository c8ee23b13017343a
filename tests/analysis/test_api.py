"""The analysis API on a loaded synthetic world: what each role sees, and what it says."""

from __future__ import annotations

import io
from datetime import date

import networkx as nx
import pytest
from sqlalchemy import update

from bordercheck.auth.models import Role
from bordercheck.registry.models import Record
from bordercheck.training.scoring import score
from tests.analysis.conftest import KEY, LoadedWorld
from tests.signin import open_api

V1 = "/api/v1/analysis"


def _documents(network: dict[str, object]) -> set[tuple[str, str]]:
    return {(d["issuing_country"], d["document_number"]) for d in network["documents"]}  # type: ignore[attr-defined, index]


def test_an_analyst_sees_the_planted_networks_and_no_lone_impostor(
    loaded_world: LoadedWorld,
) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        listed = api.client.get(f"{V1}/networks", headers=analyst)
        assert listed.status_code == 200, listed.text
        networks = listed.json()["networks"]
        details = [
            api.client.get(f"{V1}/networks/{n['id']}", headers=analyst).json() for n in networks
        ]
    truth = loaded_world.truth
    result = score(truth, details)
    assert result.f1 >= 0.95, result
    assert result.lone_in_networks == 0
    assert [n["rank"] for n in networks] == list(range(1, len(networks) + 1))
    assert all(n["size"] == len(n["documents"]) >= 2 for n in networks)
    assert [n["score"] for n in networks] == sorted((n["score"] for n in networks), reverse=True)


def test_a_network_is_explained_by_links_a_person_can_check(loaded_world: LoadedWorld) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        first = api.client.get(f"{V1}/networks", headers=analyst).json()["networks"][0]
        detail = api.client.get(f"{V1}/networks/{first['id']}", headers=analyst).json()
    kinds = {link["kind"] for link in detail["links"]}
    assert {"hit_record", "carried", "booked", "reported_in"} <= kinds
    hit_link = next(link for link in detail["links"] if link["kind"] == "hit_record")
    assert hit_link["evidence"][0].startswith("hit ")
    assert "match on" in hit_link["evidence"][0]
    assert detail["travellers"]
    assert detail["bookings"]
    assert detail["flights"]
    assert all(f["departure"] and f["arrival"] for f in detail["flights"])
    assert detail["thefts"], "the incident of the theft is named"


def test_each_planted_shift_is_found_within_two_weeks(loaded_world: LoadedWorld) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        shifts = api.client.get(f"{V1}/shifts", headers=analyst).json()["shifts"]
        routes = api.client.get(f"{V1}/routes", headers=analyst).json()
    planted = [s for n in loaded_world.truth["networks"] for s in n["shifts"]]
    assert planted, "the test world plants shifts"
    for shift in planted:
        when = date.fromisoformat(shift["date"])
        after = " → ".join(shift["after"])
        close = [
            s
            for s in shifts
            if abs((date.fromisoformat(s["detected_on"]) - when).days) <= 14
            and s["after"][0]["route"] == after
        ]
        assert close, (shift, shifts)
        assert close[0]["before"][0]["posts"] == shift["before"]
    assert len(shifts) <= len(planted) + 1
    assert routes["weeks"]
    assert routes["hits"]
    assert routes["networks"]
    assert all(len(r["posts"]) >= 1 for r in routes["hits"])


def test_a_bureau_sees_only_networks_touching_its_records_and_not_what_is_withheld(
    loaded_world: LoadedWorld,
) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        networks = api.client.get(f"{V1}/networks", headers=analyst).json()["networks"]
        owners = {n["id"]: {d["issuing_country"] for d in n["documents"]} for n in networks}
        bureau = next(iter(owners[networks[0]["id"]]))
        mine = {i for i, countries in owners.items() if bureau in countries}
        officer = api.bearer(Role.BUREAU_OFFICER, bureau)
        seen = api.client.get(f"{V1}/networks", headers=officer).json()["networks"]
        assert {n["id"] for n in seen} == mine
        hidden = next((i for i in owners if i not in mine), None)
        if hidden is not None:
            answer = api.client.get(f"{V1}/networks/{hidden}", headers=officer)
            assert answer.status_code == 404
        border = api.bearer(Role.BORDER_OFFICER, bureau)
        assert api.client.get(f"{V1}/networks", headers=border).status_code == 403
        assert api.client.get(f"{V1}/shifts").status_code == 401


def test_a_withheld_record_stays_withheld_in_a_network(loaded_world: LoadedWorld) -> None:
    # A network with documents of two owners: one withholds its records from the other.
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        networks = api.client.get(f"{V1}/networks", headers=analyst).json()["networks"]
    mixed = [n for n in networks if len({d["issuing_country"] for d in n["documents"]}) > 1]
    if not mixed:
        pytest.skip("this world has no network with two owners' documents")
    network = mixed[0]
    countries = sorted({d["issuing_country"] for d in network["documents"]})
    viewer, owner = countries[0], countries[1]
    from bordercheck.db import Database

    database = Database(loaded_world.url, secret_key=KEY)
    with database.session(write=True) as session:
        session.execute(
            update(Record).where(Record.issuing_country == owner).values(withheld_from=viewer)
        )
    try:
        with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
            officer = api.bearer(Role.BUREAU_OFFICER, viewer)
            detail = api.client.get(f"{V1}/networks/{network['id']}", headers=officer).json()
            theirs = [d for d in detail["documents"] if d["issuing_country"] == owner]
            assert theirs
            assert all(d["document_number"] is None for d in theirs)
            assert all(
                d["restricted"] == f"restricted, contact the owning bureau ({owner})"
                for d in theirs
            )
            own = [d for d in detail["documents"] if d["issuing_country"] == viewer]
            assert own
            assert all(d["document_number"] for d in own)
            numbers = {
                d["document_number"] for d in network["documents"] if d["issuing_country"] == owner
            }
            body = api.client.get(f"{V1}/networks/{network['id']}", headers=officer).text
            assert not any(number in body for number in numbers)
            secretariat = api.bearer(Role.BUREAU_OFFICER, "XPO")
            full = api.client.get(f"{V1}/networks/{network['id']}", headers=secretariat).json()
            assert all(d["document_number"] for d in full["documents"])
    finally:
        with database.session(write=True) as session:
            session.execute(update(Record).values(withheld_from=None))
        database.dispose()


@pytest.mark.parametrize("form", ["graphml", "gexf"])
def test_a_network_exports_for_graph_tools(loaded_world: LoadedWorld, form: str) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        first = api.client.get(f"{V1}/networks", headers=analyst).json()["networks"][0]
        answer = api.client.get(
            f"{V1}/networks/{first['id']}/export?format={form}", headers=analyst
        )
    assert answer.status_code == 200
    read = nx.read_graphml if form == "graphml" else nx.read_gexf
    graph = read(io.BytesIO(answer.content))
    kinds = {data.get("kind") for _, data in graph.nodes(data=True)}
    assert {"traveller", "flight", "border_post", "record"} <= kinds
    documents = {n for n, data in graph.nodes(data=True) if data.get("kind") == "document"}
    assert len(documents) == first["size"]


def test_an_unknown_network_is_404_in_the_one_error_shape(loaded_world: LoadedWorld) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        answer = api.client.get(f"{V1}/networks/N-00000000", headers=analyst)
        assert answer.status_code == 404
        assert set(answer.json()) >= {"error", "message", "errors"}
        bad = api.client.get(f"{V1}/networks/nope", headers=analyst)
        assert bad.status_code in (400, 422)
