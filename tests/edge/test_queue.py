"""Queries asked on the kit reach the centre's query log once, with their hit cases."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bordercheck.edge import sync
from bordercheck.edge.queue import OfflineQueue
from bordercheck.edge.store import QUEUE, KitDirectory
from bordercheck.hits.models import Hit
from bordercheck.screening.models import ScreeningQuery
from tests.edge.conftest import STOLEN, Centre
from tests.edge.test_kit import Killed, ask, client_of, kill_at, kit_for


def kit_queries(centre: Centre) -> list[ScreeningQuery]:
    with centre.database.session() as session:
        return list(session.scalars(select(ScreeningQuery).where(ScreeningQuery.source == "kit")))


def hit_count(centre: Centre) -> int:
    with centre.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Hit)) or 0)


def test_queued_hits_arrive_at_the_centre_once(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    made = kit_for(centre, kit)
    centre.stop()  # asked offline
    hit = ask(kit, STOLEN[0], location="BORDER-7")
    ask(kit, "Q12345678")
    assert len(OfflineQueue(kit / QUEUE)) == 2
    restarted = Centre(centre.settings.database_url, tmp_path / "cache", centre.port)
    try:
        # The centre stores the entries, then the link goes before the kit hears back.
        with pytest.raises(Killed):
            sync.sync(kit, crash=kill_at("uploaded"))
        assert len(OfflineQueue(kit / QUEUE)) == 2
        assert len(kit_queries(restarted)) == 2
        report = sync.sync(kit)  # sent again: the centre knows them
        assert report.uploaded == 0
        assert len(OfflineQueue(kit / QUEUE)) == 0
        logged = {q.id: q for q in kit_queries(restarted)}
        assert len(logged) == 2
        entry = logged[str(hit["query_id"])]
        assert (entry.result, entry.location, entry.bureau_code) == ("hit", "BORDER-7", "FRA")
        # Logged as the kit's own (operations count a kit's checks by its id).
        assert (entry.principal_kind, entry.principal_name) == ("kit", made.kit_id)
        assert entry.document_number == STOLEN[0]
        assert hit_count(restarted) == 1
    finally:
        restarted.stop()
        restarted.database.dispose()


def test_an_upload_is_idempotent_and_refuses_what_it_cannot_open(
    centre: Centre, tmp_path: Path
) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    ask(kit, STOLEN[1])
    ((entry_id, sealed),) = OfflineQueue(kit / QUEUE).pending(10)
    client = client_of(kit)
    entries = [{"id": entry_id, "sealed": base64.b64encode(sealed).decode()}]
    first = client.upload(entries)
    second = client.upload(entries)
    assert (first["stored"], second["duplicates"]) == ([entry_id], [entry_id])
    assert len(kit_queries(centre)) == 1
    assert hit_count(centre) == 1
    forged = client.upload([{"id": "0" * 32, "sealed": base64.b64encode(b"x" * 80).decode()}])
    assert "0" * 32 in forged["rejected"]
    assert len(kit_queries(centre)) == 1


def test_a_kit_cannot_pass_off_another_kits_entries(centre: Centre, tmp_path: Path) -> None:
    kit, other = tmp_path / "kit", tmp_path / "other"
    kit_for(centre, kit)
    kit_for(centre, other)
    ask(other, STOLEN[2])
    ((entry_id, sealed),) = OfflineQueue(other / QUEUE).pending(10)
    taken = client_of(kit).upload([{"id": entry_id, "sealed": base64.b64encode(sealed).decode()}])
    assert "does not match" in taken["rejected"][entry_id]
    assert kit_queries(centre) == []
    sync.upload_queue(KitDirectory(other), client_of(other))  # its own kit still delivers it
    assert [q.id for q in kit_queries(centre)] == [entry_id]
