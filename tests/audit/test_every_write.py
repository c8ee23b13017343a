"""Every route that changes state, or reveals who looked for an owner's document, is audited.

The routes are read from the app itself: a route added without a scenario here, or an
explicit reason to leave it out, fails the first test. Each scenario drives its route with a
small valid request and must leave an audit entry with the action named.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pyotp
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from starlette.routing import BaseRoute, Mount, Route

from bordercheck.api.app import create_app
from bordercheck.audit.models import AuditEntry
from bordercheck.auth.models import Role
from bordercheck.hits import service as hits_service
from bordercheck.installation import TRAINING_HEADER
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.settings import Settings
from tests.factories import sandboxed
from tests.signin import PASSWORD, Api, open_api
from tests.web.conftest import Console

V1 = "/api/v1"

# Routes that change nothing, or whose trace is kept elsewhere, and why.
NOT_AUDITED: dict[str, str] = {
    "POST /api/v1/screen": "every search is in the query log (who, where, when, what it "
    "found), written off the request path; a hit it finds opens a case, which is audited "
    "(hit.opened). Two logs of the same search on the hot path would halve its throughput.",
    "POST /api/v1/screen/batch": "as POST /screen: each document is in the query log",
    "POST /check": "as POST /screen: the console's check goes through the same query log",
    "POST /language": "a display preference of the person's own, not a change of the "
    "system's state",
    "POST /api/v1/training/scenarios/validate": "checks the scenario sent in the request and "
    "stores nothing",
    "GET /api/v1/edge/changes": "a kit's poll for changes notes only how far it has synced "
    "(shown by GET /edge/kits); the kit's registration and snapshots are audited, and a "
    "poll every few minutes per kit would bury the trail",
}

# Reads that reveal data an owner may want to know was looked at: audited like writes.
AUDITED_READS = {"GET /api/v1/records/{record_id}/searches"}


def flatten(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(method, path)`` of every route, through included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # an included router (FastAPI keeps them nested)
            yield from flatten(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
            continue
        if isinstance(route, Mount):  # static files: read only
            continue
        assert isinstance(route, APIRoute | Route), f"a route of an unknown kind: {route!r}"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield method, prefix + route.path


def routes_to_audit(app: FastAPI | None = None) -> set[str]:
    app = app or create_app(Settings(env="test"))
    every = {f"{method} {path}" for method, path in flatten(app.router.routes)}
    writes = {route for route in every if not route.startswith("GET ")}
    unknown = (AUDITED_READS | set(NOT_AUDITED)) - every
    assert not unknown, f"listed here but not routes of the app: {sorted(unknown)}"
    return (writes | AUDITED_READS) - set(NOT_AUDITED)


@dataclass
class World:
    """The callers and the things earlier scenarios made, for later ones."""

    api: Api
    made: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api = self.api
        self.deu = api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")
        self.fra = api.bearer(Role.BUREAU_OFFICER, "FRA", name="officer.fra")
        self.border = api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")
        self.admin = api.bearer(Role.ADMIN, "XPO", name="root")

    def console(
        self, username: str, role: Role = Role.BUREAU_OFFICER, bureau: str = "DEU"
    ) -> Console:
        """A browser signed in to the console as ``username`` (made if need be)."""
        if username not in self.made:
            self.api.add_user(username, role, bureau)
            browser = Console(self.api)
            assert browser.sign_in(username).status_code == 303
            self.made[username] = browser
        console: Console = self.made[username]
        return console

    def ok(self, response: httpx2.Response) -> Any:
        assert response.status_code < 300, f"{response.request.url}: {response.text}"
        return response.json() if response.content else None

    def record(self, number: str = "C01X00T47") -> dict[str, Any]:
        body = {
            "document_number": number,
            "issuing_country": "DEU",
            "document_type": "passport",
            "status": "stolen",
        }
        made: dict[str, Any] = self.ok(
            self.api.client.post(f"{V1}/records", headers=self.deu, json=body)
        )
        return made

    def hit(self) -> int:
        """A FRA screening matching a DEU record opens a case (off the request path)."""
        if "hit" in self.made:
            return int(self.made["hit"])
        self.record("H01T00T47")
        body = {"document_number": "H01T00T47", "issuing_country": "DEU"}
        deadline = time.monotonic() + 30
        while True:  # the index picks the record up from the feed within a moment
            answer = self.ok(self.api.client.post(f"{V1}/screen", headers=self.border, json=body))
            if answer["result"] == "hit" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert answer["result"] == "hit", answer
        while time.monotonic() < deadline:
            cases = self.ok(self.api.client.get(f"{V1}/hits", headers=self.deu))["hits"]
            if cases:
                self.made["hit"] = cases[0]["id"]
                return int(cases[0]["id"])
            time.sleep(0.05)
        raise AssertionError("no hit case was opened within 30 s")


def _console_thread(w: World) -> None:
    browser = w.console("carla.m")
    sent = browser.post(
        "/messages",
        {"recipients": "FRA", "subject": "Blanks", "body": "Seen any?"},
        page="/messages/new",
        files=[("attachments", ("note.txt", b"series C01", "text/plain"))],
    )
    assert sent.status_code == 303, sent.text
    w.made["console_thread"] = int(sent.headers["location"].rsplit("/", 1)[1])


def _console_reply(w: World) -> None:
    thread = w.made["console_thread"]
    browser = w.console("carla.m")
    sent = browser.post(f"/messages/{thread}", {"body": "And?"}, page=f"/messages/{thread}")
    assert sent.status_code == 303, sent.text


def _console_read(w: World) -> None:
    thread = w.made["console_thread"]
    w.ok(w.api.client.post(f"{V1}/messages/{thread}", headers=w.fra, json={"body": "None."}))
    browser = w.console("carla.m")
    read = browser.post(f"/messages/{thread}/read", {}, page=f"/messages/{thread}")
    assert read.status_code == 303, read.text


CONSOLE_ENTRY = {
    "name": "Carla Moretti",
    "function": "Focal point, document fraud",
    "unit": "Document fraud",
    "topics": ["document_fraud"],
    "languages": "de en",
    "phone": "+49 611 55-1",
    "email": "fraud@bka.example",
    "hours": "Mon-Fri 08:00-17:00",
    "time_zone": "Europe/Berlin",
}


def _console_entry(w: World) -> None:
    added = w.console("carla.m").post("/directory", CONSOLE_ENTRY, page="/directory/new")
    assert added.status_code == 303, added.text
    w.made["console_entry"] = int(added.headers["location"].rsplit("/", 1)[1])


def _console_entry_change(w: World, action: str, data: dict[str, Any]) -> None:
    entry = w.made["console_entry"]
    done = w.console("carla.m").post(
        f"/directory/{entry}/{action}", data, page=f"/directory/{entry}"
    )
    assert done.status_code == 303, done.text


Scenario = Callable[[World], object]


def _console_hit(w: World) -> int:
    """Another case, for the console's scenarios: the API's were answered and closed."""
    if "console_hit" in w.made:
        return int(w.made["console_hit"])
    w.record("H02T00T47")
    body = {"document_number": "H02T00T47", "issuing_country": "DEU"}
    deadline = time.monotonic() + 30
    while True:
        answer = w.ok(w.api.client.post(f"{V1}/screen", headers=w.border, json=body))
        if answer["result"] == "hit" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    while time.monotonic() < deadline:
        with w.api.database.session() as session:
            found = hits_service.hits_for_query(session, answer["query_id"])
        if found:
            w.made["console_hit"] = found[0].id
            return found[0].id
        time.sleep(0.05)
    raise AssertionError("no hit case was opened within 30 s")


def _console_case_post(
    w: World, username: str, role: Role, bureau: str, what: str, data: dict[str, str]
) -> None:
    hit_id = _console_hit(w)
    page = f"/hits/{hit_id}"
    response = w.console(username, role, bureau).post(f"{page}/{what}", data, page=page)
    assert response.status_code == 303, response.text


def _console_sign_in(w: World) -> None:
    w.console("carla.m")


def _console_enrol(w: World) -> None:
    browser = w.console("carla.m")
    page = browser.client.get("/account/second-factor").text
    secret = page.split('name="secret" value="')[1].split('"')[0]
    code = pyotp.TOTP(secret).now()
    shown = browser.post(
        "/account/second-factor", {"secret": secret, "code": code}, page="/account"
    )
    assert shown.status_code == 200, shown.text
    w.made["carla_secret"] = secret


def _console_second_factor(w: World) -> None:
    again = Console(w.api)
    again.sign_in("carla.m")
    secret = w.made["carla_secret"]
    totp = pyotp.TOTP(secret)
    code = totp.at(time.time() + totp.interval)  # the next step: the last one was used
    response = again.post("/sign-in/second-factor", {"code": code}, page="/sign-in/second-factor")
    assert response.status_code == 303, response.text
    w.made["carla.m"] = again


def _console_password(w: World) -> None:
    browser = w.console("dario.p")
    body = {
        "current_password": PASSWORD,
        "new_password": "another passphrase of dario 7",
        "confirm_password": "another passphrase of dario 7",
    }
    assert browser.post("/account/password", body).status_code == 303


def _console_sign_out(w: World) -> None:
    assert w.console("dario.p").post("/sign-out", {}, page="/home").status_code == 303


def _sign_in(w: World) -> None:
    w.api.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
    w.made["anna"] = w.api.sign_in("anna.k")


def _reset_password(w: World) -> None:
    reset = w.ok(w.api.client.post(f"{V1}/users/ben.f/password", headers=w.admin))
    w.made["temporary_password"] = reset["temporary_password"]


def _change_password(w: World) -> None:
    body = {
        "username": "ben.f",
        "current_password": w.made["temporary_password"],
        "new_password": "a quite different passphrase 42",
    }
    w.ok(w.api.client.post(f"{V1}/auth/password", json=body))


def _client(w: World) -> None:
    body = {"name": "CDG gates", "bureau": "FRA", "role": "border_officer"}
    w.made["client"] = w.ok(w.api.client.post(f"{V1}/clients", headers=w.admin, json=body))


def _kit(w: World) -> None:
    client_id, _ = w.api.add_client("kit client", Role.BORDER_OFFICER, "FRA")
    caller = w.api.bearer(Role.BORDER_OFFICER, "FRA", name=client_id, kind="client")
    w.made["kit"] = w.ok(w.api.client.post(f"{V1}/edge/kits", headers=caller))
    # A kit of a training sandbox names it on every call, as the kit program does.
    training = {TRAINING_HEADER: w.made["kit"]["training"]} if w.made["kit"]["training"] else {}
    w.made["kit_caller"] = caller | {"X-Edge-Kit": w.made["kit"]["kit_id"]} | training


def _watched(w: World) -> int:
    if "watched" not in w.made:
        record = w.record("W01X00T47")
        w.ok(w.api.client.post(f"{V1}/records/{record['id']}/watch", headers=w.deu))
        w.made["watched"] = record["id"]
    return int(w.made["watched"])


def _directory_entry(w: World) -> int:
    if "entry" not in w.made:
        body = {
            "name": "Anna Keller",
            "function": "Focal point, migrant smuggling",
            "unit": "Smuggling of migrants",
            "topics": ["migrant_smuggling"],
            "languages": ["de", "en"],
            "phone": "+49 611 55-0",
            "email": "smuggling@bka.example",
            "hours": "Mon-Fri 08:00-17:00",
            "time_zone": "Europe/Berlin",
        }
        entry = w.ok(w.api.client.post(f"{V1}/directory", headers=w.deu, json=body))
        w.made["entry"] = entry["id"]
    return int(w.made["entry"])


def _thread(w: World) -> int:
    if "thread" not in w.made:
        body = {"subject": "Stolen blanks", "recipients": ["FRA"], "body": "Seen any?"}
        w.made["thread"] = w.ok(w.api.client.post(f"{V1}/messages", headers=w.deu, json=body))["id"]
    return int(w.made["thread"])


def _record_for(w: World, key: str, number: str) -> dict[str, Any]:
    if key not in w.made:
        w.made[key] = w.record(number)
    record: dict[str, Any] = w.made[key]
    return record


def _console_record(w: World) -> str:
    """A record added through the console's form by a DEU bureau officer: its page."""
    if "console_record" not in w.made:
        fields = {"document_type": "passport", "status": "stolen", "issuing_country": "DEU"}
        response = w.console("elke.b").post(
            "/records/new", {"document_number": "C0NS0L301", **fields}, page="/records/new"
        )
        assert response.status_code == 303, response.text
        w.made["console_record"] = response.headers["location"]
    return str(w.made["console_record"])


def _console_record_change(w: World) -> None:
    page = _console_record(w)
    fields = {"document_type": "passport", "status": "lost", "issuing_country": "DEU"}
    sent = {"version": "1", "document_number": "C0NS0L301", **fields}
    assert w.console("elke.b").post(f"{page}/edit", sent, page=page).status_code == 303


def _console_record_withhold(w: World) -> None:
    page = _console_record(w)
    sent = {"version": "2", "countries": "RUS"}
    assert w.console("elke.b").post(f"{page}/withheld-from", sent, page=page).status_code == 303


def _console_record_review(w: World) -> None:
    page = _console_record(w)
    sent = {"version": "3"}
    assert w.console("elke.b").post(f"{page}/review", sent, page=page).status_code == 303


def _console_record_watch(w: World) -> None:
    page = _console_record(w)
    assert w.console("elke.b").post(f"{page}/watch", {}, page=page).status_code == 303


def _console_record_unwatch(w: World) -> None:
    page = _console_record(w)
    assert w.console("elke.b").post(f"{page}/unwatch", {}, page=page).status_code == 303


def _console_record_withdraw(w: World) -> None:
    page = _console_record(w)
    sent = {"version": "4", "reason": "found again"}
    assert w.console("elke.b").post(f"{page}/withdraw", sent, page=page).status_code == 303


def _console_import(w: World) -> None:
    browser = w.console("elke.b")
    body = b"document_number,issuing_country,document_type,status\nC0NS0L302,DEU,visa,lost\n"
    sent = browser.client.post(
        "/records/import",
        data={"csrf_token": browser.csrf("/records/import")},
        files={"file": ("lot.csv", body, "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    deadline = time.monotonic() + 30
    while 'data-import-state="running"' in browser.client.get(sent.headers["location"]).text:
        assert time.monotonic() < deadline, "the import did not end within 30 s"
        time.sleep(0.05)


# Each route, the action its scenario must leave, and the scenario. In order: some use what
# earlier ones made.
def _operation(w: World) -> None:
    body = {
        "name": "Blue Gate",
        "starts_on": "2026-03-01",
        "ends_on": "2026-03-04",
        "locations": ["CDG", "FCO"],
        "bureaus": ["FRA", "DEU"],
    }
    w.ok(w.api.client.post(f"{V1}/operations", headers=w.admin, json=body))


def _console_operation(w: World) -> None:
    browser = w.console("olga.c", Role.ADMIN)
    form = {
        "name": "Red Gate",
        "starts_on": "2026-04-01",
        "ends_on": "2026-04-04",
        "locations": "CDG",
        "bureaus": "FRA, DEU",
    }
    assert browser.post("/operations", form, page="/operations/new").status_code == 303


def _partner_operation(w: World) -> int:
    if "partner_operation" not in w.made:
        w.ok(w.api.client.post(f"{V1}/partners", headers=w.admin,
                               json={"code": "EBA", "name": "EUBA"}))  # fmt: skip
        body = {"name": "Green Gate", "starts_on": "2026-05-01", "ends_on": "2026-05-04",
                "locations": ["CDG"], "bureaus": ["FRA"]}  # fmt: skip
        made = w.ok(w.api.client.post(f"{V1}/operations", headers=w.admin, json=body))
        w.made["partner_operation"] = made["id"]
    return int(w.made["partner_operation"])


def _invite(w: World) -> None:
    number = _partner_operation(w)
    w.ok(w.api.client.post(f"{V1}/operations/{number}/partners", headers=w.admin,
                           json={"partner": "EBA"}))  # fmt: skip


def _uninvite(w: World) -> None:
    number = _partner_operation(w)
    w.ok(w.api.client.delete(f"{V1}/operations/{number}/partners/EBA", headers=w.admin))


def _console_invite(w: World) -> None:
    number = _partner_operation(w)
    browser = w.console("olga.c", Role.ADMIN)
    page = f"/operations/{number}"
    posted = browser.post(f"{page}/partners", {"partner": "EBA"}, page=page)
    assert posted.status_code == 303, posted.text


def _console_uninvite(w: World) -> None:
    number = _partner_operation(w)
    browser = w.console("olga.c", Role.ADMIN)
    page = f"/operations/{number}"
    assert browser.post(f"{page}/partners/EBA/remove", {}, page=page).status_code == 303


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "POST /api/v1/auth/token": ("auth.signed_in", _sign_in),
    "POST /sign-in": ("auth.signed_in", _console_sign_in),
    "POST /account/second-factor": ("auth.second_factor_enrolled", _console_enrol),
    "POST /sign-in/second-factor": ("auth.signed_in", _console_second_factor),
    "POST /account/password": ("user.password_changed", _console_password),
    "POST /sign-out": ("auth.signed_out", _console_sign_out),
    "POST /records/new": ("record.created", _console_record),
    "POST /records/{record_id}/edit": ("record.updated", _console_record_change),
    "POST /records/{record_id}/withheld-from": ("record.withheld", _console_record_withhold),
    "POST /records/{record_id}/review": ("record.reviewed", _console_record_review),
    "POST /records/{record_id}/watch": ("record.watched", _console_record_watch),
    "POST /records/{record_id}/unwatch": ("record.unwatched", _console_record_unwatch),
    "POST /records/{record_id}/withdraw": ("record.withdrawn", _console_record_withdraw),
    "POST /records/import": ("records.imported", _console_import),
    "POST /api/v1/auth/revoke": (
        "token.revoked",
        lambda w: w.ok(w.api.client.post(f"{V1}/auth/revoke", headers=w.made["anna"])),
    ),
    "POST /api/v1/bureaus": (
        "bureau.added",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/bureaus", headers=w.admin, json={"country_code": "ITA", "name": "NCB Rome"}
            )
        ),
    ),
    "POST /api/v1/users": (
        "user.added",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/users",
                headers=w.admin,
                json={
                    "username": "ben.f",
                    "bureau": "FRA",
                    "role": "border_officer",
                    "password": PASSWORD,
                },
            )
        ),
    ),
    "POST /api/v1/users/{username}/deactivate": (
        "user.deactivated",
        lambda w: w.ok(w.api.client.post(f"{V1}/users/ben.f/deactivate", headers=w.admin)),
    ),
    "POST /api/v1/users/{username}/reactivate": (
        "user.reactivated",
        lambda w: w.ok(w.api.client.post(f"{V1}/users/ben.f/reactivate", headers=w.admin)),
    ),
    "POST /api/v1/users/{username}/password": ("user.password_reset", _reset_password),
    "POST /api/v1/auth/password": ("user.password_changed", _change_password),
    "POST /api/v1/clients": ("client.added", _client),
    "POST /api/v1/operations": ("operation.created", _operation),
    "POST /operations": ("operation.created", _console_operation),
    "POST /api/v1/partners": ("partner.added", _partner_operation),
    "POST /api/v1/operations/{operation_id}/partners": ("operation.partner_invited", _invite),
    "DELETE /api/v1/operations/{operation_id}/partners/{partner}": (
        "operation.partner_uninvited",
        _uninvite,
    ),
    "POST /operations/{operation_id}/partners": ("operation.partner_invited", _console_invite),
    "POST /operations/{operation_id}/partners/{partner}/remove": (
        "operation.partner_uninvited",
        _console_uninvite,
    ),
    "POST /api/v1/clients/{client_id}/deactivate": (
        "client.revoked",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/clients/{w.made['client']['client_id']}/deactivate", headers=w.admin
            )
        ),
    ),
    "POST /api/v1/records": ("record.created", lambda w: _record_for(w, "record", "C01X00T47")),
    "PATCH /api/v1/records/{record_id}": (
        "record.updated",
        lambda w: w.made.update(
            record=w.ok(
                w.api.client.patch(
                    f"{V1}/records/{w.made['record']['id']}",
                    headers=w.deu,
                    json={"version": w.made["record"]["version"], "status": "lost"},
                )
            )
        ),
    ),
    "PUT /api/v1/records/{record_id}/withheld-from": (
        "record.withheld",
        lambda w: w.made.update(
            record=w.ok(
                w.api.client.put(
                    f"{V1}/records/{w.made['record']['id']}/withheld-from",
                    headers=w.deu,
                    json={"version": w.made["record"]["version"], "countries": ["ITA"]},
                )
            )
        ),
    ),
    "POST /api/v1/records/{record_id}/review": (
        "record.reviewed",
        lambda w: w.made.update(
            record=w.ok(
                w.api.client.post(
                    f"{V1}/records/{w.made['record']['id']}/review",
                    headers=w.deu,
                    json={"version": w.made["record"]["version"]},
                )
            )
        ),
    ),
    "DELETE /api/v1/records/{record_id}": (
        "record.withdrawn",
        lambda w: w.ok(
            w.api.client.request(
                "DELETE",
                f"{V1}/records/{w.made['record']['id']}",
                headers=w.deu,
                json={"version": w.made["record"]["version"], "reason": "recovered"},
            )
        ),
    ),
    "POST /api/v1/records/bulk": (
        "records.imported",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/records/bulk",
                headers=w.deu,
                json={
                    "records": [
                        {
                            "document_number": "B01X00T47",
                            "issuing_country": "DEU",
                            "document_type": "passport",
                            "status": "lost",
                        }
                    ]
                },
            )
        ),
    ),
    "POST /api/v1/records/{record_id}/watch": ("record.watched", _watched),
    "GET /api/v1/records/{record_id}/searches": (
        "record.searches_read",
        lambda w: w.ok(w.api.client.get(f"{V1}/records/{_watched(w)}/searches", headers=w.deu)),
    ),
    "DELETE /api/v1/records/{record_id}/watch": (
        "record.unwatched",
        lambda w: w.ok(w.api.client.delete(f"{V1}/records/{_watched(w)}/watch", headers=w.deu)),
    ),
    "POST /api/v1/directory": ("directory.added", _directory_entry),
    "PATCH /api/v1/directory/{entry_id}": (
        "directory.updated",
        lambda w: w.ok(
            w.api.client.patch(
                f"{V1}/directory/{_directory_entry(w)}", headers=w.deu, json={"unit": "Smuggling"}
            )
        ),
    ),
    "POST /api/v1/directory/{entry_id}/confirm": (
        "directory.confirmed",
        lambda w: w.ok(
            w.api.client.post(f"{V1}/directory/{_directory_entry(w)}/confirm", headers=w.deu)
        ),
    ),
    "DELETE /api/v1/directory/{entry_id}": (
        "directory.deleted",
        lambda w: w.ok(w.api.client.delete(f"{V1}/directory/{_directory_entry(w)}", headers=w.deu)),
    ),
    "POST /api/v1/edge/kits": ("edge.kit_registered", _kit),
    "POST /api/v1/edge/snapshot": (
        "edge.snapshot_issued",
        lambda w: w.ok(w.api.client.post(f"{V1}/edge/snapshot", headers=w.made["kit_caller"])),
    ),
    "POST /api/v1/edge/uploads": (
        "edge.upload_received",
        # Unreadable, yet kept as received: a kit's upload is recorded whatever it holds.
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/edge/uploads",
                headers=w.made["kit_caller"],
                json={"entries": [{"id": "0" * 32, "sealed": base64.b64encode(b"x").decode()}]},
            )
        ),
    ),
    "DELETE /api/v1/edge/kits/{kit_id}": (
        "edge.kit_revoked",
        lambda w: w.ok(
            w.api.client.delete(f"{V1}/edge/kits/{w.made['kit']['kit_id']}", headers=w.admin)
        ),
    ),
    "POST /api/v1/manifests": (
        "manifest.screened",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/manifests",
                headers=w.border,
                content=write_paxlst(synthetic_flight(3, seed=1, flight="XB77")),
            )
        ),
    ),
    "POST /api/v1/messages": ("messages.thread_created", _thread),
    "POST /api/v1/messages/{thread_id}": (
        "messages.sent",
        lambda w: w.ok(
            w.api.client.post(f"{V1}/messages/{_thread(w)}", headers=w.fra, json={"body": "No."})
        ),
    ),
    "POST /api/v1/messages/{thread_id}/read": (
        "messages.read",
        lambda w: w.ok(
            w.api.client.post(f"{V1}/messages/{_thread(w)}/read", headers=w.deu, json={})
        ),
    ),
    # The world is a training sandbox (exercises are planted nowhere else): its webhooks may
    # only name this machine.
    "PUT /api/v1/hits/webhook": (
        "hit.webhook_set",
        lambda w: w.ok(
            w.api.client.put(
                f"{V1}/hits/webhook", headers=w.deu, json={"url": "https://127.0.0.1:9/hooks"}
            )
        ),
    ),
    "PUT /api/v1/hits/rules": (
        "hit.rules_set",
        lambda w: w.ok(
            w.api.client.put(f"{V1}/hits/rules", headers=w.deu, json={"domestic": "notify_only"})
        ),
    ),
    "DELETE /api/v1/hits/webhook": (
        "hit.webhook_removed",
        lambda w: w.ok(w.api.client.delete(f"{V1}/hits/webhook", headers=w.deu)),
    ),
    "POST /api/v1/hits/{hit_id}/messages": (
        "messages.sent",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/hits/{w.hit()}/messages", headers=w.fra, json={"body": "Holding him."}
            )
        ),
    ),
    "POST /api/v1/hits/{hit_id}/answer": (
        "hit.answered",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/hits/{w.hit()}/answer", headers=w.deu, json={"answer": "confirmed"}
            )
        ),
    ),
    "POST /api/v1/hits/{hit_id}/outcome": (
        "hit.outcome",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/hits/{w.hit()}/outcome", headers=w.fra, json={"outcome": "seized"}
            )
        ),
    ),
    "POST /api/v1/notifications/read": (
        "notifications.read",
        lambda w: (
            w.hit(),
            w.ok(w.api.client.post(f"{V1}/notifications/read", headers=w.deu, json={})),
        ),
    ),
    "POST /hits/{hit_id}/answer": (
        "hit.answered",
        lambda w: _console_case_post(
            w, "carla.m", Role.BUREAU_OFFICER, "DEU", "answer", {"answer": "confirmed"}
        ),
    ),
    "POST /hits/{hit_id}/outcome": (
        "hit.outcome",
        lambda w: _console_case_post(
            w, "border.fra.console", Role.BORDER_OFFICER, "FRA", "outcome", {"outcome": "seized"}
        ),
    ),
    "POST /hits/{hit_id}/messages": (
        "messages.sent",
        lambda w: _console_case_post(
            w, "carla.m", Role.BUREAU_OFFICER, "DEU", "messages", {"body": "Thank you."}
        ),
    ),
    "POST /notifications/read": (
        "notifications.read",
        lambda w: w.console("carla.m").post("/notifications/read", {}, page="/notifications"),
    ),
}


def _console_admin(w: World) -> Console:
    return w.console("olga.admin", Role.ADMIN)


def _console_posts(path: str, data: dict[str, str] | None = None) -> Scenario:
    def scenario(w: World) -> None:
        response = _console_admin(w).post(path, data or {}, page="/admin")
        assert response.status_code in (200, 303), f"{path}: {response.text[:500]}"

    return scenario


def _console_client_deactivated(w: World) -> None:
    client_id, _ = w.api.add_client("console gates", Role.BORDER_OFFICER, "FRA")
    _console_posts(f"/admin/clients/{client_id}/deactivate")(w)


def _console_kit_revoked(w: World) -> None:
    client_id, _ = w.api.add_client("console kit", Role.BORDER_OFFICER, "FRA")
    caller = w.api.bearer(Role.BORDER_OFFICER, "FRA", name=client_id, kind="client")
    kit = w.ok(w.api.client.post(f"{V1}/edge/kits", headers=caller))["kit_id"]
    _console_posts(f"/admin/kits/{kit}/revoke")(w)


def _console_manifest(w: World) -> None:
    browser = w.console("piet.b", Role.BUREAU_OFFICER)
    response = browser.client.post(
        "/manifests",
        data={"csrf_token": browser.csrf("/manifests")},
        files={"file": ("f.edi", write_paxlst(synthetic_flight(3, seed=2, flight="XB78")))},
    )
    assert response.status_code == 303, response.text


# The console's pages that change state, after the API's: each goes through the same service.
SCENARIOS |= {
    "POST /admin/partners": (
        "partner.added",
        _console_posts("/admin/partners", {"code": "UND", "name": "Drugs and crime office"}),
    ),
    "POST /admin/bureaus": (
        "bureau.added",
        _console_posts("/admin/bureaus", {"country": "ESP", "name": "NCB Madrid"}),
    ),
    "POST /admin/users": (
        "user.added",
        _console_posts(
            "/admin/users",
            {"username": "gina.c", "bureau": "FRA", "role": "analyst", "password": PASSWORD},
        ),
    ),
    "POST /admin/users/{username}/deactivate": (
        "user.deactivated",
        _console_posts("/admin/users/gina.c/deactivate"),
    ),
    "POST /admin/users/{username}/reactivate": (
        "user.reactivated",
        _console_posts("/admin/users/gina.c/reactivate"),
    ),
    "POST /admin/users/{username}/password": (
        "user.password_reset",
        _console_posts("/admin/users/gina.c/password"),
    ),
    "POST /admin/users/{username}/second-factor": (
        "auth.second_factor_reset",
        _console_posts("/admin/users/gina.c/second-factor"),
    ),
    "POST /admin/clients": (
        "client.added",
        _console_posts(
            "/admin/clients", {"name": "Orly gates", "bureau": "FRA", "role": "border_officer"}
        ),
    ),
    "POST /admin/clients/{client_id}/deactivate": ("client.revoked", _console_client_deactivated),
    "POST /admin/kits/{kit_id}/revoke": ("edge.kit_revoked", _console_kit_revoked),
    "POST /manifests": ("manifest.screened", _console_manifest),
    "POST /messages": ("messages.thread_created", _console_thread),
    "POST /messages/{thread_id}": ("messages.sent", _console_reply),
    "POST /messages/{thread_id}/read": ("messages.read", _console_read),
    "POST /directory": ("directory.added", _console_entry),
    "POST /directory/{entry_id}/edit": (
        "directory.updated",
        lambda w: _console_entry_change(w, "edit", CONSOLE_ENTRY | {"unit": "Fraud unit"}),
    ),
    "POST /directory/{entry_id}/confirm": (
        "directory.confirmed",
        lambda w: _console_entry_change(w, "confirm", {}),
    ),
    "POST /directory/{entry_id}/remove": (
        "directory.deleted",
        lambda w: _console_entry_change(w, "remove", {}),
    ),
}


DRILL = (
    "id: drill\ntitle: {en: Drill}\nbriefing: {en: Check it.}\n"
    "documents:\n  - {ref: held, document_number: X1234567, issuing_country: FRA,\n"
    "     surname: DOE, nationality: FRA, birth_date: 1990-01-01, expiry_date: 2030-01-01}\n"
    "steps:\n  - {id: check, kind: screen, title: {en: Check}, document: held,\n"
    "     expect: no_hit, points: 5}\n"
)


def _trainer(w: World) -> dict[str, str]:
    return w.api.bearer(Role.TRAINER, "XPO", name="trainer.api")


def _exercise(w: World) -> None:
    body = {"scenario": "drill", "trainees": ["officer.deu"]}
    made = w.ok(w.api.client.post(f"{V1}/training/exercises", headers=_trainer(w), json=body))
    w.made["exercise"] = made["id"]


def _console_trainer(w: World) -> Console:
    return w.console("tina.trainer", Role.TRAINER, "FRA")


def _console_scenario(w: World) -> None:
    browser = _console_trainer(w)
    response = browser.client.post(
        "/training/scenarios",
        data={"csrf_token": browser.csrf("/training"), "action": "import"},
        files={"file": ("drill2.yaml", DRILL.replace("id: drill", "id: drill-two"))},
    )
    assert response.status_code == 303, response.text


def _console_exercise(w: World) -> None:
    browser = _console_trainer(w)
    response = browser.post(
        "/training/exercises", {"scenario": "drill-two", "trainees": "officer.fra"},
        page="/training/exercises/new",
    )  # fmt: skip
    assert response.status_code == 303, response.text
    w.made["console_exercise"] = response.headers["location"].rsplit("/", 1)[1]


# Training (the app runs as a training sandbox here): trainers' scenarios and exercises.
SCENARIOS |= {
    "POST /api/v1/training/scenarios": (
        "training.scenario_imported",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/training/scenarios", headers=_trainer(w), json={"source": DRILL}
            )
        ),
    ),
    "POST /api/v1/training/exercises": ("training.exercise_started", _exercise),
    "POST /api/v1/training/exercises/{exercise_id}/end": (
        "training.exercise_ended",
        lambda w: w.ok(
            w.api.client.post(
                f"{V1}/training/exercises/{w.made['exercise']}/end", headers=_trainer(w)
            )
        ),
    ),
    "POST /training/scenarios": ("training.scenario_imported", _console_scenario),
    "POST /training/exercises": ("training.exercise_started", _console_exercise),
    "POST /training/exercises/{exercise_id}/end": (
        "training.exercise_ended",
        lambda w: _console_trainer(w).post(
            f"/training/exercises/{w.made['console_exercise']}/end",
            {},
            page=f"/training/exercises/{w.made['console_exercise']}",
        ),
    ),
}


def test_every_route_that_writes_has_a_scenario_or_a_reason() -> None:
    missing = routes_to_audit() - set(SCENARIOS)
    assert not missing, (
        f"routes with no audit scenario: {sorted(missing)}; add one to SCENARIOS (and an "
        "audit entry to the route), or a reason to NOT_AUDITED"
    )
    assert not set(SCENARIOS) - routes_to_audit(), "a scenario for a route that is gone"


def test_a_new_route_without_a_scenario_is_caught() -> None:
    app = create_app(Settings(env="test"))
    extra = APIRouter()

    @extra.post("/records/{record_id}/flag")
    def flag(record_id: int) -> None:
        """A route someone adds later, without an audit entry."""

    app.include_router(extra, prefix=V1)
    assert routes_to_audit(app) - set(SCENARIOS) == {"POST /api/v1/records/{record_id}/flag"}


def last_seq(api: Api) -> int:
    with api.database.session() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def actions_after(api: Api, seq: int) -> list[str]:
    with api.database.session() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.seq > seq)))


def test_each_route_that_writes_leaves_an_audit_entry(fresh_url: str, tmp_path: Path) -> None:
    unaudited = []
    with open_api(fresh_url, edge_cache_dir=tmp_path, training_sandbox=sandboxed(fresh_url)) as api:
        world = World(api)
        for route, (action, scenario) in SCENARIOS.items():
            before = last_seq(api)
            scenario(world)
            if action not in actions_after(api, before):
                unaudited.append(f"{route} (expected {action}, got {actions_after(api, before)})")
    assert unaudited == []
