"""Whom a token may name: people and machines that exist and are active, held in memory.

A valid signature proves only that the token was made with this deployment's key. Every
request also checks that its subject (``user:12``, ``client:bcc_…``) exists, is active, and
still has the role and bureau the token claims. Each process holds the standing of the
subjects it has seen and reloads them all once they are ``refresh_seconds`` old, so that a
deactivation, made by any process, refuses the subject's next request within a second on
every node, while a request costs two dictionary look-ups; only a subject seen for the first
time costs a query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bordercheck.auth.models import ApiClient, Bureau, User
from bordercheck.db import Database
from bordercheck.errors import ServiceUnavailable, Unauthorized
from bordercheck.logs import get_logger

if TYPE_CHECKING:
    from bordercheck.auth.tokens import Principal

log = get_logger(__name__)

# A deactivated person or machine is refused within this long on every API process.
REFRESH_SECONDS = 1.0
# Beyond this many subjects seen, the cache starts again (the next requests refill it).
MAX_SUBJECTS = 100_000
# Subjects per query in a reload: well under every database's limit on bound parameters.
CHUNK = 500


@dataclass(frozen=True)
class Standing:
    """What the database says of a subject now."""

    active: bool
    role: str
    bureau_code: str


Key = tuple[str, str]  # ("user", "12") or ("client", "bcc_…")


class KnownSubjects:
    """The standing of every subject this process has seen; ``None`` for one that does not exist."""

    def __init__(
        self, refresh_seconds: float = REFRESH_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._standing: dict[Key, Standing | None] = {}
        self._loaded_at = clock()
        self._lock = threading.Lock()
        self._swap = threading.Lock()  # held briefly by whoever changes ``_standing``

    def needs_refresh(self, principal: Principal) -> bool:
        return (principal.kind, principal.id) not in self._standing or (
            self._clock() - self._loaded_at >= self.refresh_seconds
        )

    def refresh(self, database: Database, principal: Principal) -> None:
        """Look ``principal`` up if it is new; reload every subject if the copy is old."""
        key = (principal.kind, principal.id)
        if key not in self._standing:
            try:
                with database.session() as session:
                    found = _standings(session, [key])
            except SQLAlchemyError as exc:
                raise ServiceUnavailable(
                    "cannot check tokens: the database does not answer; try again shortly"
                ) from exc
            with self._swap:
                if len(self._standing) >= MAX_SUBJECTS:
                    self._standing = {}
                self._standing[key] = found.get(key)
        if self._clock() - self._loaded_at < self.refresh_seconds:
            return
        # One thread reloads; the others carry on with the copy they have.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._clock() - self._loaded_at < self.refresh_seconds:
                return
            started = self._clock()
            known = list(self._standing)
            try:
                with database.session() as session:
                    found = _standings(session, known)
            except SQLAlchemyError as exc:
                log.warning("token subjects not refreshed", error=type(exc).__name__)
                self._loaded_at = started  # try again after one interval, not per request
                return
            # Swapped whole, so a reader sees the old copy or the new one; with the subjects
            # first looked up while this one read, or their requests would be told they do
            # not exist (two people's first requests at once did).
            reloaded: dict[Key, Standing | None] = {key: found.get(key) for key in known}
            with self._swap:
                for seen, standing in self._standing.items():
                    reloaded.setdefault(seen, standing)
                self._standing = reloaded
            self._loaded_at = started
        finally:
            self._lock.release()

    def check(self, principal: Principal) -> None:
        """401 unless the principal exists, is active, and holds the role and bureau claimed."""
        standing = self._standing.get((principal.kind, principal.id))
        who = "user" if principal.kind == "user" else "API client"
        if standing is None:
            raise Unauthorized(f"the token names a {who} that does not exist")
        if not standing.active:
            raise Unauthorized(f"the token's {who} has been deactivated")
        if standing.role != principal.role.value or standing.bureau_code != principal.bureau_code:
            raise Unauthorized(
                f"the token's {who} no longer has the role or bureau it claims; sign in again"
            )


def _standings(session: Session, keys: list[Key]) -> dict[Key, Standing]:
    user_ids = [int(id_) for kind, id_ in keys if kind == "user" and id_.isdigit()]
    client_ids = [id_ for kind, id_ in keys if kind == "client"]
    found: dict[Key, Standing] = {}
    for start in range(0, len(user_ids), CHUNK):
        rows = session.execute(
            select(User.id, User.active, User.role, Bureau.country_code)
            .join(Bureau, User.bureau_id == Bureau.id)
            .where(User.id.in_(user_ids[start : start + CHUNK]))
        )
        for user_id, active, role, bureau in rows:
            found["user", str(user_id)] = Standing(active, role, bureau)
    for start in range(0, len(client_ids), CHUNK):
        client_rows = session.execute(
            select(ApiClient.client_id, ApiClient.active, ApiClient.role, Bureau.country_code)
            .join(Bureau, ApiClient.bureau_id == Bureau.id)
            .where(ApiClient.client_id.in_(client_ids[start : start + CHUNK]))
        )
        for client_id, active, role, bureau in client_rows:
            found["client", client_id] = Standing(active, role, bureau)
    return found
