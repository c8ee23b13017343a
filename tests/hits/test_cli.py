"""``bordercheck hits sweep`` and ``hits deliver`` on a database of the test's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.hits import webhooks
from bordercheck.hits.service import Deadlines, NewHit, open_hits
from bordercheck.registry import service as registry
from bordercheck.settings import load_settings
from tests.factories import centre_notes, fields, keyed_database, make_bureau, officer
from tests.hits.receiver import free_port


def test_sweep_escalates_and_deliver_reports_what_failed(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with database.session(write=True) as session:
        for country in ("DEU", "FRA"):
            make_bureau(session, country)
        record = registry.create_record(session, officer("DEU"), fields())
        webhooks.set_webhook(
            session, officer("DEU"), "DEU", f"http://127.0.0.1:{free_port()}/",
            secret_key="k" * 40, production=False, now=an_hour_ago,
        )  # fmt: skip
        new = NewHit(query_id="b" * 32, record_id=record.id, owner_bureau="DEU",
                     querying_bureau="FRA", queried_by="border.fra", match="exact", score=1.0,
                     location=None, operation_id=None, at=an_hour_ago, source="desk")  # fmt: skip
        open_hits(
            session, [new], deadlines=Deadlines.from_settings(load_settings()), notes=centre_notes()
        )
    database.dispose()

    env = {"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_SECRET_KEY": "k" * 40,
           "BORDERCHECK_WEBHOOK_MAX_ATTEMPTS": "2"}  # fmt: skip
    runner = CliRunner()
    swept = runner.invoke(app, ["hits", "sweep"], env=env)
    assert swept.exit_code == 0, swept.output
    assert "reminded 0, escalated 1" in swept.output
    assert "escalated 0" in runner.invoke(app, ["hits", "sweep"], env=env).output

    # Nothing listens on the port: the first attempt is retried later.
    first = runner.invoke(app, ["hits", "deliver", "--timeout", "2"], env=env)
    assert first.exit_code == 0, first.output
    assert "delivered 0, to retry later 2, failed 0" in first.output  # opened and escalated
