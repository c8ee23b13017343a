"""Who may call what: every route of the app (API and console, every method) × every kind of
caller × an object of the caller's own bureau and one of another bureau, with the answer the
access rules give. The callers include a partner organisation's account (invited to one of the
world's operations, not to the other): every route refuses it unless its rule names it.

The routes are read from the app: a route without a rule in ``RULES`` fails
``test_every_route_has_a_rule``, naming it. A rule says which callers may call the route at
all (the others: 403), whether it reaches an object that belongs to a bureau (then callers not
in ``sees_all`` get 403 or 404 for another bureau's object, never its content), and how to
make a request good enough to reach the access checks. Unauthenticated callers get 401 from
the API and are sent to sign in by the console, unless the route is ``public``.
"""

# ruff: noqa: E501 (the rule table reads one route to a line)

from __future__ import annotations

import base64
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import APIRouter

from bordercheck.api.app import create_app
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.auth.policy import OPEN_TO_PARTNERS
from bordercheck.documents.countries import is_country
from bordercheck.hits import service as hits_service
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.settings import Settings
from tests.audit.test_every_write import flatten
from tests.conftest import FreshDatabases
from tests.factories import sandboxed
from tests.signin import PASSWORD, Api, open_api
from tests.web.conftest import Console

V1 = "/api/v1"
OWN, OTHER, THIRD = "DEU", "FRA", "ITA"
SECRETARIAT = "XPO"
# Partner organisations: the matrix's partner, invited to OWN's operation, and another that
# coordinators invite and remove in the calls of those routes.
PARTNER, GUEST = "EBA", "UND"
# The world's database is a training sandbox (exercises are planted only in one).
SANDBOX = "matrix"

# The callers: every role, the secretariat's staff (a bureau too, with wider reach), an API
# client (a machine, API only), a partner organisation's account, and nobody signed in.
CALLERS: dict[str, tuple[Role, str]] = {
    "admin": (Role.ADMIN, SECRETARIAT),
    "bureau_officer": (Role.BUREAU_OFFICER, OWN),
    "border_officer": (Role.BORDER_OFFICER, OWN),
    "analyst": (Role.ANALYST, OWN),
    "trainer": (Role.TRAINER, OWN),
    "secretariat_officer": (Role.BUREAU_OFFICER, SECRETARIAT),
    "secretariat_analyst": (Role.ANALYST, SECRETARIAT),
    "client": (Role.BORDER_OFFICER, OWN),
    "partner": (Role.PARTNER, PARTNER),
}
ANONYMOUS = "anonymous"
# A partner's account is refused by every route that does not say it is open to partners
# (``auth.policy.open_to_partners``), whatever roles it lets through: no group below holds
# it, and the rules of the routes open to it name it (``PARTNERS``).
PARTNERS = frozenset({"partner"})
# Whose objects a caller calls its own: its bureau's; for the partner, those of the
# operation it is invited to (OWN's) and that operation's thread.
HOME = {"partner": OWN}
EVERYONE = frozenset(CALLERS) - PARTNERS
PEOPLE = EVERYONE - {"client"}
ADMIN = frozenset({"admin"})
OFFICERS = frozenset({"bureau_officer", "secretariat_officer"})
# Role groups as the access rules name them (a client has its role: border officer here).
SCREENERS = ADMIN | OFFICERS | {"border_officer", "client"}
RECORD_WRITERS = ADMIN | OFFICERS
RECORD_READERS = RECORD_WRITERS | {"secretariat_analyst"}
CASE_ROLES = SCREENERS | {"analyst", "secretariat_analyst"}
NOTIFIED = ADMIN | OFFICERS
# Messages: bureau officers read and write their bureaus' threads; the secretariat's analysts
# and administrators oversee them as metadata only (participants, dates), never the text.
MESSAGE_READERS = ADMIN | OFFICERS | {"secretariat_analyst"}
OVERSEERS = ADMIN | {"secretariat_analyst", "secretariat_officer"}
ANALYSTS = ADMIN | OFFICERS | {"analyst", "secretariat_analyst"}
COORDINATORS = ADMIN | {"secretariat_analyst"}
OPERATION_READERS = COORDINATORS | OFFICERS | {"analyst", "border_officer", "client"}
# A bureau's analysts do not read passenger lists; the secretariat's read every bureau's.
MANIFEST_READERS = SCREENERS | {"secretariat_analyst"}
# The directory holds people's contact details: read by people, not by machines.
DIRECTORY_READERS = PEOPLE
# A bureau's hit settings (webhook, rules, deliveries): its officers and administrators.
HIT_SETTINGS = ADMIN | OFFICERS
# Offline kits are API clients with a kit registered (the X-Edge-Kit header).
KITS = frozenset({"client"})
# A case: the owning bureau's officers answer it, the querying side's officers and border
# officers record the outcome (here every case is found by a third bureau), administrators
# read every case, the secretariat only those escalated to it.
CASE_OWNERS = ADMIN | {"bureau_officer"}
# Who reaches any bureau's object of a kind, beside the object's own bureau.
CENTRE = ADMIN | {"secretariat_analyst"}
# Training: trainers run exercises (and read the library and the scores), administrators
# read; trainees read the briefing of an exercise they take part in, never the scores. The
# world's OWN exercise has the matrix's OWN border officer and bureau officer as its trainees
# (an analyst checks no document, so no exercise is started for one); OTHER's, two people of
# OTHER.
TRAINERS = frozenset({"trainer"})
TRAINING_READERS = TRAINERS | ADMIN
TRAINEE_ROLES = frozenset({"bureau_officer", "border_officer", "analyst", "secretariat_officer",
                           "secretariat_analyst"})  # fmt: skip
TRAINEES = frozenset({"bureau_officer", "border_officer"})


@dataclass(frozen=True)
class Rule:
    """Who may call a route, whose objects they reach, and a request that passes validation.

    ``roles``: callers let through (others get 403). ``target``: the kind of object the path
    names ("record", "hit"…); then each caller is tried with its own bureau's object and
    another's, and a caller that is not in ``sees_all`` must get 403 or 404 for the other's.
    ``send``: the request's body or query, from the world and the object's path values.
    ``public``: open to callers not signed in.
    """

    roles: frozenset[str]
    target: str | None = None
    sees_all: frozenset[str] = frozenset()
    send: Callable[[World, dict[str, Any]], dict[str, Any]] | None = None
    public: bool = False
    own: frozenset[str] | None = None  # who reaches its own bureau's object (``roles``)
    # Statuses the handler gives after the access checks let the caller through (a wrong
    # second-factor code is 401), and what a caller not signed in gets if not the usual.
    answers: frozenset[int] = frozenset()
    anonymous: int | None = None


def rule(
    roles: frozenset[str] | set[str],
    target: str | None = None,
    sees_all: frozenset[str] | set[str] = frozenset(),
    send: Callable[[World, dict[str, Any]], dict[str, Any]] | None = None,
    *,
    public: bool = False,
    own: frozenset[str] | set[str] | None = None,
    answers: frozenset[int] | set[int] = frozenset(),
    anonymous: int | None = None,
) -> Rule:
    return Rule(
        frozenset(roles), target, frozenset(sees_all), send, public,
        None if own is None else frozenset(own), frozenset(answers), anonymous,
    )  # fmt: skip


def body(data: Any) -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    """A JSON body (or a function of the world and the path values giving one)."""

    def send(w: World, ids: dict[str, Any]) -> dict[str, Any]:
        return {"json": data(w, ids) if callable(data) else data}

    return send


def form(data: Any) -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    """A console form's fields (the CSRF token is added by the caller's browser)."""

    def send(w: World, ids: dict[str, Any]) -> dict[str, Any]:
        return {"data": data(w, ids) if callable(data) else data}

    return send


def query(params: dict[str, Any]) -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    return lambda w, ids: {"params": params}


def new_record_body(country: str = OWN) -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    def data(w: World, ids: dict[str, Any]) -> dict[str, Any]:
        return {"document_number": w.number(), "issuing_country": country,
                "document_type": "passport", "status": "stolen"}  # fmt: skip

    return body(data)


def version(w: World, ids: dict[str, Any]) -> int:
    return w.record_version(ids["record_id"])


PAXLST = write_paxlst(synthetic_flight(2, seed=3, flight="XB12"))
ENTRY = {"name": "Anna Keller", "function": "Focal point", "unit": "Smuggling",
         "topics": ["migrant_smuggling"], "languages": ["de"], "phone": "+49 611 55-0",
         "email": "focal@example.org", "hours": "Mon-Fri 08:00-17:00",
         "time_zone": "Europe/Berlin"}  # fmt: skip
CONSOLE_ENTRY = ENTRY | {"topics": "migrant_smuggling", "languages": "de"}
OPERATION = {"name": "Blue Gate", "starts_on": "2026-03-01", "ends_on": "2026-03-04",
             "locations": ["CDG"], "bureaus": [OWN]}  # fmt: skip
SCREEN = {"document_number": "M01X00T47", "issuing_country": OWN}
# A kit's upload is kept as received, whatever it holds (tests/edge prove what is read of it).
UPLOAD = {"entries": [{"id": "0" * 32, "sealed": base64.b64encode(b"x").decode()}]}


@dataclass
class World:
    """Two bureaus' objects of every kind, and a way to be each caller (API and console)."""

    api: Api
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    browsers: dict[str, tuple[Console, str]] = field(default_factory=dict)
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    serial: int = 0
    partners: int = 0
    kit: str = ""
    logins: dict[str, tuple[Role, str, str, Any]] = field(default_factory=dict)
    minted: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        api = self.api
        with api.database.session(write=True) as session:
            auth_service.add_partner(session, PARTNER, "EUBA, European border agency")
            auth_service.add_partner(session, GUEST, "Drugs and crime office")
        for name, (role, bureau) in CALLERS.items():
            kind = "client" if name == "client" else "user"
            login = f"matrix.{name}"
            if kind == "user":
                api.add_user(login, role, bureau)
            else:
                login, _ = api.add_client(login, role, bureau)
            self.headers[name] = api.bearer(role, bureau, name=login, kind=kind)
            self.logins[name] = (role, bureau, login, kind)
        for bureau in (OWN, OTHER, THIRD):
            for role in (Role.BUREAU_OFFICER, Role.BORDER_OFFICER):
                name = f"maker.{role.value}.{bureau.lower()}"
                api.add_user(name, role, bureau)
                self.headers[name] = api.bearer(role, bureau, name=name)
        self.headers["maker.admin"] = self.headers["admin"]
        registered = api.client.post(f"{V1}/edge/kits", headers=self.headers["client"])
        self.kit = str(self.ok(registered)["kit_id"])
        for bureau in (OWN, OTHER):
            self.objects[("record", bureau)] = {"record_id": self.record(bureau)}
            self.objects[("entry", bureau)] = {"entry_id": self.entry(bureau)}
            self.objects[("thread", bureau)] = self.thread(bureau)
            self.objects[("manifest", bureau)] = {"manifest_id": self.manifest(bureau)}
            operation, thread_id = self.operation(bureau)
            self.objects[("operation", bureau)] = {"operation_id": operation}
            self.objects[("operation_thread", bureau)] = self.reply(bureau, thread_id)
            self.objects[("import", bureau)] = {"import_id": self.imported(bureau)}
            self.objects[("hit", bureau)] = {"hit_id": self.hit(bureau)}
        own = self.objects[("operation", OWN)]["operation_id"]
        self.invite(own, PARTNER)
        # The OWN exercise's trainees are the matrix's own callers; OTHER's, people of OTHER.
        self.objects[("exercise", OWN)] = {
            "exercise_id": self.exercise([f"matrix.{name}" for name in sorted(TRAINEES)])
        }
        others = [
            f"maker.{role.value}.{OTHER.lower()}"
            for role in (Role.BUREAU_OFFICER, Role.BORDER_OFFICER)
        ]
        self.objects[("exercise", OTHER)] = {"exercise_id": self.exercise(others)}

    # -- making things, as the bureaus would -------------------------------------------------

    def ok(self, response: Any) -> Any:
        assert response.status_code < 400, f"{response.request.url}: {response.text[:500]}"
        return response.json() if "json" in response.headers.get("content-type", "") else None

    def officer(self, bureau: str) -> dict[str, str]:
        return self.headers[f"maker.bureau_officer.{bureau.lower()}"]

    def number(self) -> str:
        self.serial += 1
        return f"M{self.serial:04d}X47"

    def record(self, bureau: str, number: str | None = None) -> int:
        sent = {"document_number": number or self.number(), "issuing_country": bureau,
                "document_type": "passport", "status": "stolen"}  # fmt: skip
        made = self.ok(
            self.api.client.post(f"{V1}/records", headers=self.officer(bureau), json=sent)
        )
        return int(made["id"])

    def record_version(self, record_id: int) -> int:
        found = self.api.client.get(f"{V1}/records/{record_id}", headers=self.headers["admin"])
        return int(self.ok(found)["version"])

    def entry(self, bureau: str) -> int:
        made = self.api.client.post(f"{V1}/directory", headers=self.officer(bureau), json=ENTRY)
        return int(self.ok(made)["id"])

    def thread(self, bureau: str) -> dict[str, Any]:
        """A thread of ``bureau`` with a third bureau, with an attachment."""
        attachment = {"filename": "note.txt", "content_type": "text/plain",
                      "content": base64.b64encode(b"series M").decode()}  # fmt: skip
        sent = {"subject": "Blanks", "recipients": [THIRD], "body": "Seen any?",
                "attachments": [attachment]}  # fmt: skip
        made = self.ok(
            self.api.client.post(f"{V1}/messages", headers=self.officer(bureau), json=sent)
        )
        message = made["messages"][0]
        return {"thread_id": made["id"], "message_id": message["id"],
                "attachment_id": message["attachments"][0]["id"]}  # fmt: skip

    def manifest(self, bureau: str) -> int:
        border = self.headers[f"maker.border_officer.{bureau.lower()}"]
        self.ok(self.api.client.post(f"{V1}/manifests", headers=border, content=PAXLST))
        listed = self.ok(self.api.client.get(f"{V1}/manifests", headers=border))
        return int(listed[0]["id"])

    def operation(self, bureau: str) -> tuple[int, int]:
        """An operation ``bureau`` takes part in, and its thread."""
        sent = OPERATION | {"name": f"Gate {bureau}", "bureaus": [bureau]}
        made = self.api.client.post(f"{V1}/operations", headers=self.headers["admin"], json=sent)
        found = self.ok(made)
        return int(found["id"]), int(found["thread_id"])

    def invite(self, operation: int, partner: str) -> None:
        sent = {"partner": partner}
        path = f"{V1}/operations/{operation}/partners"
        self.ok(self.api.client.post(path, headers=self.headers["admin"], json=sent))

    def reply(self, bureau: str, thread_id: int) -> dict[str, Any]:
        """A message with an attachment in the thread ``thread_id``, from ``bureau``."""
        attachment = {"filename": "plan.txt", "content_type": "text/plain",
                      "content": base64.b64encode(b"posts CDG").decode()}  # fmt: skip
        sent = {"body": "The plan.", "attachments": [attachment]}
        path = f"{V1}/messages/{thread_id}"
        made = self.ok(self.api.client.post(path, headers=self.officer(bureau), json=sent))
        return {"thread_id": thread_id, "message_id": made["id"],
                "attachment_id": made["attachments"][0]["id"]}  # fmt: skip

    def exercise(self, trainees: list[str]) -> int:
        """An exercise started by the trainer (a scenario that plants nothing) for ``trainees``."""
        sent = {"scenario": SCENARIO_ID, "trainees": trainees}
        made = self.api.client.post(
            f"{V1}/training/exercises", headers=self.headers["trainer"], json=sent
        )
        return int(self.ok(made)["id"])

    def partner_code(self) -> str:
        """A partner organisation's code not taken yet (three letters, no country's)."""
        while True:
            self.partners += 1
            n = self.partners
            code = "Q" + chr(65 + n // 26 % 26) + chr(65 + n % 26)
            if not is_country(code) and code not in (PARTNER, GUEST):
                return code

    def imported(self, bureau: str) -> str:
        browser = self.maker_console(bureau)
        data = f"document_number,issuing_country,document_type,status\n{self.number()},{bureau},visa,lost\n"
        sent = browser.client.post(
            "/records/import",
            data={"csrf_token": browser.csrf("/records/import")},
            files={"file": ("lot.csv", data.encode(), "text/csv")},
        )
        assert sent.status_code == 303, sent.text
        return sent.headers["location"].rstrip("/").rsplit("/", 1)[1]

    def maker_console(self, bureau: str) -> Console:
        key = f"maker.{bureau}"
        if key not in self.browsers:
            name = f"maker.console.{bureau.lower()}"
            self.api.add_user(name, Role.BUREAU_OFFICER, bureau)
            browser = Console(self.api)
            assert browser.sign_in(name).status_code == 303
            self.browsers[key] = (browser, "")
        return self.browsers[key][0]

    def hit(self, bureau: str) -> int:
        """A case on a record of ``bureau``, found by a third bureau's border officer."""
        number = self.number()
        self.record(bureau, number)
        border = self.headers[f"maker.border_officer.{THIRD.lower()}"]
        deadline = time.monotonic() + 30
        sent = {"document_number": number, "issuing_country": bureau}
        while True:  # the index takes the record from the feed within a moment
            answer = self.ok(self.api.client.post(f"{V1}/screen", headers=border, json=sent))
            if answer["result"] == "hit" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert answer["result"] == "hit", answer
        while time.monotonic() < deadline:
            with self.api.database.session() as session:
                found = hits_service.hits_for_query(session, answer["query_id"])
            if found:
                return found[0].id
            time.sleep(0.05)
        raise AssertionError("no case was opened within 30 s")

    # -- objects for a route's path ----------------------------------------------------------

    def target(self, kind: str, bureau: str, caller: str = "") -> dict[str, Any]:
        """The path values of an object of ``kind`` that belongs to ``bureau``; for the
        partner, a thread is the thread of ``bureau``'s operation (its own: the one it is
        invited to)."""
        if kind in FRESH:
            return FRESH[kind](self, bureau)
        if kind == "thread" and caller in PARTNERS:
            kind = "operation_thread"
        return dict(self.objects[(kind, bureau)])

    # -- being a caller ----------------------------------------------------------------------

    def bearer(self, caller: str) -> dict[str, str]:
        """The caller's token headers; minted again now and then: a long run outlives them."""
        if time.monotonic() - self.minted > 300:
            for name, (role, bureau, login, kind) in self.logins.items():
                self.headers[name] = self.api.bearer(role, bureau, name=login, kind=kind)
            self.minted = time.monotonic()
        return self.headers[caller]

    def console(self, caller: str) -> tuple[Console, str]:
        """The caller's browser, signed in, and its CSRF token."""
        if caller not in self.browsers:
            browser = Console(self.api)
            signed = browser.sign_in(f"matrix.{caller}")
            assert signed.status_code == 303, signed.text
            self.browsers[caller] = (browser, browser.csrf("/home"))
        return self.browsers[caller]


# Objects a route changes for good (withdraws, revokes, deactivates): a new one for each call.
FRESH: dict[str, Callable[[World, str], dict[str, Any]]] = {
    "fresh_record": lambda w, bureau: {"record_id": w.record(bureau)},
    "fresh_entry": lambda w, bureau: {"entry_id": w.entry(bureau)},
    "user": lambda w, bureau: {"username": _user(w, bureau)},
    "client": lambda w, bureau: {
        "client_id": w.api.add_client(f"c{w.number()}", Role.BORDER_OFFICER, bureau)[0]
    },
    "kit": lambda w, bureau: {"kit_id": _kit(w, bureau)},
    "network": lambda w, bureau: {"network_id": "N-00000000"},
    "snapshot": lambda w, bureau: {"name": "snapshot-1.bcs"},
    # An operation the other partner organisation is invited to (each call removes it).
    "guest_operation": lambda w, bureau: _guest_operation(w, bureau),
    # A running exercise (each call ends it), and a scenario of the library.
    "fresh_exercise": lambda w, bureau: {
        "exercise_id": w.exercise([f"maker.border_officer.{THIRD.lower()}"])
    },
    "scenario": lambda w, bureau: {"scenario_id": SCENARIO_ID},
}


def _user(w: World, bureau: str, role: Role = Role.BORDER_OFFICER) -> str:
    name = f"u.{w.number().lower()}"
    w.api.add_user(name, role, bureau)
    return name


def _guest_operation(w: World, bureau: str) -> dict[str, Any]:
    operation, _ = w.operation(bureau)
    w.invite(operation, GUEST)
    return {"operation_id": operation, "partner": GUEST}


def _kit(w: World, bureau: str) -> str:
    client_id, _ = w.api.add_client(f"kit{w.number()}", Role.BORDER_OFFICER, bureau)
    caller = w.api.bearer(Role.BORDER_OFFICER, bureau, name=client_id, kind="client")
    return str(w.ok(w.api.client.post(f"{V1}/edge/kits", headers=caller))["kit_id"])


def record_fields(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    return {"document_number": w.number(), "issuing_country": ids["caller_bureau"],
            "document_type": "passport", "status": "stolen"}  # fmt: skip


def new_user(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    return {"username": f"n.{w.number().lower()}", "bureau": OTHER, "role": "border_officer",
            "password": PASSWORD}  # fmt: skip


def password_change(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    username = _user(w, OWN)
    return {"username": username, "current_password": PASSWORD,
            "new_password": "a quite different passphrase 42"}  # fmt: skip


def token_request(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    fields = {"grant_type": "password", "username": _user(w, OWN), "password": PASSWORD}
    return {"data": fields}


def sign_in_form(w: World, browser: Console) -> dict[str, Any]:
    """The sign-in form, with the token of the page ``browser`` was shown."""
    page = browser.client.get("/").text
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page)
    assert token is not None
    fields = {"username": _user(w, OWN), "password": PASSWORD, "sign_in_token": token.group(1)}
    return {"data": fields}


def manifest_upload(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    return {"files": {"file": ("flight.edi", PAXLST.encode(), "application/edifact")}}


def records_file(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    data = f"document_number,issuing_country,document_type,status\n{w.number()},{ids['caller_bureau']},visa,lost\n"
    return {"files": {"file": ("lot.csv", data.encode(), "text/csv")}}


def record_form(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    return {"document_number": w.number(), "issuing_country": ids["caller_bureau"],
            "document_type": "passport", "status": "stolen"}  # fmt: skip


def record_edit(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    current = w.api.client.get(
        f"{V1}/records/{ids['record_id']}", headers=w.headers["admin"]
    ).json()
    return {"version": str(current["version"]), "document_number": current["document_number"],
            "issuing_country": current["issuing_country"], "document_type": "passport",
            "status": "lost"}  # fmt: skip


def record_version_form(**more: str) -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    return form(lambda w, ids: {"version": str(version(w, ids)), **more})


def kit(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    """The kit the matrix's API client registered (people send it too: they are refused),
    naming the sandbox it belongs to, as registration told it."""
    return {"headers": {"X-Edge-Kit": w.kit, "X-Bordercheck-Training": SANDBOX}}


# A scenario of the library that plants nothing (a clean passport), for the world's exercises,
# and a scenario file of the trainer's own to check and import.
SCENARIO_ID = "clean-traveller"
SCENARIO = """\
id: matrix-drill
title: {en: A drill}
briefing: {en: Check the passport.}
documents:
  - {ref: held, document_number: X1234567, issuing_country: FRA, surname: DOE,
     nationality: FRA, birth_date: 1990-01-01, expiry_date: 2030-01-01}
steps:
  - {id: check, kind: screen, title: {en: Check}, document: held, expect: no_hit, points: 5}
"""


def scenario_upload(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"action": "import"},
            "files": {"file": ("drill.yaml", SCENARIO.encode(), "application/yaml")}}  # fmt: skip


def watched(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    """The record's own bureau follows its searches first (else the read is refused, 403)."""
    w.api.client.post(f"{V1}/records/{ids['record_id']}/watch", headers=w.officer(ids["owner"]))
    return {}


R = rule
RULES: dict[str, Rule] = {
    # --- the API: signing in and who one is
    "POST /api/v1/auth/token": R(set(), send=token_request, public=True),
    "POST /api/v1/auth/password": R(set(), send=body(password_change), public=True),
    "POST /api/v1/auth/revoke": R(EVERYONE | PARTNERS),  # made with a token of its own (ONE_OFF)
    "GET /api/v1/auth/me": R(EVERYONE | PARTNERS),
    # --- administration
    "GET /api/v1/bureaus": R(EVERYONE),
    "POST /api/v1/bureaus": R(ADMIN, send=body({"country_code": "ESP", "name": "NCB Madrid"})),
    "GET /api/v1/users": R(ADMIN),
    "POST /api/v1/users": R(ADMIN, send=body(new_user)),
    "POST /api/v1/users/{username}/deactivate": R(ADMIN, "user"),
    "POST /api/v1/users/{username}/reactivate": R(ADMIN, "user"),
    "POST /api/v1/users/{username}/password": R(ADMIN, "user"),
    "GET /api/v1/clients": R(ADMIN),
    "POST /api/v1/clients": R(ADMIN, send=body({"name": "gates", "bureau": OTHER, "role": "border_officer"})),
    "POST /api/v1/clients/{client_id}/deactivate": R(ADMIN, "client"),
    "GET /api/v1/audit": R(ADMIN | OFFICERS),
    # --- records: the issuing country's bureau writes; it, the centre and admins read
    "GET /api/v1/records": R(RECORD_READERS),
    "POST /api/v1/records": R(RECORD_WRITERS, send=body(record_fields)),
    "POST /api/v1/records/bulk": R(RECORD_WRITERS, send=body(lambda w, ids: {"records": [record_fields(w, ids)]})),
    "GET /api/v1/records/{record_id}": R(RECORD_READERS, "record", CENTRE),
    "GET /api/v1/records/{record_id}/history": R(RECORD_READERS, "record", CENTRE),
    "PATCH /api/v1/records/{record_id}": R(RECORD_WRITERS, "record", ADMIN, body(lambda w, ids: {"version": version(w, ids), "status": "lost"})),
    "PUT /api/v1/records/{record_id}/withheld-from": R(RECORD_WRITERS, "record", ADMIN, body(lambda w, ids: {"version": version(w, ids), "countries": [THIRD]})),
    "POST /api/v1/records/{record_id}/review": R(RECORD_WRITERS, "record", ADMIN, body(lambda w, ids: {"version": version(w, ids)})),
    "DELETE /api/v1/records/{record_id}": R(RECORD_WRITERS, "fresh_record", ADMIN, body(lambda w, ids: {"version": version(w, ids), "reason": "found"})),
    "GET /api/v1/records/{record_id}/searches": R(OFFICERS, "record", send=watched),
    "POST /api/v1/records/{record_id}/watch": R(OFFICERS, "record"),
    "DELETE /api/v1/records/{record_id}/watch": R(OFFICERS, "record"),
    "GET /api/v1/changes": R(ADMIN | {"secretariat_officer"}, send=query({"since": 0})),
    # --- screening
    "POST /api/v1/screen": R(SCREENERS, send=body(SCREEN)),
    "POST /api/v1/screen/batch": R(SCREENERS, send=body({"documents": [SCREEN]})),
    # --- hits: the owning bureau answers, the querying side records the outcome
    "GET /api/v1/hits": R(CASE_ROLES),
    "GET /api/v1/hits/figures": R(CASE_ROLES),
    "GET /api/v1/hits/deliveries": R(HIT_SETTINGS),
    "GET /api/v1/hits/rules": R(HIT_SETTINGS),
    "PUT /api/v1/hits/rules": R(HIT_SETTINGS, send=body({"domestic": "case"})),
    "GET /api/v1/hits/webhook": R(HIT_SETTINGS),
    "PUT /api/v1/hits/webhook": R(HIT_SETTINGS, send=body({"url": "http://127.0.0.1:9/hooks"})),  # a sandbox's hooks are on this machine
    "DELETE /api/v1/hits/webhook": R(HIT_SETTINGS),
    "GET /api/v1/hits/{hit_id}": R(CASE_ROLES, "hit", ADMIN, own=CASE_OWNERS),
    "POST /api/v1/hits/{hit_id}/answer": R(CASE_ROLES, "hit", set(), body({"answer": "confirmed"}), own={"bureau_officer"}),
    "POST /api/v1/hits/{hit_id}/outcome": R(CASE_ROLES, "hit", set(), body({"outcome": "seized"}), own=set()),
    "GET /api/v1/hits/{hit_id}/messages": R(MESSAGE_READERS, "hit", OVERSEERS),
    "POST /api/v1/hits/{hit_id}/messages": R(OFFICERS, "hit", set(), body({"body": "Holding him."}), own={"bureau_officer"}),
    "GET /api/v1/notifications": R(NOTIFIED),
    "POST /api/v1/notifications/read": R(NOTIFIED, send=body({})),
    # --- messages between bureaus: the bureaus of a thread take part; the centre oversees
    "GET /api/v1/messages": R(MESSAGE_READERS | PARTNERS),
    "POST /api/v1/messages": R(OFFICERS, send=body({"subject": "S", "recipients": [OTHER], "body": "B"})),
    "GET /api/v1/messages/stream": R(OFFICERS),
    "GET /api/v1/messages/{thread_id}": R(MESSAGE_READERS | PARTNERS, "thread", OVERSEERS),
    "POST /api/v1/messages/{thread_id}": R(OFFICERS | PARTNERS, "thread", set(), body({"body": "And?"})),
    "GET /api/v1/messages/{thread_id}/messages/{message_id}": R(MESSAGE_READERS | PARTNERS, "thread", own=OFFICERS | PARTNERS),
    "GET /api/v1/messages/{thread_id}/messages/{message_id}/attachments/{attachment_id}": R(MESSAGE_READERS | PARTNERS, "thread", own=OFFICERS | PARTNERS),
    "POST /api/v1/messages/{thread_id}/read": R(OFFICERS | PARTNERS, "thread", set(), body({})),
    # --- the directory: everyone reads it; each bureau keeps its own entries
    "GET /api/v1/directory": R(DIRECTORY_READERS),
    "GET /api/v1/directory.csv": R(DIRECTORY_READERS),
    "GET /api/v1/directory.vcf": R(DIRECTORY_READERS),
    "POST /api/v1/directory": R(ADMIN | OFFICERS, send=body(ENTRY)),
    "GET /api/v1/directory/{entry_id}": R(DIRECTORY_READERS, "entry", DIRECTORY_READERS),
    "PATCH /api/v1/directory/{entry_id}": R(ADMIN | OFFICERS, "entry", ADMIN, body({"unit": "Fraud"})),
    "POST /api/v1/directory/{entry_id}/confirm": R(ADMIN | OFFICERS, "entry", ADMIN),
    "DELETE /api/v1/directory/{entry_id}": R(ADMIN | OFFICERS, "fresh_entry", ADMIN),
    # --- offline kits
    "GET /api/v1/edge/kits": R(ADMIN),
    "POST /api/v1/edge/kits": R(KITS),
    "DELETE /api/v1/edge/kits/{kit_id}": R(ADMIN, "kit"),
    "POST /api/v1/edge/snapshot": R(KITS, send=kit),
    "GET /api/v1/edge/snapshot/{name}": R(KITS, "snapshot", send=kit),
    "GET /api/v1/edge/changes": R(KITS, send=lambda w, ids: kit(w, ids) | {"params": {"since": 0}}),
    "POST /api/v1/edge/uploads": R(KITS, send=lambda w, ids: kit(w, ids) | {"json": UPLOAD}),
    # --- manifests
    "GET /api/v1/manifests": R(MANIFEST_READERS),
    "POST /api/v1/manifests": R(SCREENERS, send=lambda w, ids: {"content": PAXLST}),
    "GET /api/v1/manifests/{manifest_id}": R(MANIFEST_READERS, "manifest", CENTRE),
    # --- operations: coordinators run them; participating bureaus and invited partners read
    "GET /api/v1/operations": R(OPERATION_READERS | PARTNERS),
    "POST /api/v1/operations": R(COORDINATORS, send=body(OPERATION)),
    "GET /api/v1/operations/{operation_id}": R(OPERATION_READERS | PARTNERS, "operation", COORDINATORS),
    "GET /api/v1/operations/{operation_id}/figures": R(OPERATION_READERS | PARTNERS, "operation", COORDINATORS),
    "GET /api/v1/operations/{operation_id}/report": R(OPERATION_READERS | PARTNERS, "operation", COORDINATORS),
    "POST /api/v1/operations/{operation_id}/partners": R(COORDINATORS, "operation", COORDINATORS, body({"partner": GUEST})),
    "DELETE /api/v1/operations/{operation_id}/partners/{partner}": R(COORDINATORS, "guest_operation"),
    # --- partner organisations: administrators add them
    "GET /api/v1/partners": R(ADMIN),
    "POST /api/v1/partners": R(ADMIN, send=body(lambda w, ids: {"code": w.partner_code(), "name": "Migration agency"})),
    # --- training: the library and exercises (trainers; administrators read); briefings
    "GET /api/v1/training/scenarios": R(TRAINING_READERS),
    "POST /api/v1/training/scenarios": R(TRAINERS, send=body({"source": SCENARIO, "filename": "drill.yaml"})),
    "POST /api/v1/training/scenarios/validate": R(TRAINERS, send=body({"source": SCENARIO})),
    "GET /api/v1/training/scenarios/{scenario_id}": R(TRAINING_READERS, "scenario"),
    "GET /api/v1/training/scenarios/{scenario_id}/export": R(TRAINING_READERS, "scenario"),
    "POST /api/v1/training/exercises": R(TRAINERS, send=body({"scenario": SCENARIO_ID, "trainees": [f"maker.border_officer.{THIRD.lower()}"]})),
    "GET /api/v1/training/exercises": R(TRAINING_READERS),
    "GET /api/v1/training/exercises/{exercise_id}": R(TRAINING_READERS, "exercise", TRAINING_READERS),
    "GET /api/v1/training/exercises/{exercise_id}/scores": R(TRAINING_READERS, "exercise", TRAINING_READERS),
    "POST /api/v1/training/exercises/{exercise_id}/end": R(TRAINERS, "fresh_exercise"),
    "GET /api/v1/training/briefings": R(EVERYONE),  # one's own running exercises (none for a machine)
    "GET /api/v1/training/exercises/{exercise_id}/briefing": R(EVERYONE, "exercise", TRAINING_READERS, own=TRAINEES),
    # --- analysis
    "GET /api/v1/analysis/networks": R(ANALYSTS),
    "GET /api/v1/analysis/networks/{network_id}": R(ANALYSTS, "network"),
    "GET /api/v1/analysis/networks/{network_id}/export": R(ANALYSTS, "network"),
    "GET /api/v1/analysis/routes": R(ANALYSTS),
    "GET /api/v1/analysis/shifts": R(ANALYSTS),
    # --- open to all: health, metrics for the monitoring, the API's documentation
    "GET /healthz": R(set(), public=True),
    "GET /readyz": R(set(), public=True),
    "GET /metrics": R(ADMIN, anonymous=404),  # 404 for all but admins with no scraper token set
    "GET /openapi.json": R(set(), public=True),
    "GET /docs": R(set(), public=True),
    "GET /docs/oauth2-redirect": R(set(), public=True),
    "GET /redoc": R(set(), public=True),
    # --- the console: signing in, one's own account
    "GET /": R(set(), public=True),
    "POST /sign-in": R(set(), public=True),  # the form of the caller's own page (send)
    "POST /language": R(set(), send=form({"language": "fr", "next": "/"}), public=True),
    "GET /sign-in/second-factor": R(PEOPLE | PARTNERS),
    "POST /sign-in/second-factor": R(PEOPLE | PARTNERS, send=form({"code": "000000"}), answers={401}),
    "POST /sign-out": R(PEOPLE | PARTNERS),  # with a session of its own (ONE_OFF)
    "GET /home": R(PEOPLE | PARTNERS),
    "GET /account": R(PEOPLE | PARTNERS),
    "GET /account/password": R(PEOPLE | PARTNERS),
    "POST /account/password": R(PEOPLE | PARTNERS, send=form({"current_password": PASSWORD, "new_password": "another passphrase 77", "confirm_password": "another passphrase 77"})),
    "GET /account/second-factor": R(PEOPLE | PARTNERS),
    "POST /account/second-factor": R(PEOPLE | PARTNERS, send=form({"secret": "A" * 32, "code": "000000"})),
    # --- the console: administration
    "GET /admin": R(ADMIN),
    "GET /admin/audit": R(ADMIN),
    "GET /admin/audit/verify": R(ADMIN),
    "GET /admin/bureaus": R(ADMIN),
    "POST /admin/bureaus": R(ADMIN, send=form({"country": "PRT", "name": "NCB Lisbon"})),
    "GET /admin/users": R(ADMIN),
    "GET /admin/users/new": R(ADMIN),
    "POST /admin/users": R(ADMIN, send=form(new_user)),
    "GET /admin/users/{username}": R(ADMIN, "user"),
    "POST /admin/users/{username}/deactivate": R(ADMIN, "user"),
    "POST /admin/users/{username}/reactivate": R(ADMIN, "user"),
    "POST /admin/users/{username}/password": R(ADMIN, "user"),
    "POST /admin/users/{username}/second-factor": R(ADMIN, "user"),
    "GET /admin/clients": R(ADMIN),
    "POST /admin/clients": R(ADMIN, send=form({"name": "gates", "bureau": OTHER, "role": "border_officer"})),
    "POST /admin/clients/{client_id}/deactivate": R(ADMIN, "client"),
    "GET /admin/kits": R(ADMIN),
    "POST /admin/kits/{kit_id}/revoke": R(ADMIN, "kit"),
    "GET /admin/partners": R(ADMIN),
    "POST /admin/partners": R(ADMIN, send=form(lambda w, ids: {"code": w.partner_code(), "name": "Migration agency"})),
    # --- the console: records
    "GET /records": R(RECORD_READERS),
    "GET /records/find": R(RECORD_READERS, send=query({"document_number": "M0001X47"})),
    "GET /records/new": R(RECORD_WRITERS),
    "POST /records/new": R(RECORD_WRITERS, send=form(record_form)),
    "GET /records/import": R(RECORD_WRITERS),
    "POST /records/import": R(RECORD_WRITERS, send=records_file),
    "GET /records/imports/{import_id}": R(RECORD_WRITERS, "import"),
    "GET /records/imports/{import_id}/rejected": R(RECORD_WRITERS, "import"),
    "GET /records/{record_id}": R(RECORD_READERS, "record", CENTRE),
    "GET /records/{record_id}/edit": R(RECORD_WRITERS, "record", ADMIN),
    "POST /records/{record_id}/edit": R(RECORD_WRITERS, "record", ADMIN, form(record_edit)),
    "POST /records/{record_id}/withheld-from": R(RECORD_WRITERS, "record", ADMIN, record_version_form(countries=THIRD)),
    "POST /records/{record_id}/review": R(RECORD_WRITERS, "record", ADMIN, record_version_form()),
    "GET /records/{record_id}/withdraw": R(RECORD_WRITERS, "record", ADMIN),
    "POST /records/{record_id}/withdraw": R(RECORD_WRITERS, "fresh_record", ADMIN, record_version_form(reason="found")),
    "POST /records/{record_id}/watch": R(OFFICERS, "record"),
    "POST /records/{record_id}/unwatch": R(OFFICERS, "record"),
    # --- the console: checking documents, cases
    "GET /check": R(SCREENERS),
    "POST /check": R(SCREENERS, send=form(SCREEN)),
    "GET /hits": R(CASE_ROLES),
    "GET /hits/badge": R(CASE_ROLES),
    "GET /hits/{hit_id}": R(CASE_ROLES, "hit", ADMIN, own=CASE_OWNERS),
    "GET /hits/{hit_id}/status": R(CASE_ROLES, "hit", ADMIN, own=CASE_OWNERS),
    "GET /hits/{hit_id}/thread": R(CASE_ROLES, "hit", ADMIN, own=CASE_OWNERS),
    "POST /hits/{hit_id}/answer": R(CASE_ROLES, "hit", set(), form({"answer": "confirmed"}), own={"bureau_officer"}),
    "POST /hits/{hit_id}/outcome": R(CASE_ROLES, "hit", set(), form({"outcome": "seized"}), own=set()),
    "POST /hits/{hit_id}/messages": R(CASE_ROLES, "hit", set(), form({"body": "Thanks."}), own={"bureau_officer"}),
    "GET /notifications": R(NOTIFIED),
    "GET /notifications/badge": R(NOTIFIED),
    "POST /notifications/read": R(NOTIFIED),
    # --- the console: messages, directory, manifests, operations, analysis
    "GET /messages": R(MESSAGE_READERS),
    "GET /messages/new": R(OFFICERS),
    "POST /messages": R(OFFICERS, send=form({"recipients": OTHER, "subject": "S", "body": "B"})),
    "GET /messages/{thread_id}": R(MESSAGE_READERS | PARTNERS, "thread", OVERSEERS),
    "POST /messages/{thread_id}": R(OFFICERS | PARTNERS, "thread", set(), form({"body": "And?"})),
    "POST /messages/{thread_id}/read": R(OFFICERS | PARTNERS, "thread", set()),
    "GET /messages/{thread_id}/messages/{message_id}/attachments/{attachment_id}": R(MESSAGE_READERS | PARTNERS, "thread", own=OFFICERS | PARTNERS),
    "GET /directory": R(PEOPLE),
    "GET /directory.vcf": R(PEOPLE),
    "GET /directory/new": R(ADMIN | OFFICERS),
    "POST /directory": R(ADMIN | OFFICERS, send=form(CONSOLE_ENTRY)),
    "GET /directory/{entry_id}": R(PEOPLE, "entry", PEOPLE),
    "GET /directory/{entry_id}/vcard": R(PEOPLE, "entry", PEOPLE),
    "GET /directory/{entry_id}/edit": R(ADMIN | OFFICERS, "entry", ADMIN),
    "POST /directory/{entry_id}/edit": R(ADMIN | OFFICERS, "entry", ADMIN, form(CONSOLE_ENTRY)),
    "POST /directory/{entry_id}/confirm": R(ADMIN | OFFICERS, "entry", ADMIN),
    "GET /directory/{entry_id}/remove": R(ADMIN | OFFICERS, "entry", ADMIN),
    "POST /directory/{entry_id}/remove": R(ADMIN | OFFICERS, "fresh_entry", ADMIN),
    "GET /manifests": R(MANIFEST_READERS),
    "POST /manifests": R(SCREENERS, send=manifest_upload),
    "GET /manifests/{manifest_id}": R(MANIFEST_READERS, "manifest", CENTRE),
    "GET /operations": R(OPERATION_READERS | PARTNERS),
    "GET /operations/new": R(COORDINATORS),
    "POST /operations": R(COORDINATORS, send=form({"name": "Red Gate", "starts_on": "2026-04-01", "ends_on": "2026-04-04", "locations": "CDG", "bureaus": OWN})),
    "GET /operations/{operation_id}": R(OPERATION_READERS | PARTNERS, "operation", COORDINATORS),
    "GET /operations/{operation_id}/report": R(OPERATION_READERS | PARTNERS, "operation", COORDINATORS),
    "POST /operations/{operation_id}/partners": R(COORDINATORS, "operation", COORDINATORS, form({"partner": GUEST})),
    "POST /operations/{operation_id}/partners/{partner}/remove": R(COORDINATORS, "guest_operation"),
    "GET /analysis": R(ANALYSTS),
    "GET /analysis/networks/{network_id}": R(ANALYSTS, "network"),
    "GET /analysis/networks/{network_id}/export": R(ANALYSTS, "network"),
    # --- the console: training
    "GET /training": R(TRAINING_READERS),
    "POST /training/scenarios": R(TRAINERS, send=scenario_upload),
    "GET /training/scenarios/{scenario_id}": R(TRAINING_READERS, "scenario"),
    "GET /training/scenarios/{scenario_id}/export": R(TRAINING_READERS, "scenario"),
    "GET /training/exercises/new": R(TRAINERS),
    "POST /training/exercises": R(TRAINERS, send=form({"scenario": SCENARIO_ID, "trainees": f"maker.border_officer.{THIRD.lower()}"})),
    "GET /training/exercises/{exercise_id}": R(TRAINING_READERS, "exercise", TRAINING_READERS),
    "POST /training/exercises/{exercise_id}/end": R(TRAINERS, "fresh_exercise"),
    "GET /training/briefing": R(TRAINEE_ROLES),  # the caller's own running exercises
}  # fmt: skip


# Kinds of object that belong to a bureau: each caller is tried with its own and another's.
OWNED = {"record", "fresh_record", "entry", "fresh_entry", "thread", "manifest", "operation",
         "import", "hit", "exercise"}  # fmt: skip
# Routes that end the caller's own token or session: called with one made for the call.
ONE_OFF = {"POST /api/v1/auth/revoke", "POST /sign-out", "POST /account/password"}

ALLOW, REFUSE, HIDE, SIGN_IN = "allowed", "refused (403)", "refused or hidden (403/404)", "sign in"


def routes(app: Any = None) -> set[str]:
    app = app or create_app(Settings(env="test"))
    return {f"{method} {path}" for method, path in flatten(app.router.routes)}


def is_api(route: str) -> bool:
    return route.split(" ", 1)[1].startswith(V1)


def expected(rule: Rule, caller: str, owner: str | None) -> str:
    """What ``caller`` must get from a route with ``rule`` on an object of ``owner``."""
    if rule.public:
        return ALLOW
    if caller == ANONYMOUS:
        return SIGN_IN
    if caller not in rule.roles:
        return REFUSE
    if owner is None or caller in rule.sees_all:
        return ALLOW
    own = rule.roles if rule.own is None else rule.own
    home = HOME.get(caller, CALLERS[caller][1])
    return ALLOW if home == owner and caller in own else HIDE


def agrees(outcome: str, status: int, location: str, route: str, owned: bool) -> bool:
    rule = RULES[route]
    if status >= 500:
        return False
    if outcome == SIGN_IN and rule.anonymous is not None:
        return status == rule.anonymous
    if outcome == ALLOW and status in rule.answers:
        return True
    if outcome == SIGN_IN:
        if is_api(route):
            return status == 401
        return status == 303 and location.startswith("/")
    if outcome == REFUSE:
        return status == 403
    if outcome == HIDE:
        return status in (403, 404)
    # Let through: whatever the handler then says of the request, but not a refusal (nor a
    # "not found" for an object that is there).
    return status not in (401, 403) and not (owned and status == 404)


@dataclass
class Case:
    route: str
    caller: str
    owner: str | None
    outcome: str

    def __str__(self) -> str:
        whose = "" if self.owner is None else f" on {self.owner}'s object"
        return f"{self.route} as {self.caller}{whose}"


def cases(route: str, rule: Rule) -> Iterator[Case]:
    callers = [ANONYMOUS, *CALLERS]
    if not is_api(route) and route.split(" ", 1)[1] not in API_PAGES:
        callers.remove("client")  # a machine has no console session
    owners: list[str | None] = [OWN, OTHER] if rule.target in OWNED else [None]
    for caller in callers:
        for owner in owners:
            yield Case(route, caller, owner, expected(rule, caller, owner))


# Routes outside /api/v1 that machines call too (health, metrics, the schema).
API_PAGES = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect",
             "/redoc"}  # fmt: skip


def send(world: World, case: Case) -> Any:
    rule = RULES[case.route]
    method, template = case.route.split(" ", 1)
    if case.route == "POST /sign-in":  # signing in is done from a browser not signed in
        browser = Console(world.api)
        return browser.client.post(template, **sign_in_form(world, browser))
    bureau = CALLERS[case.caller][1] if case.caller in CALLERS else OWN
    values: dict[str, Any] = {"caller_bureau": bureau, "owner": case.owner or OWN}
    if rule.target is not None:
        values |= world.target(rule.target, case.owner or OWN, case.caller)
    path = template.format(**values)
    request = rule.send(world, values) if rule.send is not None else {}
    extra_headers = request.pop("headers", {})
    one_off = case.route in ONE_OFF
    if is_api(case.route) or template in API_PAGES:
        headers: dict[str, str] = {}
        if case.caller in CALLERS:
            headers = world.bearer(case.caller)
            if one_off:
                role, bureau = CALLERS[case.caller]
                kind = "client" if case.caller == "client" else "user"
                name = (
                    world.api.add_client(f"c{world.number()}", role, bureau)[0]
                    if kind == "client"
                    else _user(world, bureau, role)
                )
                world.api.ensure_subject(kind, name, role, bureau)
                headers = world.api.bearer(role, bureau, name=name, kind=kind)
        headers = headers | extra_headers
        if case.route == "GET /api/v1/messages/stream":
            with world.api.client.stream(method, path, headers=headers) as response:
                return response
        return world.api.client.request(method, path, headers=headers, **request)
    if case.caller == ANONYMOUS:
        browser = Console(world.api)
        return browser.client.request(method, path, **request)
    if one_off:
        role, bureau = CALLERS[case.caller]
        name = _user(world, bureau, role)
        browser = Console(world.api)
        assert browser.sign_in(name).status_code == 303
        token = browser.csrf("/home")
    else:
        browser, token = world.console(case.caller)
    headers = {} if method == "GET" else {"X-CSRF-Token": token}
    return browser.client.request(method, path, headers=headers, **request)


def test_every_route_has_a_rule() -> None:
    missing = routes() - set(RULES)
    assert not missing, (
        f"routes with no access rule: {sorted(missing)}; add each to RULES in "
        "tests/auth/test_access_matrix.py with the callers it lets through"
    )
    assert not set(RULES) - routes(), (
        f"rules for routes that are gone: {sorted(set(RULES) - routes())}"
    )


def test_a_new_route_without_a_rule_is_named() -> None:
    app = create_app(Settings(env="test"))
    extra = APIRouter()

    @extra.post("/partners/{partner_id}/invite")
    def invite(partner_id: int) -> None:
        """A route someone adds later."""

    app.include_router(extra, prefix=V1)
    assert routes(app) - set(RULES) == {"POST /api/v1/partners/{partner_id}/invite"}


def endpoints(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``("METHOD path", endpoint)`` of every route, through included routers (as ``flatten``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from endpoints(included.routes, prefix + route.include_context.prefix)
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD"}):
            yield f"{method} {prefix}{route.path}", route.endpoint


# Routes whose code reads the caller from its token without the partner check: signing out
# (ending one's own token) is open to every account.
TOKEN_ONLY = {"POST /api/v1/auth/revoke"}


def test_the_routes_the_partner_may_call_are_those_open_to_partners() -> None:
    """The table agrees with the code's marks: a route is let through for the partner by its
    rule exactly when its code says it is open to partners (or it is public)."""
    app = create_app(Settings(env="test"))
    marked = {
        route for route, endpoint in endpoints(app.router.routes)
        if getattr(endpoint, OPEN_TO_PARTNERS, False)
    }  # fmt: skip
    named = {route for route, rule in RULES.items() if "partner" in rule.roles}
    public = {route for route, rule in RULES.items() if rule.public}
    assert named - marked == TOKEN_ONLY
    assert marked - named <= public, sorted(marked - named - public)
    assert marked, "no route is marked open to partners: the mark is read wrongly"


@pytest.fixture(scope="module")
def world(
    backend: str, fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    url = fresh_databases.url(backend)
    cache = tmp_path_factory.mktemp("edge-cache")
    with open_api(
        url, bureaus=(OWN, OTHER, THIRD), edge_cache_dir=cache, rate_limit_per_second=0,
        training_sandbox=sandboxed(url, SANDBOX),
    ) as api:  # fmt: skip
        yield World(api)


def run_matrix(world: World, chosen: list[str]) -> tuple[list[str], Counter[str]]:
    wrong: list[str] = []
    tally: Counter[str] = Counter()
    for route in chosen:
        for case in cases(route, RULES[route]):
            try:
                response = send(world, case)
            except Exception as exc:  # a case that cannot be set up is a failure to name
                wrong.append(f"{case}: could not be sent: {exc!r}")
                continue
            status = response.status_code
            tally[case.outcome] += 1
            tally["answered 2xx/3xx" if status < 400 else f"answered {status}"] += 1
            location = response.headers.get("location", "")
            if not agrees(
                case.outcome,
                status,
                location,
                route,
                case.owner is not None and RULES[route].target in OWNED,
            ):
                wrong.append(
                    f"{case}: expected {case.outcome}, got {status} {response.text[:160]!r}"
                )
    return wrong, tally


@pytest.mark.slow
def test_every_route_answers_every_caller_as_its_rule_says(world: World) -> None:
    wrong, tally = run_matrix(world, sorted(RULES))
    print(f"{sum(tally[o] for o in (ALLOW, REFUSE, HIDE, SIGN_IN))} calls:", dict(tally))
    assert not wrong, f"{len(wrong)} answers disagree with the rules:\n" + "\n".join(wrong)
