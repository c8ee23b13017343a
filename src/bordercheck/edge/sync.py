"""Setting a kit up and bringing it up to date: snapshot, change bundles, the queue.

Each step that changes the kit writes new files and commits with ``KitDirectory.commit``
(one rename), so stopping anywhere leaves the previous state whole. ``crash`` is called at
the named points between steps; tests pass one that raises, to stop a sync there as a
killed process or a cut link would.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bordercheck.edge.client import Centre, CentreRefused
from bordercheck.edge.queue import OfflineQueue
from bordercheck.edge.rows import ROW
from bordercheck.edge.signed import SIGNATURE_BYTES, Refused, read_header
from bordercheck.edge.store import (
    QUEUE,
    KitConfig,
    KitDirectory,
    KitSecret,
    KitState,
    LoadedKit,
    check_hashes,
    check_snapshot,
    merged_delta,
)
from bordercheck.errors import BordercheckError

Crash = Callable[[str], None]
UPLOAD_BATCH = 500


def no_crash(_point: str) -> None:
    """Production's failure points: none."""


@dataclass(frozen=True)
class Initialised:
    kit_id: str
    sequence: int
    local_token: str


@dataclass
class Synced:
    uploaded: int = 0
    bundles: int = 0
    changed_rows: int = 0
    snapshot: bool = False
    sequence: int = 0


def init(
    directory: Path, server: str, client_id: str, client_secret: str, *, crash: Crash = no_crash
) -> Initialised:
    kit = KitDirectory(directory)
    if kit.initialised:
        raise BordercheckError(f"{directory} is a kit already: run `bordercheck edge sync`")
    centre = Centre(server, client_id, client_secret)
    registered = centre.register()
    local_token = secrets.token_urlsafe(32)
    config = KitConfig(
        server=server.rstrip("/"),
        client_id=client_id,
        kit_id=registered["kit_id"],
        bureau=registered["bureau"],
        signing_key=bytes.fromhex(registered["signing_key"]),
        sealing_key=bytes.fromhex(registered["sealing_key"]),
        local_token_sha256=hashlib.sha256(local_token.encode()).hexdigest(),
        training=registered.get("training"),
    )
    kit.save_config(config, KitSecret(client_secret, bytes.fromhex(registered["kit_secret"])))
    OfflineQueue(directory / QUEUE)
    centre.kit_id, centre.training = config.kit_id, config.training
    state = fetch_snapshot(kit, config, centre, crash)
    return Initialised(config.kit_id, state.sequence, local_token)


def fetch_snapshot(kit: KitDirectory, config: KitConfig, centre: Centre, crash: Crash) -> KitState:
    offer = centre.prepare_snapshot()
    sequence = int(offer["sequence"])
    part = kit.path / f"download-{config.kit_id}-{sequence}.part"
    centre.download(offer["url"], part, int(offer["bytes"]))
    crash("downloaded")
    with open(part, "rb") as file:
        header, offset = read_header(file, public_key=config.signing_key, what="snapshot")
    check_snapshot(header, config.kit_id, part.stat().st_size - offset)
    if header["sequence"] != sequence:
        raise Refused(f"the snapshot is at sequence {header['sequence']}, not {sequence}")
    name = f"snapshot-{sequence}-{secrets.token_hex(4)}.bin"
    os.replace(part, kit.path / name)
    crash("before-commit")
    state = KitState(sequence, name, None, _issued(header), datetime.now(UTC))
    kit.commit(state)
    return state


def _issued(header: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(header["issued_at"])


def upload_queue(kit: KitDirectory, centre: Centre, crash: Crash = no_crash) -> int:
    """Send what the queue holds; entries leave it only once the centre has them."""
    queue = OfflineQueue(kit.path / QUEUE)
    sent = 0
    while batch := queue.pending(UPLOAD_BATCH):
        answer = centre.upload(
            [{"id": i, "sealed": base64.b64encode(sealed).decode()} for i, sealed in batch]
        )
        crash("uploaded")
        done = [*answer["stored"], *answer["duplicates"], *answer["rejected"]]
        queue.delete(done)
        sent += len(answer["stored"])
        if not done:
            break
    return sent


def apply_bundle(loaded: LoadedKit, data: bytes, crash: Crash = no_crash) -> tuple[int, int]:
    """Check and apply one bundle, committing the new state: (rows changed, the feed's end)."""
    config, state = loaded.config, loaded.state
    header, offset = read_header(data, public_key=config.signing_key, what="change bundle")
    if header.get("kind") != "bundle":
        raise Refused(f"a {header.get('kind')!r} was sent where a change bundle was expected")
    if header.get("kit_id") != config.kit_id:
        raise Refused(f"the bundle was made for kit {header.get('kit_id')}, not {config.kit_id}")
    check_hashes(header, "bundle")
    start, end = int(header["from_sequence"]), int(header["sequence"])
    if start != state.sequence or end < start:
        raise Refused(
            f"the bundle covers sequence {start} to {end} but this kit is at {state.sequence}: "
            "it does not follow on; refusing it"
        )
    removes_count, adds_count = int(header["removes"]), int(header["adds"])
    body = ROW.itemsize * (removes_count + adds_count) + 8 * adds_count
    if offset + body + SIGNATURE_BYTES != len(data):
        raise Refused("the bundle's length does not match its header")
    removes = np.frombuffer(data, ROW, removes_count, offset)
    offset += ROW.itemsize * removes_count
    adds = np.frombuffer(data, ROW, adds_count, offset)
    coarse = np.frombuffer(data, np.uint64, adds_count, offset + ROW.itemsize * adds_count)
    delta, name = loaded.delta, state.delta
    if removes_count or adds_count:
        delta = merged_delta(loaded.snapshot, loaded.delta, removes, adds, coarse)
        name = f"delta-{end}-{secrets.token_hex(4)}.bin"
        loaded.directory.write_delta(name, delta)
    crash("delta-written")
    new_state = KitState(end, state.snapshot, name, _issued(header), datetime.now(UTC))
    loaded.directory.commit(new_state)
    crash("committed")
    loaded.state, loaded.delta = new_state, delta
    return removes_count + adds_count, int(header["latest_sequence"])


def needs_snapshot(loaded: LoadedKit) -> bool:
    """Past this many changes a fresh snapshot is cheaper to hold than a long delta."""
    changed = len(loaded.delta.removed) + len(loaded.delta.added)
    return changed > max(100_000, loaded.snapshot.rows // 4)


def sync(directory: Path, *, snapshot: bool = False, crash: Crash = no_crash) -> Synced:
    kit = KitDirectory(directory)
    config, secret = kit.config(), kit.secret()
    centre = Centre(
        config.server,
        config.client_id,
        secret.client_secret,
        kit_id=config.kit_id,
        training=config.training,
    )
    report = Synced()
    report.uploaded = upload_queue(kit, centre, crash)
    loaded = None if snapshot else kit.load()
    while True:
        if loaded is None or needs_snapshot(loaded):
            fetch_snapshot(kit, config, centre, crash)
            report.snapshot = True
            loaded = kit.load()
        try:
            data = centre.changes(loaded.state.sequence)
        except CentreRefused as refused:
            # The centre's feed no longer continues the kit's (it was restored from a backup,
            # or is behind the kit): what the kit holds is replaced by a new snapshot, once.
            if refused.status != 409 or report.snapshot:
                raise
            loaded = None
            continue
        crash("bundle-downloaded")
        changed, latest = apply_bundle(loaded, data, crash)
        report.changed_rows += changed
        report.bundles += 1
        if loaded.state.sequence >= latest:
            break
    report.sequence = loaded.state.sequence
    return report
