"""Tables of the console: the sessions of people signed in with a browser."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class ConsoleSession(Base):
    """A browser's session: the cookie carries a random token, the table only its hash.

    Kept in the database, not in a signed cookie, so that signing out, a deactivation or a
    password change ends it at once on every node.
    """

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Every form and htmx request carries it back (the double of the session, which a page
    # of another site cannot read).
    csrf_token: Mapped[str] = mapped_column(String(64))
    # False between the password and the second factor: such a session opens no page.
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    address: Mapped[str] = mapped_column(String(64))
