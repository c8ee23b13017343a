"""``POST /screen`` and ``/screen/batch`` over HTTP: answers, who may ask, the log, hit cases."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bordercheck.auth.models import Role
from bordercheck.documents.mrz import generate_mrz
from bordercheck.hits.models import Hit
from bordercheck.screening.matcher import Query, screen
from bordercheck.screening.models import ScreeningMatch, ScreeningQuery
from bordercheck.screening.schemas import BatchMatchesResponse, BatchResponse
from tests.signin import Api, open_api

SCREEN = "/api/v1/screen"
RECORDS = "/api/v1/records"
MOVED_WITHIN = 30.0  # seconds for journalled queries to reach the database, even loaded


def logged_ids(api: Api) -> set[str]:
    with api.database.session() as session:
        return set(session.scalars(select(ScreeningQuery.id)))


def wait_logged(api: Api, query_ids: set[str]) -> set[str]:
    """Poll until every one of ``query_ids`` is in the database; returns all logged ids."""
    deadline = time.monotonic() + MOVED_WITHIN
    while not query_ids <= (logged := logged_ids(api)):
        assert time.monotonic() < deadline, f"{len(query_ids - logged)} answered, never logged"
        time.sleep(0.02)
    return logged


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        yield api


def report(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {
        "document_number": "C01X00T47",
        "issuing_country": "DEU",
        "document_type": "passport",
        "status": "stolen",
        **overrides,
    }
    response = api.client.post(RECORDS, json=body, headers=api.bearer(Role.BUREAU_OFFICER, "DEU"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def screened_within(api: Api, body: dict[str, Any], result: str, seconds: float) -> float:
    """Screen until the answer is ``result``; returns how long it took (fails past ``seconds``)."""
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    started = time.monotonic()
    while True:
        response = api.client.post(SCREEN, json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer = response.json()
        elapsed = time.monotonic() - started
        if answer["result"] == result:
            return elapsed
        assert elapsed < seconds, f"still {answer['result']} after {seconds} s"
        # As a desk would ask again: a few dozen times a second, within the rate limit.
        time.sleep(0.02)


def test_a_record_made_through_the_api_is_screened_within_a_second(api: Api) -> None:
    body = {"document_number": "C01X00T47", "issuing_country": "DEU", "document_type": "passport"}
    assert (
        api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA")).json()[
            "result"
        ]
        == "no_hit"
    )
    record = report(api)
    assert screened_within(api, body, "hit", 1.0) < 1.0
    withdrawn = api.client.request(
        "DELETE",
        f"{RECORDS}/{record['id']}",
        json={"version": 1, "reason": "recovered"},
        headers=api.bearer(Role.BUREAU_OFFICER, "DEU"),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert screened_within(api, body, "no_hit", 1.0) < 1.0


def test_a_hit_answers_the_record_and_opens_a_case(api: Api) -> None:
    record = report(api)
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    response = api.client.post(
        SCREEN,
        json={"document_number": "c01x-00t47", "issuing_country": "DE", "location": "CDG-T2",
              "operation_id": "OP-7"},
        headers=api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra"),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["result"] == "hit"
    (match,) = answer["matches"]
    assert match | {"score": 1.0} == {
        "record_id": record["id"], "document_number": "C01X00T47", "issuing_country": "DEU",
        "document_type": "passport", "status": "stolen", "blank": False, "match": "exact",
        "score": 1.0,
    }  # fmt: skip
    with api.database.session() as session:
        hit = session.scalars(select(Hit)).one()
        logged = session.get(ScreeningQuery, answer["query_id"])
        assert logged is not None
        assert (logged.principal_name, logged.bureau_code, logged.location) == (
            "border.fra", "FRA", "CDG-T2"
        )  # fmt: skip
        assert (logged.operation_id, logged.result, logged.match_count) == ("OP-7", "hit", 1)
    assert (hit.record_id, hit.owner_bureau, hit.querying_bureau) == (record["id"], "DEU", "FRA")
    assert hit.query_id == answer["query_id"]


def test_an_ocr_damaged_number_is_a_possible_hit(api: Api) -> None:
    report(api, document_number="C01X00T47")
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    answer = api.client.post(
        SCREEN,
        json={"document_number": "CO1X0OT47", "issuing_country": "DEU"},
        headers=api.bearer(Role.BORDER_OFFICER, "FRA"),
    ).json()
    assert answer["result"] == "possible_hit"
    assert answer["matches"][0]["match"] == "ocr_variant"
    assert answer["matches"][0]["document_number"] == "C01X00T47"


def test_an_mrz_is_read_checked_and_screened(api: Api) -> None:
    report(api, document_number="C01X00T47", holder_surname="MUSTERMANN")
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    lines = generate_mrz(
        mrz_format="TD3", document_code="P", issuing_country="DEU", document_number="C01X00T47",
        surname="MUSTERMANN", given_names="ERIKA", nationality="DEU", birth_date=None, sex="F",
        expiry_date=None,
    )  # fmt: skip
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    answer = api.client.post(SCREEN, json={"mrz": "\n".join(lines)}, headers=headers).json()
    assert answer["result"] == "hit"
    assert answer["mrz"]["checks"]["document_number"] is True
    broken = lines[1][:9] + ("1" if lines[1][9] != "1" else "2") + lines[1][10:]
    answer = api.client.post(SCREEN, json={"mrz": f"{lines[0]}\n{broken}"}, headers=headers).json()
    assert answer["mrz"]["valid"] is False
    assert answer["mrz"]["checks"]["document_number"] is False
    assert answer["result"] == "hit"  # the number is still screened
    refused = api.client.post(SCREEN, json={"mrz": "not an mrz"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "mrz"


def test_a_withheld_record_tells_only_whom_to_contact(api: Api) -> None:
    record = report(api)
    withheld = api.client.put(
        f"{RECORDS}/{record['id']}/withheld-from",
        json={"version": 1, "countries": ["FRA"]},
        headers=api.bearer(Role.BUREAU_OFFICER, "DEU"),
    )
    assert withheld.status_code == 200, withheld.text
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    body = {"document_number": "C01X00T47", "issuing_country": "DEU"}
    from_france = api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA"))
    assert from_france.json()["result"] == "possible_hit"
    assert from_france.json()["matches"] == [
        {"record_id": None, "document_number": None, "issuing_country": "DEU",
         "document_type": None, "status": None, "blank": None, "match": "restricted",
         "score": None,
         "message": "restricted, contact the owning bureau"}
    ]  # fmt: skip
    from_italy = api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "ITA"))
    assert from_italy.json()["result"] == "hit"
    assert from_italy.json()["matches"][0]["record_id"] == record["id"]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.TRAINER])
def test_only_screening_roles_may_screen(api: Api, role: Role) -> None:
    body = {"document_number": "C01X00T47", "issuing_country": "DEU"}
    assert api.client.post(SCREEN, json=body).status_code == 401
    assert api.client.post(SCREEN, json=body, headers=api.bearer(role, "FRA")).status_code == 403
    client = api.bearer(Role.BORDER_OFFICER, "FRA", kind="client")
    assert api.client.post(SCREEN, json=body, headers=client).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document_number": "C01X00T47", "issuing_country": "XX"}, "issuing_country"),
        ({"document_number": "C01X00T47" * 3, "issuing_country": "DEU"}, "document_number"),
        ({"document_number": "C01X/0*T47", "issuing_country": "DEU"}, "document_number"),
        ({"document_number": "C01X00T47", "issuing_country": "DEU", "document_type": "car"},
         "document_type"),
        ({"document_number": "C01X00T47"}, "body"),
        ({"document_number": "C01X00T47", "issuing_country": "DEU", "location": "a b"},
         "location"),
    ],
)  # fmt: skip
def test_bad_fields_are_named(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_a_batch_answers_in_order_and_names_a_bad_item(api: Api) -> None:
    report(api)
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    documents = [{"document_number": f"X{n:08d}", "issuing_country": "DEU"} for n in range(500)]
    documents[321] = {"document_number": "C01X00T47", "issuing_country": "DEU"}
    response = api.client.post(f"{SCREEN}/batch", json={"documents": documents}, headers=headers)
    results = response.json()["results"]
    with api.database.session() as session:  # the hit is committed before the answer
        assert session.get(ScreeningQuery, results[321]["query_id"]) is not None
    assert [r["result"] for r in results].count("hit") == 1
    assert results[321]["result"] == "hit"
    assert len({r["query_id"] for r in results}) == 500
    documents[3] = {"document_number": "X1", "issuing_country": "QQ"}
    bad = api.client.post(f"{SCREEN}/batch", json={"documents": documents}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "documents.3.issuing_country"
    too_many = [{"document_number": "X1", "issuing_country": "DEU"}] * 10_001
    over = api.client.post(f"{SCREEN}/batch", json={"documents": too_many}, headers=headers)
    assert over.status_code in {413, 422}
    # The clean ones are journalled first and moved into the database by the log's thread.
    assert len(wait_logged(api, {r["query_id"] for r in results})) == 500


def test_a_batch_answered_with_its_matches_only_agrees_with_the_full_answer(api: Api) -> None:
    hit = report(api, document_number="C01X00T47")
    possible = report(api, document_number="D77K31M02", document_type="identity_card")
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    documents = [{"document_number": f"X{n:08d}", "issuing_country": "DEU"} for n in range(300)]
    documents[7] = {"document_number": "C01X00T47", "issuing_country": "DEU", "location": "P-1"}
    documents[150] = {"document_number": "D77K31MO2", "issuing_country": "DEU"}  # O for 0
    documents[299] = {"document_number": "C01X00T47", "issuing_country": "DEU"}
    full = api.client.post(f"{SCREEN}/batch", json={"documents": documents}, headers=headers)
    assert full.status_code == 200, full.text
    compact = api.client.post(
        f"{SCREEN}/batch", json={"documents": documents, "answer": "matches"}, headers=headers
    )
    assert compact.status_code == 200, compact.text
    answer = compact.json()
    BatchMatchesResponse.model_validate(answer)  # the answer is what OpenAPI says it is
    BatchResponse.model_validate(full.json())
    assert answer["screened"] == 300
    assert [r["position"] for r in answer["results"]] == [7, 150, 299]
    assert [(r["result"], r["matches"][0]["record_id"]) for r in answer["results"]] == [
        ("hit", hit["id"]), ("possible_hit", possible["id"]), ("hit", hit["id"])
    ]  # fmt: skip

    def without_id(result: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in result.items() if k != "query_id"}

    expected = [
        without_id(r) | {"position": i}
        for i, r in enumerate(full.json()["results"])
        if r["result"] != "no_hit"
    ]
    assert [without_id(r) for r in answer["results"]] == expected
    with api.database.session() as session:  # matches committed, with their cases, first
        for result in answer["results"]:
            assert session.get(ScreeningQuery, result["query_id"]) is not None
        cases = session.scalars(select(Hit).where(Hit.record_id == hit["id"])).all()
        assert len(cases) == 1  # the same document again: sightings of one case
    # Every document of both batches is logged, matched or not, answered in full or not.
    deadline = time.monotonic() + MOVED_WITHIN
    while len(logged_ids(api)) < 600:
        assert time.monotonic() < deadline, "a batch's clean documents were never logged"
        time.sleep(0.02)
    refused = api.client.post(
        f"{SCREEN}/batch", json={"documents": documents, "answer": "some"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "answer"


def test_the_caller_is_checked_before_the_body(api: Api) -> None:
    for path, bad in ((SCREEN, {"document_number": 7}), (f"{SCREEN}/batch", {"documents": 7})):
        assert api.client.post(path, json=bad).status_code == 401
        analyst = api.bearer(Role.ANALYST, "FRA")
        assert api.client.post(path, json=bad, headers=analyst).status_code == 403
        officer = api.bearer(Role.BORDER_OFFICER, "FRA")
        assert api.client.post(path, json=bad, headers=officer).status_code == 422


def test_a_batch_that_is_not_a_batch_gets_a_422_naming_what_is_wrong(api: Api) -> None:
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    cases = {
        b"{not json": "body",
        b"": "body",
        b'{"documents": []}': "documents",
        b'{"documents": [{"document_number": "X1"}]}': "documents.0",
        b'{"documents": [{"mrz": "P<", "colour": "red"}]}': "documents.0.colour",
        b'{"documnts": []}': "documents",
    }
    for body, field in cases.items():
        response = api.client.post(f"{SCREEN}/batch", content=body, headers=headers)
        assert response.status_code == 422, body
        assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    schema = api.client.get("/openapi.json").json()
    body_schema = schema["paths"]["/api/v1/screen/batch"]["post"]["requestBody"]
    documents = body_schema["content"]["application/json"]["schema"]["oneOf"][0]
    items = documents["properties"]["documents"]
    assert items["items"] == {"$ref": "#/components/schemas/ScreenRequest"}
    assert "ScreenRequest" in schema["components"]["schemas"]


def test_owners_follow_the_searches_on_a_record(api: Api) -> None:
    record = report(api)
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    owner = api.bearer(Role.BUREAU_OFFICER, "DEU")
    searches = f"{RECORDS}/{record['id']}/searches"
    assert api.client.get(searches, headers=owner).status_code == 403  # not followed yet
    other = api.bearer(Role.BUREAU_OFFICER, "FRA")
    assert api.client.post(f"{RECORDS}/{record['id']}/watch", headers=other).status_code == 403
    assert api.client.post(f"{RECORDS}/{record['id']}/watch", headers=owner).status_code == 201
    body = {"document_number": "C01X00T47", "issuing_country": "DEU", "location": "NCE-1"}
    api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA"))
    (search,) = api.client.get(searches, headers=owner).json()
    assert (search["bureau_code"], search["location"], search["match"]) == ("FRA", "NCE-1", "exact")
    with api.database.session() as session:
        assert session.scalar(select(func.count()).select_from(ScreeningMatch)) == 1


def test_metrics_count_requests_and_show_the_index(api: Api) -> None:
    api.client.post(
        SCREEN,
        json={"document_number": "C01X00T47", "issuing_country": "DEU"},
        headers=api.bearer(Role.BORDER_OFFICER, "FRA"),
    )
    text = api.client.get("/metrics", headers=api.bearer(Role.ADMIN, "XPO")).text
    assert (
        'bordercheck_http_requests_total{method="POST",route="/api/v1/screen",status="200"}' in text
    )
    assert "bordercheck_index_records 0.0" in text
    assert "bordercheck_screenings_total 1.0" in text


def test_while_the_query_log_cannot_be_written_screening_says_so_then_recovers(
    fresh_url: str,
) -> None:
    with open_api(fresh_url, query_log_retry_seconds=0.05) as api:
        headers = api.bearer(Role.BORDER_OFFICER, "FRA")
        admin = api.bearer(Role.ADMIN, "XPO")
        body = {"document_number": "C01X00T47", "issuing_country": "DEU"}
        first = api.client.post(SCREEN, json=body, headers=headers)
        assert first.status_code == 200
        wait_logged(api, {first.json()["query_id"]})
        with api.database.session(write=True) as session:  # the log's table is gone
            session.execute(text("ALTER TABLE screening_queries RENAME TO queries_away"))
        # A clean answer is safe once journalled: until the log's thread finds the table gone,
        # clean queries are answered; from then on, refused.
        answered = {first.json()["query_id"]}
        deadline = time.monotonic() + MOVED_WITHIN
        while (
            sent_alone := api.client.post(SCREEN, json=body, headers=headers)
        ).status_code == 200:
            answered.add(sent_alone.json()["query_id"])
            assert time.monotonic() < deadline, "the query log never found the database failing"
            time.sleep(0.02)
        for path, sent in ((SCREEN, body), (f"{SCREEN}/batch", {"documents": [body] * 3})):
            refused = (
                sent_alone if path == SCREEN else api.client.post(path, json=sent, headers=headers)
            )
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "unavailable"
            assert "query log cannot be written" in refused.json()["message"]
            assert int(refused.headers["Retry-After"]) >= 1
        ready = api.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"].startswith("query log cannot be written")
        metrics = api.client.get("/metrics", headers=admin).text
        assert "bordercheck_query_log_failing 1.0" in metrics
        assert "bordercheck_query_log_refused_entries 4.0" in metrics
        # Nothing piles up but what was answered before the failure was found, kept for later.
        assert f"bordercheck_query_log_pending {len(answered) - 1}.0" in metrics
        with api.database.session(write=True) as session:
            session.execute(text("ALTER TABLE queries_away RENAME TO screening_queries"))
        deadline = time.monotonic() + 30
        while api.client.get("/readyz").status_code != 200:  # back by itself
            assert time.monotonic() < deadline, "the query log did not recover"
            time.sleep(0.02)
        answer = api.client.post(SCREEN, json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        answered.add(answer.json()["query_id"])
        # Every answered query, those answered while the table was gone included; none of the
        # refused (they were not answered).
        assert wait_logged(api, answered) == answered
        assert "bordercheck_query_log_failing 0.0" in api.client.get("/metrics", headers=admin).text


def test_out_of_range_ids_and_values_are_refused_not_crashed(api: Api) -> None:
    owner = api.bearer(Role.BUREAU_OFFICER, "DEU")
    for path in (f"{RECORDS}/100000000000000000000", f"{RECORDS}/1099511627776"):
        assert api.client.get(path, headers=owner).status_code == 422
    body = {"document_number": "C01X00T47", "issuing_country": "DEU", "operation_id": 10**70}
    response = api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("operation_id")


def test_metrics_label_routes_by_template_whatever_the_path(api: Api) -> None:
    for n in range(20):
        api.client.get(f"{RECORDS}/{n + 1}")
    text = api.client.get("/metrics", headers=api.bearer(Role.ADMIN, "XPO")).text
    assert 'route="/api/v1/records/{record_id}"' in text
    assert 'route="/api/v1/records/7"' not in text


def test_sign_in_guessing_is_slowed_down(fresh_url: str) -> None:
    with open_api(fresh_url) as api:
        api.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
        moment = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
        api.client.app.state.sign_in_guard.clock = lambda: moment  # type: ignore[attr-defined]
        statuses = [
            api.client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "anna.k", "password": f"guess {n}"},
            ).status_code
            for n in range(6)
        ]
    assert statuses == [401, 401, 401, 401, 401, 429]


def test_a_stale_snapshot_is_brought_up_to_date_before_it_screens(api: Api, tmp_path: Path) -> None:
    from bordercheck.screening.live import LiveIndex, build_from_registry

    live_index = api.client.app.state.live_index  # type: ignore[attr-defined]
    snapshot = tmp_path / "index.snap"
    build_from_registry(api.database, live_index.key).save(snapshot)
    record = report(api)  # made after the snapshot
    later = LiveIndex(api.database, key=live_index.key, snapshot=snapshot)
    index = later.load()
    assert index.sequence >= 1
    answer = screen(index, Query(number="C01X00T47", country="DEU"))
    assert answer.matches[0].record_id == record["id"]


def test_the_index_thread_makes_full_collections_while_it_follows(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server raises the collector's threshold (requests make few cycles), so its own full
    collections come hours apart; the index's thread makes them instead, or what cycles there
    are would pile up in the heap."""
    from bordercheck.screening import live

    monkeypatch.setattr(live, "FULL_COLLECTION_SECONDS", 0.0)
    full = threading.Event()

    def seen(phase: str, info: dict[str, int]) -> None:
        in_the_index_thread = threading.current_thread().name == "screening-index"
        if phase == "stop" and info["generation"] == 2 and in_the_index_thread:
            full.set()

    key = api.client.app.state.live_index.key  # type: ignore[attr-defined]
    follower = live.LiveIndex(api.database, key=key, poll_interval=0.01)
    follower.start()
    assert follower.wait_ready(30)  # loading makes a full collection of its own: not counted
    gc.callbacks.append(seen)
    try:
        assert full.wait(10)
    finally:
        gc.callbacks.remove(seen)
        follower.stop()
