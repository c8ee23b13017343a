"""``/manifests`` over HTTP: a whole flight screened, hit cases tagged, who may send and read."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bordercheck.audit.models import AuditEntry
from bordercheck.auth.models import Role
from bordercheck.documents.types import DocumentType
from bordercheck.hits.models import Hit
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.intake import ParsingSlots
from bordercheck.manifests.models import ManifestTraveller, StoredManifest
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from tests.signin import Api, open_api

MANIFESTS = "/api/v1/manifests"
DATA = Path(__file__).parent / "data"
EDIFACT = {"Content-Type": "application/edifact"}


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA"), manifest_max_bytes=200_000) as api:
        yield api


def report(api: Api, number: str, country: str = "DEU") -> int:
    body = {"document_number": number, "issuing_country": country,
            "document_type": "passport", "status": "stolen"}  # fmt: skip
    response = api.client.post(
        "/api/v1/records", json=body, headers=api.bearer(Role.BUREAU_OFFICER, country)
    )
    assert response.status_code == 201, response.text
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    return int(response.json()["id"])


def submit(api: Api, body: str | bytes, role: Role = Role.BORDER_OFFICER,
           bureau: str = "FRA", **params: Any) -> Any:  # fmt: skip
    headers = {**EDIFACT, **api.bearer(role, bureau)}
    return api.client.post(MANIFESTS, content=body, headers=headers, params=params)


def test_a_planted_stolen_passport_on_a_flight_of_300_is_reported_with_its_seat(api: Api) -> None:
    record_id = report(api, "C01X00T47")
    stolen = TravelDocument("P", DocumentType.PASSPORT, "C01X00T47", "DEU")
    flight = synthetic_flight(300, seed=11, flight="XB1234", planted=[stolen])
    planted = next(t for t in flight.travellers if t.documents[0] is stolen)
    response = submit(api, write_paxlst(flight, per_part=120), location="CDG-T2")
    assert response.status_code == 200, response.text
    (manifest,) = response.json()["manifests"]
    assert (manifest["flight"], manifest["departure"], manifest["arrival"]) == (
        "XB1234",
        "IST",
        "CDG",
    )
    assert (manifest["travellers"], manifest["documents_screened"]) == (300, 300)
    (hit,) = manifest["hits"]
    assert hit["seat"] == planted.seat
    assert hit["booking_reference"] == planted.booking_reference
    assert hit["name"] == planted.name
    assert hit["position"] == planted.position
    assert hit["matches"][0]["record_id"] == record_id
    assert manifest["warnings"] == []

    with api.database.session() as session:
        case = session.scalars(select(Hit)).one()
        assert (case.manifest_id, case.flight) == (manifest["manifest_id"], "XB1234")
        assert (case.owner_bureau, case.querying_bureau, case.location) == ("DEU", "FRA", "CDG-T2")
        stored = session.get(StoredManifest, manifest["manifest_id"])
        assert stored is not None
        assert (stored.travellers, stored.hits) == (300, 1)
        rows = session.scalar(select(func.count()).select_from(ManifestTraveller))
        assert rows == 300
        (entry,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "manifest.screened")
        )
        assert entry.subject == f"manifest:{stored.id}"
        assert entry.bureau_code == "FRA"

    detail = api.client.get(
        f"{MANIFESTS}/{stored.id}", headers=api.bearer(Role.BUREAU_OFFICER, "FRA")
    )
    assert detail.status_code == 200, detail.text
    travellers = detail.json()["traveller_list"]
    assert len(travellers) == 300
    seated = next(t for t in travellers if t["seat"] == planted.seat)
    assert (seated["result"], seated["document_number"]) == ("hit", "C01X00T47")


def test_an_upload_a_crew_list_and_a_bad_traveller_among_good_ones(api: Api) -> None:
    report(api, "C01X00T48")
    teletype = (DATA / "teletype.edi").read_bytes()
    response = api.client.post(
        MANIFESTS, files={"file": ("XB900.edi", teletype, "application/octet-stream")},
        headers=api.bearer(Role.BORDER_OFFICER, "FRA", kind="client"),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    answer = response.json()
    (manifest,) = answer["manifests"]
    assert manifest["travellers"] == 3
    assert [h["seat"] for h in manifest["hits"]] == ["12C"]  # screened despite its empty dates
    assert [(n["seat"], n["reason"]) for n in manifest["not_screened"]] == [
        ("12D", "no travel document")
    ]
    assert "the airline counts 5 passengers (CNT); the list has 3" in manifest["warnings"]
    assert any("traveller 2 (EMPTY, DOCUMENT)" in w for w in manifest["warnings"])
    assert "skipped 3 line(s) before the interchange (teletype header)" in answer["warnings"]

    crew = submit(api, (DATA / "crew_list.edi").read_bytes(), role=Role.BUREAU_OFFICER)
    assert crew.status_code == 200, crew.text
    assert crew.json()["manifests"][0]["list_type"] == "crew"
    assert crew.json()["manifests"][0]["documents_screened"] == 3


def test_an_unreadable_file_is_refused_naming_the_segment(api: Api) -> None:
    refused = submit(api, "UNA:+.? '\nBGM+745'UNT+2+1'")
    assert refused.status_code == 422
    assert refused.json()["message"] == (
        "segment 1 (BGM, line 2): an interchange begins with UNB (or, without an envelope, "
        "a message with UNH)"
    )
    nobody = submit(api, "UNA:+.? '\nUNH+1+PAXLST:D:05B:UN:IATA'UNT+2+1'")
    assert nobody.status_code == 422
    assert "refused rather than screened as an empty flight" in nobody.json()["message"]
    empty = submit(api, "  \n")
    assert empty.status_code == 422
    assert "the body is empty" in empty.json()["message"]
    large = submit(api, write_paxlst(synthetic_flight(1200, seed=1)))
    assert large.status_code == 413
    assert "BORDERCHECK_MANIFEST_MAX_BYTES" in large.json()["message"]
    form = api.client.post(MANIFESTS, files={"other": ("x", b"x")},
                           headers=api.bearer(Role.BORDER_OFFICER, "FRA"))  # fmt: skip
    assert form.status_code == 422
    assert "form field 'file'" in form.json()["message"]


def test_who_may_submit_and_who_may_read(api: Api) -> None:
    text = (DATA / "guide_example.edi").read_text()
    assert api.client.post(MANIFESTS, content=text).status_code == 401
    for role in (Role.ANALYST, Role.TRAINER):
        refused = submit(api, text, role=role, bureau="XPO")
        assert refused.status_code == 403
        assert "this needs one of the roles" in refused.json()["message"]
    made = submit(api, text, role=Role.BORDER_OFFICER, bureau="FRA").json()["manifests"][0]
    submit(api, text, role=Role.BUREAU_OFFICER, bureau="ITA")
    one = f"{MANIFESTS}/{made['manifest_id']}"
    for role, bureau, status in [
        (Role.BUREAU_OFFICER, "FRA", 200), (Role.BORDER_OFFICER, "FRA", 200),
        (Role.ADMIN, "XPO", 200), (Role.ANALYST, "XPO", 200),
        (Role.BUREAU_OFFICER, "DEU", 403), (Role.ANALYST, "DEU", 403), (Role.TRAINER, "XPO", 403),
    ]:  # fmt: skip
        answer = api.client.get(one, headers=api.bearer(role, bureau))
        assert answer.status_code == status, (role, bureau, answer.text)
    refused = api.client.get(one, headers=api.bearer(Role.BUREAU_OFFICER, "DEU"))
    assert "submitted by bureau FRA" in refused.json()["message"]
    assert (
        api.client.get(f"{MANIFESTS}/999999", headers=api.bearer(Role.ADMIN, "XPO")).status_code
        == 404
    )

    def listed(role: Role, code: str, **params: Any) -> list[str]:
        answer = api.client.get(MANIFESTS, headers=api.bearer(role, code), params=params)
        assert answer.status_code == 200, answer.text
        return [m["bureau_code"] for m in answer.json()]

    assert listed(Role.BUREAU_OFFICER, "FRA") == ["FRA"]
    assert listed(Role.ANALYST, "XPO") == ["ITA", "FRA"]
    assert listed(Role.ADMIN, "XPO", bureau="ITA") == ["ITA"]
    other = api.client.get(MANIFESTS, headers=api.bearer(Role.BUREAU_OFFICER, "FRA"),
                           params={"bureau": "ITA"})  # fmt: skip
    assert other.status_code == 403
    # A bureau's analyst asking for the lists: told which lists, and who reads them.
    analyst = api.client.get(MANIFESTS, headers=api.bearer(Role.ANALYST, "FRA"))
    assert analyst.status_code == 403
    assert analyst.json()["message"].startswith("the lists of bureau FRA: passenger lists are")
    own = api.client.get(MANIFESTS, headers=api.bearer(Role.BUREAU_OFFICER, "FRA"),
                         params={"bureau": "fra"})  # fmt: skip
    assert own.status_code == 200, own.text


def test_lists_past_their_retention_are_forgotten(api: Api) -> None:
    from bordercheck.manifests import service

    text = (DATA / "guide_example.edi").read_text()
    made = submit(api, text).json()["manifests"][0]
    with api.database.session(write=True) as session:
        assert service.purge(session, datetime.now(UTC) - timedelta(days=1), actor="t") == 0
        assert service.purge(session, datetime.now(UTC) + timedelta(seconds=1), actor="t") == 1
    with api.database.session() as session:
        assert session.get(StoredManifest, made["manifest_id"]) is None
        assert session.scalar(select(func.count()).select_from(ManifestTraveller)) == 0


def test_an_absurd_count_or_part_number_is_a_warning_and_the_flight_is_still_screened(
    api: Api,
) -> None:
    report(api, "C01X00T48")
    teletype = (DATA / "teletype.edi").read_text(encoding="latin-1")
    huge = "9" * 20
    assert "CNT+4\n2:5'" in teletype  # a teletype line break in the middle of the segment
    response = submit(api, teletype.replace("CNT+4\n2:5'", f"CNT+42:{huge}'").encode("latin-1"))
    assert response.status_code == 200, response.text
    (manifest,) = response.json()["manifests"]
    assert manifest["reported_count"] is None
    assert [h["seat"] for h in manifest["hits"]] == ["12C"]
    assert any(f"count {huge} is more than any flight" in w for w in manifest["warnings"])

    parts = (DATA / "multipart.edi").read_text(encoding="latin-1").replace("+02:F'", f"+{huge}:F'")
    response = submit(api, parts.encode("latin-1"))
    assert response.status_code == 200, response.text
    (manifest,) = response.json()["manifests"]
    assert manifest["travellers"] > 0
    assert any(f"part number '{huge}' is not a number" in w for w in manifest["warnings"])


def test_a_large_list_is_charged_by_its_size_before_it_is_read(fresh_url: str) -> None:
    # A burst of 5 requests' worth: 1 MB is charged as about 60, so it is refused unread
    # (the body is not even a PAXLST; reading it would have said so).
    with open_api(fresh_url, rate_limit_per_second=0.001, rate_limit_burst=5,
                  manifest_max_bytes=2_000_000) as api:  # fmt: skip
        response = submit(api, b"x" * 1_000_000)
        assert response.status_code == 429, response.text
        assert response.headers["Retry-After"]
        small = submit(api, (DATA / "guide_example.edi").read_bytes())
        assert small.status_code == 200, small.text


def test_lists_wait_for_a_parsing_slot_and_are_screened_once_one_is_free(api: Api) -> None:
    slots: ParsingSlots = api.client.app.state.manifest_parsing  # type: ignore[attr-defined]
    assert slots.slots == 1
    portal = api.client.portal  # type: ignore[attr-defined]
    body = (DATA / "guide_example.edi").read_bytes()
    holding = portal.call(_hold, slots)
    answers: list[Any] = []
    sender = threading.Thread(target=lambda: answers.append(submit(api, body)))
    sender.start()
    deadline = time.monotonic() + 10
    while slots.waiting != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slots.waiting == 1
    assert not answers  # queued, not parsed
    portal.call(holding.set)
    sender.join(timeout=10)
    (answer,) = answers
    assert answer.status_code == 200, answer.text


async def _hold(slots: ParsingSlots) -> asyncio.Event:
    """Take the one slot until the returned event is set."""
    taken, release = asyncio.Event(), asyncio.Event()

    async def keep() -> None:
        async with slots.slot():
            taken.set()
            await release.wait()

    _ = asyncio.get_running_loop().create_task(keep())
    await taken.wait()
    return release


def test_a_list_without_envelope_and_an_older_us_list_are_screened_with_their_warnings(
    api: Api,
) -> None:
    report(api, "C01X00T47")
    split = submit(api, (DATA / "dcs_three_parts.edi").read_bytes())
    assert split.status_code == 200, split.text
    answer = split.json()
    assert any("no interchange envelope" in w for w in answer["warnings"])
    (manifest,) = answer["manifests"]
    assert (manifest["flight"], manifest["travellers"]) == ("KL1234", 3)
    assert [h["document_number"] for h in manifest["hits"]] == ["C01X00T47"]
    old = submit(api, (DATA / "us_pdt_dialect.edi").read_bytes())
    assert old.status_code == 200, old.text
    assert any("older US dialect" in w for w in old.json()["warnings"])
    assert old.json()["manifests"][0]["documents_screened"] == 3
    listed = api.client.get(MANIFESTS, headers=api.bearer(Role.BUREAU_OFFICER, "FRA")).json()
    assert any("older US dialect" in w for row in listed for w in row["warnings"])
