"""Queued queries arriving from kits: opened, screened again here, logged once.

A kit does not know record ids (it holds none), so the centre screens each query again with
its own index to find the records, then writes the query log entry (source ``kit``, the
time the officer asked) and opens the hit cases, under the entry's id. The id is noted in
``edge_uploads`` in the same transaction: a second upload of it is skipped.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bordercheck.audit.service import record_event
from bordercheck.edge.models import EdgeKit, EdgeUpload
from bordercheck.edge.signing import EdgeKeys
from bordercheck.errors import BordercheckError
from bordercheck.screening.querylog import LoggedQuery, OnHits, write_entries
from bordercheck.screening.schemas import ScreenRequest
from bordercheck.screening.service import Screened
from bordercheck.timestamps import utcnow

ENTRY_ID = re.compile(r"[0-9a-f]{32}")
SOURCE = "kit"

Screen = Callable[[ScreenRequest], Screened]


class ForeignEntry(ValueError):
    """An entry sealed on another kit, or under another id: refused and not noted, so that
    its own kit can still deliver it."""


@dataclass
class Received:
    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def receive(
    session: Session,
    kit: EdgeKit,
    entries: Sequence[tuple[str, bytes]],
    keys: EdgeKeys,
    screen: Screen,
    on_hits: Sequence[OnHits],
) -> Received:
    received = Received()
    ids = [entry_id for entry_id, _ in entries]
    seen = set(session.scalars(select(EdgeUpload.entry_id).where(EdgeUpload.entry_id.in_(ids))))
    logged: list[LoggedQuery] = []
    foreign: set[str] = set()
    now = utcnow()
    for entry_id, sealed in entries:
        if entry_id in seen:
            received.duplicates.append(entry_id)
            continue
        seen.add(entry_id)
        try:
            logged.append(_screened_again(kit, entry_id, sealed, keys, screen))
            received.stored.append(entry_id)
        except ForeignEntry as exc:
            received.rejected[entry_id] = str(exc)
            foreign.add(entry_id)
        except (ValueError, KeyError, TypeError, ValidationError, BordercheckError) as exc:
            # Kept as received all the same: sending it again would not make it readable.
            received.rejected[entry_id] = str(exc).splitlines()[0] if str(exc) else "unreadable"
    write_entries(session, logged, on_hits=on_hits)
    fresh = [*received.stored, *(i for i in received.rejected if i not in foreign)]
    if fresh:
        session.execute(
            insert(EdgeUpload), [{"entry_id": i, "kit_id": kit.kit_id, "received_at": now}
                                 for i in fresh]
        )  # fmt: skip
        record_event(
            session,
            actor=f"client:{kit.client_id}",
            bureau_code=kit.bureau_code,
            action="edge.upload_received",
            subject=f"kit:{kit.kit_id}",
            details={
                "stored": len(received.stored),
                "rejected": len(received.rejected),
                "duplicates": len(received.duplicates),
                "hits": sum(len(entry.hits) for entry in logged),
            },
        )
    return received


def _screened_again(
    kit: EdgeKit, entry_id: str, sealed: bytes, keys: EdgeKeys, screen: Screen
) -> LoggedQuery:
    data: dict[str, Any] = json.loads(keys.open_sealed(sealed))
    # Sealed entries name their id and kit: one copied from elsewhere is not taken as this
    # kit's.
    if data.get("id") != entry_id or data.get("kit_id") != kit.kit_id:
        raise ForeignEntry("the entry's id or kit does not match its sealed content")
    asked_at = datetime.fromisoformat(data["at"])
    request = ScreenRequest.model_validate(data["request"])
    screened = screen(request)
    entry = screened.logged
    entry.id, entry.at, entry.source = entry_id, asked_at, SOURCE
    entry.hits = tuple(dataclasses.replace(h, query_id=entry_id, at=asked_at) for h in entry.hits)
    return entry
