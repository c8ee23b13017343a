"""Tables of the edge domain: registered kits, and the ids of queue entries received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class EdgeKit(Base):
    """An offline kit: the API client it signs in as, and its secret (wrapped: see service)."""

    __tablename__ = "edge_kits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kit_id: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.client_id"), index=True)
    bureau_code: Mapped[str] = mapped_column(String(3))
    secret_wrapped: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_sync_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A restore from a backup (`db restore`) renumbers the feed from the backup's end: a kit that
    # synced after the backup holds changes the restored centre never had. Each restore gives
    # every kit a new epoch (its snapshots' file names carry it, so no snapshot cached before is
    # served again) and refuses its bundles until it has taken a new snapshot.
    feed_epoch: Mapped[str | None] = mapped_column(String(16))
    needs_snapshot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class EdgeUpload(Base):
    """A queue entry the centre has received: a second upload of the same id is skipped."""

    __tablename__ = "edge_uploads"

    entry_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kit_id: Mapped[str] = mapped_column(String(40), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
