"""What checking a token costs a request, with and without the check of its caller's standing.

Measures in one process, on a SQLite database with one API client: ``TokenAuthority.verify``
alone (signature cached, expiry, revocations), then with ``KnownSubjects`` (the caller exists
and is active), as ``api.deps`` runs them for every request.

    .venv/bin/python bench/token_check.py [--rounds 200000]
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.auth.revocation import RevocationList
from bordercheck.auth.tokens import Principal, TokenAuthority
from bordercheck.db import Database
from bordercheck.migrations import upgrade
from bordercheck.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200_000)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-tokens-')) / 'bench.db'}"
    key = secrets.token_urlsafe(32)  # the installation's secret key, this run's own
    upgrade(url, secret_key=key)
    database = Database(url, secret_key=key)
    with database.session(write=True) as session:
        auth_service.ensure_secretariat(session, "XPO", "General Secretariat")
        auth_service.add_bureau(session, "FRA", "NCB Paris")
        client, _ = auth_service.add_client(
            session, "gates", bureau="FRA", role=Role.BORDER_OFFICER
        )
        client_id = client.client_id
    authority = TokenAuthority(Settings(env="test"), RevocationList(5.0))
    principal = Principal("client", client_id, "gates", Role.BORDER_OFFICER, "FRA")
    token = authority.issue(principal).access_token
    authority.revocations.refresh(database)
    subjects = authority.subjects

    def verify_only() -> None:
        authority.verify(token)

    def verify_and_check() -> None:
        verified = authority.verify(token)
        if subjects.needs_refresh(verified.principal):
            subjects.refresh(database, verified.principal)  # once a second: one query
        subjects.check(verified.principal)

    for name, step in (("verify", verify_only), ("verify + caller check", verify_and_check)):
        step()
        started = time.perf_counter()
        for _ in range(args.rounds):
            step()
        elapsed = time.perf_counter() - started
        print(f"{name}: {elapsed / args.rounds * 1e6:.2f} µs a request ({args.rounds:,} rounds)")
    database.dispose()


if __name__ == "__main__":
    main()
