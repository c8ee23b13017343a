"""A record withheld from a country: that country, end to end, learns only that a record
exists and whom to ask ("restricted, contact the owning bureau"), wherever it looks.

DEU owns the records and withholds them from FRA. FRA screens, works its case, writes in
the case's thread, takes its webhook events and notifications, and syncs its offline kit;
ITA, from which nothing is withheld, and DEU itself still see the details.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bordercheck.auth.models import Role
from bordercheck.auth.tokens import TokenAuthority
from bordercheck.edge import sync
from bordercheck.edge.rows import Payload
from bordercheck.edge.store import KitDirectory
from bordercheck.registry.models import Record
from tests.edge.conftest import Centre
from tests.edge.test_kit import ask, kit_for
from tests.factories import keyed_database
from tests.hits.receiver import Receiver, free_port
from tests.signin import mint_bearer

RESTRICTED = "restricted, contact the owning bureau"
WITHHELD = "W1THH3LD7"  # a stolen passport, withheld from FRA before FRA's kit is made
LATER = "L8T3RW1TH"  # a lost identity card, withheld from FRA after FRA's kit is made
DETAILS = ("exact", "stolen", "lost", "passport", "identity_card", WITHHELD, LATER)


@pytest.fixture
def centre(fresh_url: str, tmp_path: Path) -> Iterator[Centre]:
    from bordercheck.auth import service as auth_service

    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        for country in ("DEU", "FRA", "ITA"):
            auth_service.add_bureau(session, country, f"NCB {country}")
    database.dispose()
    running = Centre(
        fresh_url,
        tmp_path / "cache",
        webhook_delivery_seconds=0.05,
        webhook_retry_base_seconds=0.05,
    )
    yield running
    running.stop()
    running.database.dispose()


def bearer(centre: Centre, role: Role, bureau: str) -> dict[str, str]:
    tokens: TokenAuthority = centre.app.state.tokens
    return mint_bearer(tokens, centre.database, role, bureau)


def withhold(http: TestClient, centre: Centre, record_id: int, *countries: str) -> None:
    """As DEU's bureau officer, over HTTP; the record is at its first version."""
    response = http.put(
        f"/api/v1/records/{record_id}/withheld-from",
        json={"version": 1, "countries": list(countries)},
        headers=bearer(centre, Role.BUREAU_OFFICER, "DEU"),
    )
    assert response.status_code == 200, response.text


class Exits:
    """What FRA was shown of the withheld record, by exit. Every exit is looked at before the
    test judges, so a failure names all the exits that leak, not only the first."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.leaks: dict[str, list[str]] = {}

    def expect(self, exit: str, holds: bool, what: str) -> None:
        if not holds:
            self.leaks.setdefault(exit, []).append(what)

    def shows_nothing(self, exit: str, text: str) -> None:
        """Nothing of the record: not its id, number, match kind, status or type."""
        for detail in DETAILS:
            self.expect(exit, detail not in text, f"{detail!r} in {text}")
        record_id = self.record.id
        self.expect(exit, f'"record_id":{record_id}' not in text.replace(" ", ""), text)
        self.expect(exit, f"record {record_id}" not in text, text)


def kit_rows(kit: Path, country: str, number: str) -> list[Payload]:
    """What the kit's own keys open of every row it holds for ``number``."""
    source = KitDirectory(kit).load().source()
    found = source.find_numbers(country, [number])
    return [source.details(row.record_id, number) for _, row in found]


def deliveries(receiver: Receiver, kinds: set[str], within: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        events = [json.loads(body) for _, body in list(receiver.received)]
        if kinds <= {e["event"] for e in events}:
            return events
        assert time.monotonic() < deadline, f"events {kinds} not delivered within {within} s"
        receiver.arrived.wait(0.05)
        receiver.arrived.clear()


def test_the_country_a_record_is_withheld_from_learns_only_whom_to_ask(
    centre: Centre, tmp_path: Path
) -> None:
    record = centre.report(WITHHELD)
    other = centre.report("C01X00T47")
    exits = Exits(record)
    fra_border = bearer(centre, Role.BORDER_OFFICER, "FRA")
    fra = bearer(centre, Role.BUREAU_OFFICER, "FRA")
    deu = bearer(centre, Role.BUREAU_OFFICER, "DEU")
    port = free_port()
    # The served app's own state (index, query log, webhook worker), called in process: the
    # kits sync over HTTP from the same app.
    http = TestClient(centre.app)
    with Receiver(port) as receiver:
        withhold(http, centre, record.id, "FRA")
        hook = http.put("/api/v1/hits/webhook", json={"url": f"http://127.0.0.1:{port}/h"},
                        headers=fra)  # fmt: skip
        assert hook.status_code == 200, hook.text
        kit = tmp_path / "kit-fra"
        kit_for(centre, kit, "FRA")
        ita_kit = tmp_path / "kit-ita"
        kit_for(centre, ita_kit, "ITA")

        # Screening: possible hit, restricted.
        centre.catch_up()
        body = {"document_number": WITHHELD, "issuing_country": "DEU", "location": "CDG-T2"}
        screened = http.post("/api/v1/screen", json=body, headers=fra_border)
        assert screened.status_code == 200, screened.text
        assert screened.json()["result"] == "possible_hit"
        exits.shows_nothing("screening", screened.text)

        # Its cases, listed and opened, by the border officer and the bureau.
        for headers in (fra_border, fra):
            listed = http.get("/api/v1/hits", headers=headers)
            assert listed.status_code == 200, listed.text
            (case,) = listed.json()["hits"]
            shown = (case["record_id"], case["record"], case["match"], case["score"])
            exits.expect("GET /hits", shown == (None, None, "restricted", None), str(shown))
            exits.expect("GET /hits", RESTRICTED in (case.get("message") or ""), "no message")
            exits.shows_nothing("GET /hits", listed.text)
            opened = http.get(f"/api/v1/hits/{case['id']}", headers=headers)
            assert opened.status_code == 200, opened.text
            exits.shows_nothing("GET /hits/{id}", opened.text)
        hit_id = case["id"]

        # The record itself: refused, without its id or anything of it.
        refused = http.get(f"/api/v1/records/{record.id}", headers=fra)
        assert refused.status_code == 403
        exits.expect("403 on the record", str(record.id) not in refused.text, refused.text)
        exits.shows_nothing("403 on the record", refused.text)
        # Trying to answer the case as if it owned the record: refused, naming no record.
        answered = http.post(f"/api/v1/hits/{hit_id}/answer", json={"answer": "no_match"},
                             headers=fra)  # fmt: skip
        assert answered.status_code == 403
        exits.shows_nothing("403 on answering", answered.text)

        # The case's thread: FRA asks, DEU answers; the centre's notes say "restricted".
        asked = http.post(f"/api/v1/hits/{hit_id}/messages", json={"body": "what is it?"},
                          headers=fra)  # fmt: skip
        assert asked.status_code == 201, asked.text
        confirmed = http.post(
            f"/api/v1/hits/{hit_id}/answer",
            json={"answer": "confirmed", "action": "seize_document"},
            headers=deu,
        )
        assert confirmed.status_code == 200, confirmed.text
        thread = http.get(f"/api/v1/hits/{hit_id}/messages", headers=fra)
        assert thread.status_code == 200, thread.text
        notes = [m["body"] for m in thread.json()["messages"] if m["system"]]
        assert len(notes) == 2  # opened, answered
        exits.expect("hit thread", RESTRICTED in notes[0], notes[0])
        exits.shows_nothing("hit thread", thread.text)

        # Its webhook events and its console's notifications.
        events = deliveries(receiver, {"hit.opened", "hit.answered"})
        for event in events:
            sent = (event["hit"]["record_id"], event["hit"]["match"])
            exits.expect("webhook", sent == (None, "restricted"), str(sent))
            exits.shows_nothing("webhook", json.dumps(event))
        told = http.get("/api/v1/notifications", headers=fra)
        assert told.status_code == 200, told.text
        texts = [n["text"] for n in told.json()["notifications"]]
        exits.expect("notifications", any(RESTRICTED in text for text in texts), str(texts))
        exits.shows_nothing("notifications", told.text)

        # A record withheld after the kit was made reaches it by a bundle, restricted too.
        later = centre.report(LATER, document_type="identity_card", status="lost")
        withhold(http, centre, later.id, "FRA", "ITA")
        sync.sync(kit)
        sync.sync(ita_kit)

        # The owning bureau still sees everything.
        (own,) = http.get("/api/v1/hits", headers=deu).json()["hits"]
        assert (own["record_id"], own["match"], own["score"]) == (record.id, "exact", 1.0)
        assert http.get(f"/api/v1/records/{record.id}", headers=deu).status_code == 200

    # The kit: one row for each withheld number, which its keys open to "restricted" alone;
    # the two records (a stolen passport, a lost identity card) open to the same nothing.
    (withheld,) = kit_rows(kit, "DEU", WITHHELD)
    (withheld_later,) = kit_rows(kit, "DEU", LATER)
    exits.expect("kit rows", withheld.restricted and withheld_later.restricted, "not restricted")
    exits.expect("kit rows", withheld == withheld_later, f"{withheld} / {withheld_later}")
    exits.expect("kit rows", withheld.reported == date(2000, 1, 1), str(withheld.reported))
    # Offline, the kit still answers "possible hit, restricted", for any type asked.
    for number, kind in ((WITHHELD, "passport"), (LATER, "identity_card"), (LATER, "visa")):
        offline = ask(kit, number, document_type=kind)
        said = (offline["result"], [m["match"] for m in offline["matches"]])  # type: ignore[attr-defined]
        exits.expect("kit screening", said == ("possible_hit", ["restricted"]), str(said))
        exits.shows_nothing("kit screening", json.dumps(offline))
    # What is not withheld from a country, its kit opens as before.
    assert exits.leaks == {}
    (details,) = kit_rows(kit, "DEU", other.document_number)
    assert (details.status, details.document_type, details.restricted) == (
        "stolen", "passport", False
    )  # fmt: skip
    (for_ita,) = kit_rows(ita_kit, "DEU", WITHHELD)
    assert (for_ita.status, for_ita.document_type, for_ita.restricted) == (
        "stolen", "passport", False
    )  # fmt: skip
    (hidden_from_ita,) = kit_rows(ita_kit, "DEU", LATER)
    assert hidden_from_ita == withheld_later
