"""``POST /api/v1/screen`` answers the same on its fast path as through its FastAPI route.

The same requests (answers of each kind, bodies FastAPI refuses, callers it refuses, in the
orders it checks them) are sent to two apps, each on a database of its own set up alike: one
with the fast path (``screening.fast_path``), one without. Status, the headers a client reads
and the body must be the same, query ids aside; so must the metrics the requests leave.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi.testclient import TestClient

from bordercheck.api.app import create_app
from bordercheck.auth.models import Role
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import Principal, TokenAuthority
from bordercheck.documents.mrz import generate_mrz
from bordercheck.screening.fast_path import FastScreen
from bordercheck.settings import Settings
from tests.conftest import FreshDatabases
from tests.signin import Api, ensure_subject

SCREEN = "/api/v1/screen"
RECORDS = "/api/v1/records"
HEADERS = ("content-type", "retry-after", "www-authenticate", "x-bordercheck-training")
MAX_BODY = 4096
# Three requests at once per caller, then one every 5 s: each case below has a caller of its
# own, and the one that goes past its rate is told to retry in 5 s by either app.
BURST, PER_SECOND = 3, 0.2
MRZ_LINES = generate_mrz(
    mrz_format="TD3", document_code="P", issuing_country="DEU", document_number="C01X00T47",
    surname="MUSTERMANN", given_names="ERIKA", nationality="DEU", birth_date=None, sex="F",
    expiry_date=None,
)  # fmt: skip
MRZ = "\n".join(MRZ_LINES)
CLEAN = orjson.dumps({"document_number": "P55512345", "issuing_country": "ITA"})
JSON = "application/json"

# (name, caller, body, content type, times sent). A caller is a role and a bureau (a user of
# that role), or a kind of bad token; ``None`` sends no Authorization header.
Case = tuple[str, str | None, bytes, str | None, int]
CASES: list[Case] = [
    ("clean", "border_officer FRA", CLEAN, JSON, 1),
    ("clean, where and for which operation", "border_officer FRA",
     orjson.dumps({"document_number": "Z1", "issuing_country": "ITA", "location": "CDG-T2",
                   "operation_id": 42}), JSON, 1),
    ("clean, charset in the content type", "border_officer FRA", CLEAN,
     "application/json; charset=utf-8", 1),
    ("clean, +json content type", "border_officer FRA", CLEAN, "application/problem+json", 1),
    ("clean, a byte-order mark", "border_officer FRA", b"\xef\xbb\xbf" + CLEAN, JSON, 1),
    ("clean, a number orjson refuses", "border_officer FRA",
     b'{"document_number": "Z2", "issuing_country": "DEU", "operation_id": 1e999}', JSON, 1),
    ("hit", "border_officer FRA",
     orjson.dumps({"document_number": "c01x-00t47", "issuing_country": "DE",
                   "location": "CDG-T2", "operation_id": "OP-7"}), JSON, 1),
    ("possible hit", "border_officer FRA",
     orjson.dumps({"document_number": "CO1X0OT47", "issuing_country": "DEU"}), JSON, 1),
    ("MRZ", "bureau_officer ITA", orjson.dumps({"mrz": MRZ}), JSON, 1),
    ("withheld", "border_officer ESP",
     orjson.dumps({"document_number": "W00000001", "issuing_country": "DEU"}), JSON, 1),
    ("withheld, owner", "bureau_officer DEU",
     orjson.dumps({"document_number": "W00000001", "issuing_country": "DEU"}), JSON, 1),
    ("admin", "admin XPO", CLEAN, JSON, 1),
    ("a bad MRZ", "border_officer FRA", orjson.dumps({"mrz": "not an mrz"}), JSON, 1),
    ("a field of the wrong type", "border_officer FRA", b'{"document_number": 7}', JSON, 1),
    ("a field too long", "border_officer FRA",
     orjson.dumps({"document_number": "X" * 41, "issuing_country": "DEU"}), JSON, 1),
    ("both ways of naming", "border_officer FRA",
     orjson.dumps({"mrz": MRZ, "document_number": "X", "issuing_country": "DEU"}), JSON, 1),
    ("an unknown field", "border_officer FRA",
     orjson.dumps({"document_number": "X", "issuing_country": "DEU", "colour": "red"}), JSON, 1),
    ("a bad location", "border_officer FRA",
     orjson.dumps({"document_number": "X", "issuing_country": "DEU", "location": "a b"}),
     JSON, 1),
    ("a list", "border_officer FRA", b"[1, 2]", JSON, 1),
    ("a string", "border_officer FRA", b'"x"', JSON, 1),
    ("null", "border_officer FRA", b"null", JSON, 1),
    ("not JSON", "border_officer FRA", b"{not json", JSON, 1),
    ("not JSON, no caller", None, b"{not json", JSON, 1),
    ("not UTF-8", "border_officer FRA", b'{"document_number": "\xff"}', JSON, 1),
    ("a lone surrogate", "border_officer FRA",
     b'{"document_number": "\\ud800", "issuing_country": "DEU"}', JSON, 1),
    ("empty", "border_officer FRA", b"", JSON, 1),
    ("no content type", "border_officer FRA", CLEAN, None, 1),
    ("a form", "border_officer FRA", b"document_number=X&issuing_country=DEU",
     "application/x-www-form-urlencoded", 1),
    ("text", "border_officer FRA", CLEAN, "text/plain", 1),
    ("no token", None, CLEAN, JSON, 1),
    ("no token, bad body", None, b'{"document_number": 7}', JSON, 1),
    ("an expired token", "expired", CLEAN, JSON, 1),
    ("a forged token", "forged", CLEAN, JSON, 1),
    ("not a token", "garbage", CLEAN, JSON, 1),
    ("a basic header", "basic", CLEAN, JSON, 1),
    ("a sandbox's token", "sandbox", CLEAN, JSON, 1),
    ("an analyst", "analyst FRA", CLEAN, JSON, 1),
    ("an analyst, bad body", "analyst FRA", b'{"document_number": 7}', JSON, 1),
    ("a trainer", "trainer FRA", CLEAN, JSON, 1),
    ("a partner", "partner FRA", CLEAN, JSON, 1),
    ("past the rate", "border_officer FRA", CLEAN, JSON, BURST + 1),
    ("past the rate, bad body", "border_officer FRA", b'{"document_number": 7}', JSON,
     BURST + 1),
    ("too large", "border_officer FRA",
     orjson.dumps({"document_number": "X", "issuing_country": "DEU", "mrz": "M" * MAX_BODY}),
     JSON, 1),
]  # fmt: skip


@contextmanager
def serving(url: str, *, fast: bool) -> Iterator[Api]:
    settings = Settings(
        database_url=url, env="test", rate_limit_burst=BURST,
        rate_limit_per_second=PER_SECOND, max_body_bytes=MAX_BODY,
    )  # fmt: skip
    app = create_app(settings, fast_screen=fast)
    with TestClient(app) as client:
        assert app.state.live_index.wait_ready(30), "the screening index did not load"
        api = Api(client)
        api.add_bureaus("DEU", "FRA", "ITA", "ESP")
        # The records the cases find, made through the API (each owner's own).
        owner = api.bearer(Role.BUREAU_OFFICER, "DEU", name="owner.deu")
        for number in ("C01X00T47", "W00000001"):
            body = {"document_number": number, "issuing_country": "DEU",
                    "document_type": "passport", "status": "stolen",
                    "holder_surname": "MUSTERMANN"}  # fmt: skip
            made = client.post(RECORDS, json=body, headers=owner)
            assert made.status_code == 201, made.text
        withheld = client.put(
            f"{RECORDS}/{made.json()['id']}/withheld-from",
            json={"version": 1, "countries": ["ESP"]},
            headers=owner,
        )
        assert withheld.status_code == 200, withheld.text
        app.state.live_index.catch_up()
        yield api


def authorization(api: Api, caller: str | None, name: str) -> dict[str, str]:
    if caller is None:
        return {}
    settings: Settings = api.client.app.state.settings  # type: ignore[attr-defined]
    if caller in ("expired", "forged", "sandbox"):
        subject = ensure_subject(api.database, "user", name, Role.BORDER_OFFICER, "FRA")
        principal = Principal("user", subject, name, Role.BORDER_OFFICER, "FRA")
        clock: Callable[[], float] = time.time
        if caller == "expired":
            clock = lambda: time.time() - 86_400  # noqa: E731
        if caller == "sandbox":
            settings = settings.model_copy(update={"training_sandbox": "drill"})
        authority = TokenAuthority(settings, RevocationList(60), clock=clock)
        token = authority.issue(principal).access_token
        if caller == "forged":
            head, claims, signature = token.split(".")
            token = f"{head}.{claims}.{signature[::-1]}"
        return {"Authorization": f"Bearer {token}"}
    if caller == "garbage":
        return {"Authorization": "Bearer not-a-token"}
    if caller == "basic":
        return {"Authorization": "Basic dXNlcjpwYXNz"}
    role, bureau = caller.split()
    return api.bearer(Role(role), bureau, name=name)


def answers(api: Api) -> list[tuple[str, int, dict[str, str | None], Any]]:
    seen = []
    for number, (name, caller, body, content_type, times) in enumerate(CASES):
        headers = authorization(api, caller, f"caller-{number}")
        if content_type is not None:
            headers["Content-Type"] = content_type
        for _ in range(times):
            response = api.client.post(SCREEN, content=body, headers=headers)
            try:
                answer: Any = response.json()
            except ValueError:
                answer = response.content
            if isinstance(answer, dict) and "query_id" in answer:
                assert isinstance(answer.pop("query_id"), str)
            kept = {header: response.headers.get(header) for header in HEADERS}
            seen.append((name, response.status_code, kept, answer))
    return seen


def screen_metrics(api: Api) -> list[str]:
    admin = api.bearer(Role.ADMIN, "XPO", name="metrics.admin")
    text = api.client.get("/metrics", headers=admin).text
    return sorted(
        line
        for line in text.splitlines()
        if 'route="/api/v1/screen"' in line and line.startswith("bordercheck_http_requests_total")
    )


def test_the_fast_path_answers_as_the_route_does(
    backend: str, fresh_databases: FreshDatabases
) -> None:
    results = {}
    for fast in (True, False):
        with serving(fresh_databases.url(backend), fast=fast) as api:
            stack = api.client.app.middleware_stack  # type: ignore[attr-defined]
            layers = []
            while stack is not None:
                layers.append(type(stack))
                stack = getattr(stack, "app", None)
            assert (FastScreen in layers) is fast
            results[fast] = (answers(api), screen_metrics(api))
    (fast_answers, fast_metrics), (route_answers, route_metrics) = results[True], results[False]
    assert [a[0] for a in fast_answers] == [a[0] for a in route_answers]
    for fast_answer, route_answer in zip(fast_answers, route_answers, strict=True):
        assert fast_answer == route_answer
    statuses = {name: status for name, status, _, _ in fast_answers}
    # The cases are what they say they are.
    assert statuses["hit"] == statuses["MRZ"] == statuses["clean"] == 200
    kinds = {name: answer.get("result") for name, _, _, answer in fast_answers}
    assert (kinds["hit"], kinds["possible hit"], kinds["withheld"]) == (
        "hit", "possible_hit", "possible_hit"
    )  # fmt: skip
    assert kinds["MRZ"] == kinds["withheld, owner"] == "hit"
    assert kinds["clean"] == "no_hit"
    assert [s for n, s, _, _ in fast_answers if n == "past the rate"] == [200, 200, 200, 429]
    assert [s for n, s, _, _ in fast_answers if n.startswith("past the rate, bad")] == [
        422, 422, 422, 429
    ]  # fmt: skip
    assert statuses["not JSON, no caller"] == 422
    assert statuses["no token, bad body"] == 401
    assert statuses["too large"] == 413
    assert statuses["a partner"] == statuses["an analyst"] == 403
    assert statuses["a sandbox's token"] == 401
    assert statuses["not UTF-8"] == 400
    assert fast_metrics == route_metrics
    assert any('status="200"' in line for line in fast_metrics)
