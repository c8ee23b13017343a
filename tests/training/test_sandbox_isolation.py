"""A sandbox and the live system refuse each other: databases at start, tokens, kits, cookies;
and everything a sandbox answers is marked TRAINING.

Both servers run for real (uvicorn) with the same secret key: what keeps them apart is the
installation row, the token claim and the kit header, not a difference of keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bordercheck.api.app import create_app
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.cli import app as cli
from bordercheck.db_checks import open_database
from bordercheck.edge import sync
from bordercheck.edge.store import KitDirectory
from bordercheck.errors import ConfigurationError
from bordercheck.installation import TRAINING_HEADER, installation_of, mark_sandbox
from bordercheck.settings import Settings
from tests.conftest import FreshDatabases
from tests.edge.conftest import Centre
from tests.factories import keyed_database, secret_key
from tests.signin import PASSWORD

NAME = "class-a"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


def make_sandbox(url: str, name: str = NAME) -> None:
    database = keyed_database(url)
    with database.session(write=True) as session:
        mark_sandbox(session, name)
    database.dispose()


class Pair:
    def __init__(self, live: Centre, sandbox: Centre) -> None:
        self.live, self.sandbox = live, sandbox

    @staticmethod
    def token(centre: Centre, username: str) -> str:
        answer = httpx.post(
            centre.url + TOKEN,
            data={"grant_type": "password", "username": username, "password": PASSWORD},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def pair(
    backend: str, fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    live_url, sandbox_url = fresh_databases.url(backend), fresh_databases.url(backend)
    make_sandbox(sandbox_url)
    live = Centre(live_url, tmp_path_factory.mktemp("live-cache"))
    sandbox = Centre(sandbox_url, tmp_path_factory.mktemp("sandbox-cache"), training_sandbox=NAME)
    assert live.settings.secret_key == sandbox.settings.secret_key  # the same key on purpose
    for centre in (live, sandbox):
        with centre.database.session(write=True) as session:
            auth_service.add_bureau(session, "FRA", "NCB France")
            auth_service.add_user(
                session, "officer", bureau="FRA", role=Role.BUREAU_OFFICER, password=PASSWORD
            )
    yield Pair(live, sandbox)
    live.stop()
    sandbox.stop()


def test_a_database_without_the_row_is_live(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    with database.session() as session:
        assert installation_of(session).kind == "live"
    database.dispose()


def test_live_settings_refuse_to_start_on_a_sandbox(fresh_url: str) -> None:
    make_sandbox(fresh_url)
    app = create_app(Settings(database_url=fresh_url, env="test"))
    with (
        pytest.raises(ConfigurationError, match="is the training sandbox 'class-a'"),
        TestClient(app),
    ):
        pass
    with pytest.raises(ConfigurationError, match="settings are live ones"):
        open_database(fresh_url, secret_key=secret_key())
    result = CliRunner().invoke(
        cli,
        ["records", "show", "1"],
        env={"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_SETTINGS_FILE": ""},
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()]  # one line, no traceback
    assert "is the training sandbox 'class-a'" in result.output
    upgrade = CliRunner().invoke(
        cli, ["db", "upgrade"], env={"BORDERCHECK_DATABASE_URL": fresh_url}
    )
    assert upgrade.exit_code == 2
    assert "refusing to start" in upgrade.output


@pytest.mark.parametrize("marked", [None, "class-b"])
def test_sandbox_settings_refuse_any_other_database(fresh_url: str, marked: str | None) -> None:
    if marked is not None:
        make_sandbox(fresh_url, marked)
    app = create_app(Settings(database_url=fresh_url, env="test", training_sandbox=NAME))
    with (
        pytest.raises(ConfigurationError, match="BORDERCHECK_TRAINING_SANDBOX is 'class-a'"),
        TestClient(app),
    ):
        pass
    with pytest.raises(ConfigurationError, match="refusing to start"):
        open_database(fresh_url, secret_key=secret_key(), sandbox=NAME)
    env = {"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_TRAINING_SANDBOX": NAME}
    for args in (["bureaus", "list"], ["db", "upgrade"]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 2, result.output
        assert "a sandbox never runs on another database" in result.output


def test_a_sandbox_token_is_refused_by_the_live_system_and_the_other_way(pair: Pair) -> None:
    sandbox_token = pair.token(pair.sandbox, "officer")
    live_token = pair.token(pair.live, "officer")
    at = {
        (centre.url, token): httpx.get(
            centre.url + ME, headers={"Authorization": f"Bearer {token}"}
        )
        for centre in (pair.live, pair.sandbox)
        for token in (sandbox_token, live_token)
    }
    assert at[(pair.sandbox.url, sandbox_token)].status_code == 200
    assert at[(pair.live.url, live_token)].status_code == 200
    refused_by_live = at[(pair.live.url, sandbox_token)]
    assert refused_by_live.status_code == 401
    assert "issued by the training sandbox 'class-a'" in refused_by_live.json()["message"]
    refused_by_sandbox = at[(pair.sandbox.url, live_token)]
    assert refused_by_sandbox.status_code == 401
    assert "it is a live token" in refused_by_sandbox.json()["message"]


def test_kits_are_refused_across(pair: Pair, tmp_path: Path) -> None:
    # A sandbox's kit learns its sandbox at registration and names it on every call.
    client_id, secret = pair.sandbox.add_client()
    done = sync.init(tmp_path / "kit", pair.sandbox.url, client_id, secret)
    config = KitDirectory(tmp_path / "kit").config()
    assert config.training == NAME
    assert sync.sync(tmp_path / "kit").sequence >= done.sequence
    # Its calls, even with a live kit's own credentials, are refused by the live centre; and a
    # live kit (which names no sandbox) is refused by the sandbox.
    for centre, kit_training, refused in (
        (pair.live, NAME, "belongs to the training sandbox 'class-a'"),
        (pair.sandbox, None, "this kit is a live one"),
    ):
        with centre.database.session(write=True) as session:
            client, csecret = auth_service.add_client(
                session, f"kit of {kit_training}", bureau="FRA", role=Role.BORDER_OFFICER
            )
            cid = client.client_id
        token = httpx.post(
            centre.url + TOKEN,
            data={"grant_type": "client_credentials", "client_id": cid, "client_secret": csecret},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        kit = httpx.post(centre.url + "/api/v1/edge/kits", headers=headers).json()
        headers["X-Edge-Kit"] = kit["kit_id"]
        if kit_training:
            headers[TRAINING_HEADER] = kit_training
        for method, path in (("GET", "/api/v1/edge/changes?since=0"),
                             ("POST", "/api/v1/edge/snapshot")):  # fmt: skip
            answer = httpx.request(method, centre.url + path, headers=headers)
            assert answer.status_code == 403, answer.text
            assert refused in answer.json()["message"]
        upload = httpx.post(
            centre.url + "/api/v1/edge/uploads",
            headers=headers,
            json={"entries": [{"id": "0" * 32, "sealed": "AAAA"}]},
        )
        assert upload.status_code == 403


def test_console_cookies_do_not_cross(pair: Pair) -> None:
    cookies = {}
    for centre in (pair.live, pair.sandbox):
        browser = httpx.Client(base_url=centre.url, follow_redirects=False)
        page = browser.get("/")
        token = page.text.split('name="sign_in_token" value="')[1].split('"')[0]
        answer = browser.post(
            "/sign-in",
            data={"username": "officer", "password": PASSWORD, "sign_in_token": token},
        )
        assert answer.status_code == 303, answer.text
        cookies[centre.url] = dict(browser.cookies)
        browser.close()
    live_cookies, sandbox_cookies = cookies[pair.live.url], cookies[pair.sandbox.url]
    assert "bordercheck_session" in live_cookies
    assert f"bordercheck_session_training_{NAME}" in sandbox_cookies
    assert "bordercheck_session" not in sandbox_cookies  # a browser keeps both, apart
    # One browser holding both cookies (same host, other port) is signed in to each as itself;
    # a session token moved under the other's name opens nothing.
    both = {**live_cookies, **sandbox_cookies}
    for centre in (pair.live, pair.sandbox):
        home = httpx.get(centre.url + "/home", cookies=both, follow_redirects=False)
        assert home.status_code == 200
    swapped = {
        "bordercheck_session": sandbox_cookies[f"bordercheck_session_training_{NAME}"],
        f"bordercheck_session_training_{NAME}": live_cookies["bordercheck_session"],
    }
    for centre in (pair.live, pair.sandbox):
        home = httpx.get(centre.url + "/home", cookies=swapped, follow_redirects=False)
        assert home.status_code in (302, 303), home.status_code


def test_every_answer_of_a_sandbox_is_marked(pair: Pair) -> None:
    token = pair.token(pair.sandbox, "officer")
    headers = {"Authorization": f"Bearer {token}"}
    answers = [
        httpx.get(pair.sandbox.url + "/healthz"),
        httpx.get(pair.sandbox.url + "/api/v1/nowhere"),
        httpx.post(
            pair.sandbox.url + "/api/v1/screen",
            headers=headers,
            json={"document_number": "X1234567", "issuing_country": "FRA"},
        ),
        httpx.get(pair.sandbox.url + "/api/v1/hits", headers=headers),
        httpx.get(pair.sandbox.url + "/"),
    ]
    assert [a.headers.get(TRAINING_HEADER) for a in answers] == [NAME] * len(answers)
    assert answers[2].status_code == 200, answers[2].text
    assert 'data-training="class-a"' in answers[4].text
    live = httpx.get(pair.live.url + "/")
    assert TRAINING_HEADER not in live.headers
    assert "data-training" not in live.text


def test_a_sandbox_sends_webhooks_only_to_this_machine(pair: Pair) -> None:
    token = pair.token(pair.sandbox, "officer")
    headers = {"Authorization": f"Bearer {token}"}
    far = httpx.put(
        pair.sandbox.url + "/api/v1/hits/webhook",
        headers=headers,
        json={"url": "https://hooks.example.org/bordercheck"},
    )
    assert far.status_code == 422, far.text
    assert "training sandbox sends events nowhere else" in far.text
    near = httpx.put(
        pair.sandbox.url + "/api/v1/hits/webhook",
        headers=headers,
        json={"url": "http://127.0.0.1:9/hook"},
    )
    assert near.status_code == 200, near.text
