"""``bordercheck clients …`` and ``bordercheck users …``, end to end."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from bordercheck.audit.service import AuditFilter, search
from bordercheck.cli import app
from tests.signin import PASSWORD, open_api

Run = Callable[..., Result]


@pytest.fixture
def run(fresh_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(
            app, list(args), input=stdin, env={"BORDERCHECK_DATABASE_URL": fresh_url}
        )

    return invoke


def test_clients_add_prints_the_id_and_the_secret_once(run: Run, fresh_url: str) -> None:
    assert run("bureaus", "add", "FRA").exit_code == 0
    added = run("clients", "add", "Roissy gates", "--bureau", "FRA", "--role", "border_officer")
    assert added.exit_code == 0, added.output
    lines = added.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("client_id: bcc_")
    assert lines[1].startswith("client_secret: ")
    client_id = lines[0].removeprefix("client_id: ")
    secret = lines[1].removeprefix("client_secret: ")

    listing = run("clients", "list")
    assert client_id in listing.output
    assert "Roissy" in listing.output
    assert secret not in listing.output

    with open_api(fresh_url, bureaus=(), revocation_refresh_seconds=0) as api:
        form = {"grant_type": "client_credentials"}
        token = api.client.post("/api/v1/auth/token", data=form, auth=(client_id, secret))
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 200

        deactivated = run("clients", "deactivate", client_id)
        assert deactivated.exit_code == 0
        assert f"client {client_id} (Roissy gates) deactivated" in deactivated.output
        # The server learns of it from the database, at its next refresh (here: at once).
        assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 401
        again = api.client.post("/api/v1/auth/token", data=form, auth=(client_id, secret))
        assert again.status_code == 401


def test_clients_add_refuses_an_unknown_bureau_or_role(run: Run) -> None:
    unknown = run("clients", "add", "gates", "--bureau", "ITA", "--role", "border_officer")
    assert unknown.exit_code == 1
    assert "there is no bureau for ITA" in unknown.output
    role = run("clients", "add", "gates", "--bureau", "XPO", "--role", "king")
    assert role.exit_code == 2
    missing = run("clients", "deactivate", "bcc_nothing")
    assert missing.exit_code == 1
    assert "there is no API client 'bcc_nothing'" in missing.output


def test_users_list_and_deactivate(run: Run, fresh_url: str) -> None:
    run("bureaus", "add", "DEU")
    run(
        "users", "add", "anna.k", "--bureau", "DEU", "--role", "bureau_officer",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    listing = run("users", "list")
    assert "anna.k" in listing.output
    assert "bureau_officer" in listing.output

    with open_api(fresh_url, bureaus=(), revocation_refresh_seconds=0) as api:
        headers = api.sign_in("anna.k")
        deactivated = run("users", "deactivate", "anna.k")
        assert deactivated.exit_code == 0
        assert "user anna.k deactivated" in deactivated.output
        assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    row = next(line for line in run("users", "list").output.splitlines() if "anna.k" in line)
    assert row.split("│")[4].strip() == "no"
    assert run("users", "deactivate", "nobody").exit_code == 1


def test_users_reactivate_lets_a_user_sign_in_again_but_not_with_old_tokens(
    run: Run, fresh_url: str
) -> None:
    run("bureaus", "add", "DEU")
    run(
        "users", "add", "anna.k", "--bureau", "DEU", "--role", "bureau_officer",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    with open_api(fresh_url, bureaus=(), revocation_refresh_seconds=0) as api:
        before = api.sign_in("anna.k")
        assert run("users", "deactivate", "anna.k").exit_code == 0
        reactivated = run("users", "reactivate", "anna.k")
        assert reactivated.exit_code == 0, reactivated.output
        assert "user anna.k reactivated" in reactivated.output
        after = api.sign_in("anna.k")
        assert api.client.get("/api/v1/auth/me", headers=after).status_code == 200
        assert api.client.get("/api/v1/auth/me", headers=before).status_code == 401
        with api.database.session() as session:
            [entry] = search(session, AuditFilter(action="user.reactivated")).entries
            assert entry.actor.startswith("cli")
            assert entry.subject == "user:anna.k"
    missing = run("users", "reactivate", "nobody")
    assert missing.exit_code == 1
    assert "there is no user 'nobody'" in missing.output


def test_users_set_password_from_stdin_with_the_policy_and_temporary(
    run: Run, fresh_url: str
) -> None:
    run("bureaus", "add", "DEU")
    run(
        "users", "add", "anna.k", "--bureau", "DEU", "--role", "bureau_officer",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    weak = run("users", "set-password", "anna.k", "--password-stdin", stdin="password1234\n")
    assert weak.exit_code == 1
    assert "among the most common" in weak.output
    new = "a passphrase set by the desk"
    done = run("users", "set-password", "anna.k", "--password-stdin", "--temporary", stdin=new)
    assert done.exit_code == 0, done.output
    assert "password of anna.k set (to be changed at the next sign-in)" in done.output
    with open_api(fresh_url, bureaus=(), revocation_refresh_seconds=0) as api:
        form = {"grant_type": "password", "username": "anna.k", "password": new}
        refused = api.client.post("/api/v1/auth/token", data=form)
        assert refused.status_code == 403
        assert refused.json()["error"] == "password_change_required"
        with api.database.session() as session:
            [entry] = search(session, AuditFilter(action="user.password_reset")).entries
            assert (entry.actor.startswith("cli"), entry.subject) == (True, "user:anna.k")
    final = run("users", "set-password", "anna.k", "--password-stdin", stdin=new + "!\n")
    assert final.exit_code == 0
    with open_api(fresh_url, bureaus=(), revocation_refresh_seconds=0) as api:
        assert api.sign_in("anna.k", new + "!")
