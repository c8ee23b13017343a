"""Three API processes (``bordercheck serve``, separate ports) on one PostgreSQL, as nodes
behind a load balancer: what is done through one is seen by the others within a second, and
a caller's rate limit is one budget for all of them, not one per node."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from bordercheck.api.limits import default_slice
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.registry import service as registry_service
from tests.conftest import POSTGRES_URL, FreshDatabases
from tests.factories import fields, officer, secret_key
from tests.servers import Served, serve
from tests.signin import PASSWORD

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(POSTGRES_URL is None, reason="several nodes need PostgreSQL"),
]

WITHIN = 1.0  # seconds for a change made on one node to hold on the others
RATE, BURST = 5, 20  # each caller's limit on every node of this module
SLICE = default_slice(RATE, BURST)
USERS = {
    "admin": ("XPO", Role.ADMIN),
    "deu.officer": ("DEU", Role.BUREAU_OFFICER),
    "fra.officer": ("FRA", Role.BUREAU_OFFICER),
    "fra.leaving": ("FRA", Role.BUREAU_OFFICER),
    "fra.gone": ("FRA", Role.BUREAU_OFFICER),
}
CLIENTS = ("desk A", "desk B", "desk C", "hammer")
SIGN_IN_TOKEN = re.compile(r'name="sign_in_token" value="([^"]+)"')


@dataclass
class Nodes:
    a: Served
    b: Served
    c: Served
    clients: dict[str, tuple[str, str]]

    @property
    def all(self) -> tuple[Served, Served, Served]:
        return self.a, self.b, self.c

    def user(self, node: Served, username: str) -> dict[str, str]:
        response = httpx2.post(
            f"{node.base}/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def client(self, node: Served, name: str) -> dict[str, str]:
        client_id, secret = self.clients[name]
        response = httpx2.post(
            f"{node.base}/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "client_secret": secret},
            timeout=30,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def nodes(
    fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Nodes]:
    url = fresh_databases.url("postgresql")
    database = Database(url, secret_key=secret_key())
    clients: dict[str, tuple[str, str]] = {}
    with database.session(write=True) as session:
        for country in ("DEU", "FRA"):
            auth_service.add_bureau(session, country, f"NCB {country}")
        for username, (bureau, role) in USERS.items():
            auth_service.add_user(session, username, bureau=bureau, role=role, password=PASSWORD)
        for name in CLIENTS:
            client, secret = auth_service.add_client(
                session, name, bureau="FRA", role=Role.BORDER_OFFICER
            )
            clients[name] = (client.client_id, secret)
        registry_service.create_record(session, officer("DEU"), fields())
    database.dispose()
    work = tmp_path_factory.mktemp("nodes")
    limits = {"rate_limit_per_second": str(RATE), "rate_limit_burst": str(BURST)}
    with ExitStack() as stack:
        started = [
            stack.enter_context(serve(url, secret_key(), work / name, **limits))
            for name in ("a", "b", "c")
        ]
        yield Nodes(*started, clients=clients)
        logs = "".join(node.log() for node in started)
    assert "Traceback" not in logs, logs[-3000:]


def until(check: Callable[[], bool], within: float, every: float = 0.05) -> float:
    """Seconds until ``check`` holds; fails past ``within`` (plus a margin to say by how much)."""
    started = time.monotonic()
    while not check():
        elapsed = time.monotonic() - started
        assert elapsed < within * 5, f"still not so after {elapsed:.1f} s"
        time.sleep(every)
    return time.monotonic() - started


def screen(node: Served, headers: dict[str, str], number: str) -> dict[str, Any]:
    body = {"document_number": number, "issuing_country": "DEU"}
    response = httpx2.post(f"{node.base}/api/v1/screen", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_record_made_on_one_node_is_a_hit_on_the_others_within_a_second(nodes: Nodes) -> None:
    names = zip(nodes.all, "ABC", strict=True)
    desks = {node.base: nodes.client(node, f"desk {n}") for node, n in names}
    deu = nodes.user(nodes.a, "deu.officer")
    for node in nodes.all:
        assert screen(node, desks[node.base], "N0DE12345")["result"] == "no_hit"
    body = fields(document_number="N0DE12345").model_dump(mode="json")
    made = httpx2.post(f"{nodes.a.base}/api/v1/records", json=body, headers=deu, timeout=30)
    assert made.status_code == 201, made.text
    # The node that made it screens with it at once.
    assert screen(nodes.a, desks[nodes.a.base], "N0DE12345")["result"] == "hit"
    for node in (nodes.b, nodes.c):
        headers = desks[node.base]
        took = until(lambda n=node, h=headers: screen(n, h, "N0DE12345")["result"] == "hit",
                     WITHIN)  # fmt: skip
        assert took <= WITHIN, f"{node.base} screened the new record after {took:.2f} s"
        print(f"\nnew record screened as a hit on another node after {took:.2f} s")


def test_a_hit_opened_on_one_node_is_answered_on_another_and_seen_on_the_third(
    nodes: Nodes,
) -> None:
    answer = screen(nodes.b, nodes.client(nodes.b, "desk B"), "C01X00T47")
    assert answer["result"] == "hit"
    deu = nodes.user(nodes.c, "deu.officer")
    cases = httpx2.get(f"{nodes.c.base}/api/v1/hits", headers=deu, timeout=30).json()["hits"]
    case = next(hit for hit in cases if hit["query_id"] == answer["query_id"])
    answered = httpx2.post(
        f"{nodes.c.base}/api/v1/hits/{case['id']}/answer",
        json={"answer": "confirmed", "action": "seize_document"},
        headers=deu,
        timeout=30,
    )
    assert answered.status_code == 200, answered.text
    fra = nodes.user(nodes.a, "fra.officer")
    seen = httpx2.get(f"{nodes.a.base}/api/v1/hits/{case['id']}", headers=fra, timeout=30)
    assert seen.status_code == 200, seen.text
    assert seen.json()["answer"] == "confirmed"
    assert seen.json()["answered_by"]
    # Answered once: the same answer again, on yet another node, is refused.
    again = httpx2.post(
        f"{nodes.b.base}/api/v1/hits/{case['id']}/answer",
        json={"answer": "no_match"},
        headers=nodes.user(nodes.b, "deu.officer"),
        timeout=30,
    )
    assert again.status_code == 409, again.text


def refused(node: Served, headers: dict[str, str]) -> bool:
    response = httpx2.get(f"{node.base}/api/v1/auth/me", headers=headers, timeout=30)
    assert response.status_code in {200, 401}, response.text
    return response.status_code == 401


def test_a_token_revoked_on_one_node_is_refused_on_the_others_within_a_second(
    nodes: Nodes,
) -> None:
    token = nodes.user(nodes.a, "fra.leaving")
    assert not any(refused(node, token) for node in nodes.all)
    signed_out = httpx2.post(f"{nodes.a.base}/api/v1/auth/revoke", headers=token, timeout=30)
    assert signed_out.status_code == 204
    assert refused(nodes.a, token)
    for node in (nodes.b, nodes.c):
        took = until(lambda n=node: refused(n, token), WITHIN)
        assert took <= WITHIN, f"{node.base} refused the revoked token after {took:.2f} s"
        print(f"\nrevoked token refused on another node after {took:.2f} s")


def test_a_user_deactivated_on_one_node_is_refused_everywhere_within_a_second(
    nodes: Nodes,
) -> None:
    token = nodes.user(nodes.b, "fra.gone")
    console = httpx2.Client(base_url=nodes.b.base, follow_redirects=False, timeout=30,
                            headers={"accept": "text/html"})  # fmt: skip
    with console:
        page = console.get("/")
        found = SIGN_IN_TOKEN.search(page.text)
        assert found is not None, page.text[:500]
        signed_in = console.post("/sign-in", data={
            "username": "fra.gone", "password": PASSWORD, "sign_in_token": found.group(1),
            "next": "",
        })  # fmt: skip
        assert signed_in.status_code == 303, signed_in.text[:500]
        cookies = dict(console.cookies)
        home = httpx2.get(f"{nodes.c.base}/home", cookies=cookies, timeout=30,
                          headers={"accept": "text/html"})  # fmt: skip
        assert home.status_code == 200, "a console session opened on B is not known on C"
        assert not any(refused(node, token) for node in nodes.all)

        admin = nodes.user(nodes.a, "admin")
        gone = httpx2.post(f"{nodes.a.base}/api/v1/users/fra.gone/deactivate", headers=admin,
                           timeout=30)  # fmt: skip
        assert gone.status_code == 200, gone.text
        assert refused(nodes.a, token)
        for node in (nodes.b, nodes.c):
            took = until(lambda n=node: refused(n, token), WITHIN)
            assert took <= WITHIN, f"{node.base} refused the deactivated user after {took:.2f} s"
            print(f"\ndeactivated user refused on another node after {took:.2f} s")
        # The console session ended on every node: its pages send to the sign-in.
        for node in nodes.all:
            page = httpx2.get(f"{node.base}/home", cookies=cookies, timeout=30,
                              headers={"accept": "text/html"})  # fmt: skip
            assert page.status_code == 303, page.status_code
            assert "home" not in page.headers.get("location", "/home").split("?")[0]
        # And it cannot sign in again anywhere.
        again = httpx2.post(
            f"{nodes.c.base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "fra.gone", "password": PASSWORD},
            timeout=30,
        )
        assert again.status_code in {400, 401}, again.text


def test_a_callers_rate_limit_is_one_budget_for_every_node(nodes: Nodes) -> None:
    tokens = [nodes.client(node, "hammer") for node in nodes.all]
    counts: dict[int, int] = {}
    sent = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def hammer(node: Served, headers: dict[str, str]) -> None:
        with httpx2.Client(base_url=node.base, headers=headers, timeout=30) as client:
            while not stop.is_set():
                status = client.get("/api/v1/hits").status_code
                with lock:
                    counts[status] = counts.get(status, 0) + 1
                    sent[0] += 1

    threads = [threading.Thread(target=hammer, args=(node, token))
               for node, token in zip(nodes.all * 2, tokens * 2, strict=True)]  # fmt: skip
    started = time.monotonic()
    for thread in threads:
        thread.start()
    # Long enough for per-node limits to have let through clearly more than a shared one.
    elapsed = 0.0
    while elapsed < 15:
        time.sleep(0.1)
        elapsed = time.monotonic() - started
        with lock:
            if elapsed >= 2 and sent[0] > 3 * (BURST + RATE * elapsed) + 20:
                break
    stop.set()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started
    accepted = counts.get(200, 0)
    per_node = 3 * (BURST + RATE * elapsed)  # what three separate limits would let through
    shared = BURST + RATE * elapsed + 3 * SLICE  # the stated bound
    assert set(counts) <= {200, 429}, counts
    assert sent[0] > per_node, f"only {sent[0]} sent in {elapsed:.1f} s: the test proves nothing"
    assert accepted <= shared, f"{accepted} accepted in {elapsed:.1f} s; at most {shared:.0f}"
    assert accepted >= BURST, f"only {accepted} accepted: the budget was not spent"
    print(f"\n{sent[0]} requests in {elapsed:.1f} s over 3 nodes: {accepted} accepted "
          f"(bound {shared:.0f}; per-node limits would allow {per_node:.0f})")  # fmt: skip
