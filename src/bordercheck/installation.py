"""What this database is: the live system of record, or a training sandbox.

One row (table ``installation``) says so; a database without it is live (every installation
made before sandboxes existed). A sandbox is made by ``bordercheck training sandbox create``,
which writes the row and the sandbox's own settings (``BORDERCHECK_TRAINING_SANDBOX``). Both
sides check each other wherever a database is opened (every command, the app's start): live
settings never run on a sandbox's database, a sandbox's settings only on that sandbox's.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, Integer, String, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bordercheck.db import Base
from bordercheck.errors import ConfigurationError
from bordercheck.timestamps import UtcDateTime, utcnow

Kind = Literal["live", "sandbox"]
SANDBOX_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
SANDBOX_NAME_RULE = "1 to 40 lower-case letters, digits and hyphens, not starting with a hyphen"
# The answers' header and the tokens' claim that name the sandbox.
TRAINING_HEADER = "X-Bordercheck-Training"
TRAINING_CLAIM = "training"


class InstallationRow(Base):
    """The one row saying what this database is (absent: live)."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: one row
    kind: Mapped[str] = mapped_column(String(16))
    sandbox_name: Mapped[str | None] = mapped_column(String(40))
    installation_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True)
class Installation:
    kind: Kind
    sandbox_name: str | None = None
    installation_id: str | None = None
    created_at: datetime | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    def describe(self) -> str:
        return f"training sandbox {self.sandbox_name!r}" if self.is_sandbox else "live"


LIVE = Installation("live")


def check_sandbox_name(name: str) -> str:
    if not SANDBOX_NAME.fullmatch(name):
        raise ConfigurationError(f"sandbox name {name!r} is not valid: {SANDBOX_NAME_RULE}")
    return name


def installation_of(session: Session | Connection) -> Installation:
    """What the database behind ``session`` is (live when it says nothing)."""
    connection = session.connection() if isinstance(session, Session) else session
    if not inspect(connection).has_table(InstallationRow.__tablename__):
        return LIVE
    row = connection.execute(select(InstallationRow.__table__)).first()
    if row is None:
        return LIVE
    return Installation(
        "sandbox" if row.kind == "sandbox" else "live",
        row.sandbox_name,
        row.installation_id,
        row.created_at,
    )


def mark_sandbox(session: Session, name: str) -> Installation:
    """Make the (empty, just migrated) database behind ``session`` the sandbox ``name``."""
    check_sandbox_name(name)
    present = installation_of(session)
    if present != LIVE or session.get(InstallationRow, 1) is not None:
        raise ConfigurationError(f"this database is already marked ({present.describe()})")
    row = InstallationRow(
        id=1,
        kind="sandbox",
        sandbox_name=name,
        installation_id=secrets.token_hex(16),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return Installation("sandbox", name, row.installation_id, row.created_at)


def ensure_matches(found: Installation, sandbox: str | None, where: str) -> None:
    """Refuse settings that are not meant for the database ``found`` at ``where``.

    ``sandbox`` is the settings' BORDERCHECK_TRAINING_SANDBOX (None: live settings).
    """
    if sandbox is None and found.is_sandbox:
        raise ConfigurationError(
            f"the database at {where} is the training sandbox {found.sandbox_name!r}, and these "
            "settings are live ones (no BORDERCHECK_TRAINING_SANDBOX): refusing to start; use "
            "the sandbox's own settings file"
        )
    if sandbox is not None and found.sandbox_name != sandbox:
        what = (
            f"the training sandbox {found.sandbox_name!r}" if found.is_sandbox else "not a sandbox"
        )
        raise ConfigurationError(
            f"BORDERCHECK_TRAINING_SANDBOX is {sandbox!r} but the database at {where} is {what}: "
            "refusing to start (a sandbox never runs on another database)"
        )


def check_database(connection: Connection, sandbox: str | None, where: str) -> Installation:
    """The installation of the database, once it agrees with the settings (else refused)."""
    found = installation_of(connection)
    ensure_matches(found, sandbox, where)
    return found
