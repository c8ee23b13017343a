"""Webhooks: who sets them, which URLs they take, signed events that reach a receiver that
was down, retries with backoff, and events marked failed after the last attempt."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.errors import ValidationFailed
from bordercheck.hits import webhooks
from bordercheck.hits.delivery import Courier
from bordercheck.hits.service import Deadlines, NewHit, open_hits
from bordercheck.logs import configure_logging
from bordercheck.registry import service as registry
from bordercheck.settings import Settings
from tests.factories import centre_notes, fields, keyed_database, make_bureau, officer
from tests.hits.receiver import Receiver, free_port
from tests.signin import open_api

HOOK = "/api/v1/hits/webhook"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def verified(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What a receiver does: recompute the signature over timestamp and raw body."""
    stamp = headers["X-Bordercheck-Timestamp"]
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(headers["X-Bordercheck-Signature"], "sha256=" + expected.hexdigest())
    return dict(orjson.loads(body))


@pytest.fixture
def database(fresh_url: str) -> Iterator[Database]:
    database = keyed_database(fresh_url)
    yield database
    database.dispose()


def open_a_case(database: Database, url: str) -> str:
    """A DEU webhook at ``url`` and a case on a DEU record; returns the webhook's secret."""
    with database.session(write=True) as session:
        for country in ("DEU", "FRA"):
            make_bureau(session, country)
        hook = webhooks.set_webhook(
            session, officer("DEU"), "DEU", url, secret_key="k" * 40, production=False, now=T0
        )
        record = registry.create_record(session, officer("DEU"), fields())
        new = NewHit(query_id="a" * 32, record_id=record.id, owner_bureau="DEU",
                     querying_bureau="FRA", queried_by="border.fra", match="exact", score=1.0,
                     location="CDG-T2", operation_id=None, at=T0, source="desk")  # fmt: skip
        deadlines = Deadlines(timedelta(hours=12), timedelta(minutes=30), 0.75)
        open_hits(session, [new], deadlines=deadlines, notes=centre_notes())
    return hook.secret


def courier(database: Database, **overrides: Any) -> Courier:
    defaults: dict[str, Any] = {"webhook_retry_base_seconds": 60, "webhook_timeout_seconds": 5}
    return Courier(database, Settings(secret_key="k" * 40, **(defaults | overrides)))


def test_a_receiver_that_is_down_gets_the_event_later(database: Database) -> None:
    port = free_port()
    secret = open_a_case(database, f"http://127.0.0.1:{port}/hooks/bordercheck")
    sender = courier(database)
    first = sender.deliver_due(now=T0)
    assert (first.delivered, first.retrying) == (0, 1)  # connection refused
    with Receiver(port) as receiver:
        assert sender.deliver_due(now=T0 + timedelta(seconds=59)).retrying == 0  # not yet
        assert receiver.received == []
        assert sender.deliver_due(now=T0 + timedelta(seconds=60)).delivered == 1
        ((headers, body),) = receiver.received
    sender.close()
    event = verified(secret, headers, body)
    assert headers["X-Bordercheck-Timestamp"] == str(int((T0 + timedelta(seconds=60)).timestamp()))
    assert headers["X-Bordercheck-Event"] == "hit.opened"
    assert (event["event"], event["bureau"], event["hit"]["owner_bureau"]) == (
        "hit.opened", "DEU", "DEU"
    )  # fmt: skip
    assert "document_number" not in event["hit"]  # details stay behind access control
    with database.session() as session:
        (delivery,) = webhooks.list_deliveries(session, "DEU")
        assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 2, None)


def test_an_event_fails_for_good_after_the_last_attempt(database: Database) -> None:
    port = free_port()
    open_a_case(database, f"http://127.0.0.1:{port}/")
    sender = courier(database, webhook_max_attempts=3)
    with Receiver(port, status=500):
        reports = [sender.deliver_due(now=T0 + timedelta(seconds=s)) for s in (0, 60, 180, 1000)]
    sender.close()
    assert [(r.retrying, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    with database.session() as session:
        (delivery,) = webhooks.list_deliveries(session, "DEU", state="failed")
        assert (delivery.attempts, delivery.last_error) == (3, "could not deliver: HTTP 500")


def test_an_event_for_a_removed_webhook_fails_at_once(database: Database) -> None:
    open_a_case(database, f"http://127.0.0.1:{free_port()}/")
    with database.session(write=True) as session:
        webhooks.remove_webhook(session, officer("DEU"), "DEU")
    sender = courier(database)
    assert sender.deliver_due(now=T0).failed == 1
    sender.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/hook", "must start with https://"),
        ("https://user:pw@example.org/hook", "user name or password"),
        ("https:///hook", "has no host"),
        ("https://example.org:port/", "not a URL"),
        ("https://example.org/#x", "fragment"),
        ("https://example.org/" + "a" * 500, "longer than 500"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        webhooks.check_url(url, production=False)
    (error,) = refused.value.errors
    assert error.field == "url"
    assert reason in error.reason


def test_production_refuses_plain_http() -> None:
    assert webhooks.check_url("http://10.0.0.5/hook", production=False)
    with pytest.raises(ValidationFailed, match="https:// in production"):
        webhooks.check_url("http://10.0.0.5/hook", production=True)
    assert webhooks.check_url(" https://ncb.example/hook ", production=True) == (
        "https://ncb.example/hook"
    )


@given(st.text(max_size=80))
def test_any_text_is_a_url_or_a_clear_refusal(text: str) -> None:
    try:
        url = webhooks.check_url(text, production=True)
    except ValidationFailed as exc:
        refusal = exc
    else:
        assert url.startswith("https://")
        return
    assert [e.field for e in refusal.errors] == ["url"]


def test_who_sets_a_webhook_and_what_get_shows(fresh_url: str) -> None:
    with open_api(fresh_url, bureaus=("DEU", "FRA")) as api:
        deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
        body = {"url": "https://ncb-deu.example/hooks"}
        assert api.client.get(HOOK, headers=deu).status_code == 404
        made = api.client.put(HOOK, json=body, headers=deu)
        assert made.status_code == 200, made.text
        secret = made.json()["secret"]
        assert secret.startswith("whsec_")
        shown = api.client.get(HOOK, headers=deu)
        assert shown.json()["url"] == body["url"]
        assert shown.json()["secret"] is None
        assert secret not in shown.text
        again = api.client.put(HOOK, json=body, headers=deu).json()["secret"]
        assert again != secret  # setting it again makes a new secret

        border = api.client.put(HOOK, json=body, headers=api.bearer(Role.BORDER_OFFICER, "DEU"))
        assert border.status_code == 403
        other = api.client.put(HOOK, params={"bureau": "FRA"}, json=body, headers=deu)
        assert other.status_code == 403
        admin = api.bearer(Role.ADMIN, "XPO")
        assert (
            api.client.put(HOOK, params={"bureau": "FRA"}, json=body, headers=admin).status_code
            == 200
        )
        bad = api.client.put(HOOK, json={"url": "gopher://x"}, headers=deu)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "url"
        assert api.client.delete(HOOK, headers=deu).status_code == 204
        assert api.client.get(HOOK, headers=deu).status_code == 404


def test_the_api_delivers_a_hit_event_once_the_receiver_comes_up(fresh_url: str) -> None:
    port = free_port()
    quick = {"webhook_delivery_seconds": 0.05, "webhook_retry_base_seconds": 0.05}
    with open_api(fresh_url, bureaus=("DEU", "FRA"), **quick) as api:
        deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
        made = api.client.put(HOOK, json={"url": f"http://127.0.0.1:{port}/h"}, headers=deu)
        secret = made.json()["secret"]
        record = {"document_number": "C01X00T47", "issuing_country": "DEU",
                  "document_type": "passport", "status": "stolen"}  # fmt: skip
        assert api.client.post("/api/v1/records", json=record, headers=deu).status_code == 201
        api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
        screened = api.client.post(
            "/api/v1/screen", json={"document_number": "C01X00T47", "issuing_country": "DEU"},
            headers=api.bearer(Role.BORDER_OFFICER, "FRA"),
        )  # fmt: skip
        assert screened.json()["result"] == "hit"

        # The worker tries while nothing listens: the attempt is refused and recorded.
        started = time.monotonic()
        while True:
            response = api.client.get("/api/v1/hits/deliveries", headers=deu)
            assert response.status_code == 200, response.text
            (delivery,) = response.json()
            if delivery["attempts"] >= 1:
                break
            assert time.monotonic() - started < 10, "no delivery attempt within 10 s"
            time.sleep(0.02)  # within the rate limit
        assert delivery["state"] == "pending"
        assert delivery["last_error"] == "could not deliver"

        with Receiver(port) as receiver:
            assert receiver.arrived.wait(10), "the event did not arrive within 10 s"
            headers, body = receiver.received[0]
        event = verified(secret, headers, body)
        assert event["event"] == "hit.opened"


def _last_error(database: Database) -> str | None:
    with database.session() as session:
        (delivery,) = webhooks.list_deliveries(session, "DEU")
        return delivery.last_error


def test_a_bureau_cannot_tell_a_closed_port_from_a_silent_one(database: Database) -> None:
    open_a_case(database, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens: refused
    sender = courier(database, webhook_timeout_seconds=0.2)
    assert sender.deliver_due(now=T0).retrying == 1
    refused = _last_error(database)
    with socket.socket() as silent:  # takes connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with database.session(write=True) as session:
            webhooks.set_webhook(session, officer("DEU"), "DEU",
                                 f"http://127.0.0.1:{silent.getsockname()[1]}/hook",
                                 secret_key="k" * 40, production=False, now=T0)  # fmt: skip
        assert sender.deliver_due(now=T0 + timedelta(seconds=60)).retrying == 1
    sender.close()
    timed_out = _last_error(database)
    assert refused == timed_out == "could not deliver"


def test_the_http_clients_log_does_not_carry_webhook_urls(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    open_a_case(database, f"http://127.0.0.1:{port}/hook?token=receivers-own-token")
    settings = Settings(secret_key="k" * 40, log_level="INFO")
    configure_logging(settings)
    caplog.set_level(logging.INFO)
    with Receiver(port):
        sender = Courier(database, settings)
        assert sender.deliver_due(now=T0).delivered == 1
        sender.close()
    assert "receivers-own-token" not in caplog.text
    assert "127.0.0.1" not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_production_refuses_webhooks_into_the_servers_own_network(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        webhooks.check_url(url, production=True)
    assert "must name a public host" in refused.value.errors[0].reason
    assert webhooks.check_url(url.replace("https", "http"), production=False)  # dev, tests


def test_production_does_not_send_to_a_host_that_is_internal_when_the_event_is_due(
    database: Database,
) -> None:
    port = free_port()
    open_a_case(database, f"http://127.0.0.1:{port}/hook")  # set outside production
    with Receiver(port) as receiver:
        sender = courier(database)
        sender.public_only = True  # as Courier sets it when BORDERCHECK_ENV=production
        assert sender.deliver_due(now=T0).retrying == 1
        sender.close()
    assert receiver.received == []
    assert _last_error(database) == "could not deliver"
