"""``bordercheck messages …`` on a database of the test's own."""

from __future__ import annotations

import base64

from sqlalchemy import select
from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.messaging import service
from bordercheck.messaging.models import Message
from bordercheck.settings import Settings
from tests.factories import keyed_database, make_bureau, officer

OLD = "old:" + base64.b64encode(b"\x05" * 32).decode()
NEW = "new:" + base64.b64encode(b"\x06" * 32).decode()


def test_rewrap_moves_every_data_key_to_the_current_key(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        for code in ("DEU", "FRA"):
            make_bureau(session, code)
        service.create_thread(
            session,
            Settings(env="test", message_keys=OLD),
            officer("DEU"),
            subject="s",
            recipients=["FRA"],
            body="b",
        )
    runner = CliRunner()

    def run(keys: str, *args: str) -> str:
        env = {"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_MESSAGE_KEYS": keys}
        result = runner.invoke(app, ["messages", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert "message key old: wraps 2 data keys" in run(f"{NEW},{OLD}", "keys")
    assert "re-wrapped 2 data keys from 'old' to 'new'" in run(f"{NEW},{OLD}", "rewrap")
    assert "already wrapped by 'new'" in run(NEW, "rewrap")
    listing = run(NEW, "keys")
    assert "message key new (current): wraps 2 data keys" in listing
    assert "signing key dev (current): public key " in listing
    with database.session() as session:
        assert set(session.scalars(select(Message.key_id))) == {"new"}
    database.dispose()
