"""A kit's directory: its settings, its secret, its data, and the one file that commits.

Files: ``kit.json`` (centre, ids, pinned public keys), ``secret.json`` (client secret and
kit secret, mode 0600), ``snapshot-SEQ.bin`` (as the centre signed it), ``delta-SEQ.bin``
(rows removed from and added to the snapshot since, written here), ``queue.db`` (queries
waiting for the centre) and ``state.json``, which names the snapshot and delta in use.

Every sync writes new files beside the old ones and then replaces ``state.json`` in one
rename: a sync cut off at any point leaves ``state.json`` naming the previous, complete
files, and the next sync starts again from its sequence number.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.edge.kitindex import KitSource, SealedView
from bordercheck.edge.rows import ROW, KitKeys, Rows, coarse_bits, coarse_table, sort_rows
from bordercheck.edge.signed import SIGNATURE_BYTES, Refused, read_header
from bordercheck.errors import BordercheckError
from bordercheck.screening.keys import HASHES

CONFIG: Final = "kit.json"
SECRET: Final = "secret.json"  # noqa: S105 (a file name)
STATE: Final = "state.json"
QUEUE: Final = "queue.db"
_DELTA_MAGIC: Final = b"BCDELTA1"
_COUNTS: Final = struct.Struct("<QQQ")


class KitMissing(BordercheckError):
    """The directory is not an initialised kit (or a file of it is unreadable)."""

    code = "no_kit"


@dataclass(frozen=True)
class KitConfig:
    server: str
    client_id: str
    kit_id: str
    bureau: str
    signing_key: bytes
    sealing_key: bytes
    local_token_sha256: str
    # The training sandbox the kit belongs to (None: live), sent with every call to the centre.
    training: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = {
            "server": self.server, "client_id": self.client_id, "kit_id": self.kit_id,
            "bureau": self.bureau, "signing_key": self.signing_key.hex(),
            "sealing_key": self.sealing_key.hex(), "local_token_sha256": self.local_token_sha256,
        }  # fmt: skip
        if self.training is not None:
            data["training"] = self.training
        return data

    @classmethod
    def of(cls, data: dict[str, Any]) -> KitConfig:
        return cls(
            data["server"], data["client_id"], data["kit_id"], data["bureau"],
            bytes.fromhex(data["signing_key"]), bytes.fromhex(data["sealing_key"]),
            data["local_token_sha256"], data.get("training"),
        )  # fmt: skip


@dataclass(frozen=True)
class KitSecret:
    client_secret: str
    kit_secret: bytes


@dataclass(frozen=True)
class KitState:
    sequence: int
    snapshot: str
    delta: str | None
    data_as_of: datetime  # when the centre issued what the kit holds
    synced_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence, "snapshot": self.snapshot, "delta": self.delta,
            "data_as_of": self.data_as_of.isoformat(), "synced_at": self.synced_at.isoformat(),
        }  # fmt: skip


@dataclass
class Delta:
    """Rows of the snapshot removed since (by row), rows added since (sorted), and the coarse
    keys of the rows added (for the coarse filter; a removal leaves its bits set)."""

    removed: frozenset[int]
    added: Rows
    coarse: NDArray[np.uint64]


def write_atomically(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class KitDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _json(self, name: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.path / name).read_text())
        except FileNotFoundError:
            raise KitMissing(
                f"{self.path} is not a kit: run `bordercheck edge init --dir {self.path}` first"
            ) from None
        except (OSError, ValueError) as exc:
            raise KitMissing(f"{self.path / name} cannot be read: {exc}") from None
        return data

    def config(self) -> KitConfig:
        return KitConfig.of(self._json(CONFIG))

    def secret(self) -> KitSecret:
        data = self._json(SECRET)
        return KitSecret(data["client_secret"], bytes.fromhex(data["kit_secret"]))

    def state(self) -> KitState:
        data = self._json(STATE)
        return KitState(
            data["sequence"], data["snapshot"], data["delta"],
            datetime.fromisoformat(data["data_as_of"]), datetime.fromisoformat(data["synced_at"]),
        )  # fmt: skip

    @property
    def initialised(self) -> bool:
        return (self.path / STATE).exists()

    def save_config(self, config: KitConfig, secret: KitSecret) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret_json = {"client_secret": secret.client_secret, "kit_secret": secret.kit_secret.hex()}
        write_atomically(self.path / SECRET, json.dumps(secret_json).encode(), mode=0o600)
        write_atomically(self.path / CONFIG, json.dumps(config.as_json(), indent=1).encode())

    def commit(self, state: KitState) -> None:
        """The commit point of a sync: one rename, then old files are tidied away."""
        write_atomically(self.path / STATE, json.dumps(state.as_json(), indent=1).encode())
        keep = {STATE, CONFIG, SECRET, QUEUE, state.snapshot, state.delta}
        for path in self.path.iterdir():
            if path.name not in keep and not path.name.startswith(QUEUE):
                path.unlink(missing_ok=True)

    # Data -------------------------------------------------------------------------------

    def snapshot_rows(self, name: str, config: KitConfig) -> tuple[Rows, NDArray[np.uint8]]:
        """The snapshot's rows (mapped) and coarse filter, once its signature is checked."""
        path = self.path / name
        with open(path, "rb") as file:
            header, offset = read_header(
                file, public_key=config.signing_key, what=f"snapshot {name}"
            )
        count, coarse = check_snapshot(header, config.kit_id, path.stat().st_size - offset)
        rows = np.memmap(path, ROW, "r", offset, (count,))
        table = np.fromfile(path, np.uint8, coarse, offset=offset + ROW.itemsize * count)
        return rows, table

    def read_delta(self, name: str | None) -> Delta:
        if name is None:
            return Delta(frozenset(), np.zeros(0, ROW), np.zeros(0, np.uint64))
        data = (self.path / name).read_bytes()
        body, crc = data[:-4], struct.unpack("<I", data[-4:])[0]
        if data[:8] != _DELTA_MAGIC or zlib.crc32(body) != crc:
            raise KitMissing(f"{self.path / name} is damaged; run `edge sync --snapshot`")
        removed_count, added_count, coarse_count = _COUNTS.unpack_from(body, 8)
        start = 8 + _COUNTS.size
        removed = np.frombuffer(body, np.uint32, removed_count, start)
        start += 4 * removed_count
        added = np.frombuffer(body, ROW, added_count, start)
        start += ROW.itemsize * added_count
        coarse = np.frombuffer(body, np.uint64, coarse_count, start)
        return Delta(frozenset(removed.tolist()), added, coarse)

    def write_delta(self, name: str, delta: Delta) -> None:
        removed = np.array(sorted(delta.removed), np.uint32)
        body = (
            _DELTA_MAGIC
            + _COUNTS.pack(len(removed), len(delta.added), len(delta.coarse))
            + removed.tobytes()
            + np.ascontiguousarray(delta.added).tobytes()
            + np.ascontiguousarray(delta.coarse, np.uint64).tobytes()
        )
        write_atomically(self.path / name, body + struct.pack("<I", zlib.crc32(body)))

    def load(self, previous: LoadedKit | None = None) -> LoadedKit:
        """The committed state; the snapshot of ``previous`` is reused if it is still the one
        in use (checked and indexed once, not at every sync)."""
        config, secret, state = self.config(), self.secret(), self.state()
        delta = self.read_delta(state.delta)
        if previous is not None and previous.state.snapshot == state.snapshot:
            p = previous
            return LoadedKit(self, config, p.keys, state, p.rows, p.coarse, p.snapshot, delta)
        keys = KitKeys(secret.kit_secret)
        rows, coarse = self.snapshot_rows(state.snapshot, config)
        snapshot = SealedView.of(rows, keys, coarse)
        return LoadedKit(self, config, keys, state, rows, coarse, snapshot, delta)


def check_snapshot(header: dict[str, Any], kit_id: str, body: int) -> tuple[int, int]:
    """(rows, coarse filter bytes) of a snapshot whose signature is checked; ``body``: its
    bytes after the header."""
    if header.get("kind") != "snapshot":
        raise Refused(f"a {header.get('kind')!r} was sent where a snapshot was expected")
    if header.get("kit_id") != kit_id:
        raise Refused(f"the snapshot was made for kit {header.get('kit_id')}, not {kit_id}")
    check_hashes(header, "snapshot")
    count, coarse = int(header["rows"]), int(header["coarse_bytes"])
    if ROW.itemsize * count + coarse + SIGNATURE_BYTES != body:
        raise Refused("the snapshot's length does not match its header")
    return count, coarse


def check_hashes(header: dict[str, Any], kind: str) -> None:
    """Refuse a snapshot or bundle hashed otherwise than this software screens."""
    if header.get("hashes", 1) != HASHES:
        raise Refused(
            f"the {kind} was made with hashing version {header.get('hashes', 1)} and this kit"
            f" reads version {HASHES}: install the same bordercheck release as the centre"
        )


@dataclass
class LoadedKit:
    """A kit's current state in memory: configuration, keys, and what screening reads."""

    directory: KitDirectory
    config: KitConfig
    keys: KitKeys
    state: KitState
    rows: Rows  # the snapshot's, mapped
    coarse: NDArray[np.uint8]  # the snapshot's coarse filter
    snapshot: SealedView
    delta: Delta

    def source(self) -> KitSource:
        """What screening reads: the snapshot's rows less the removed, and the added rows."""
        added = self.delta.added
        coarse = (
            coarse_table(self.delta.coarse, coarse_bits(len(added)), self.keys.scheme)
            if len(self.coarse)
            else self.coarse
        )
        return KitSource(
            self.snapshot.without(self.delta.removed),
            SealedView.of(added, self.keys, coarse, offset=self.snapshot.rows),
            sequence=self.state.sequence,
            data_as_of=self.state.data_as_of,
        )

    def age_seconds(self, now: datetime | None = None) -> float:
        return max(((now or datetime.now(UTC)) - self.state.data_as_of).total_seconds(), 0.0)


def merged_delta(
    snapshot: SealedView, delta: Delta, removes: Rows, adds: Rows, coarse: NDArray[np.uint64]
) -> Delta:
    """The delta after a bundle: each removal takes one row (added since, else snapshot)."""
    added = [bytes(row) for row in np.ascontiguousarray(delta.added).view(f"V{ROW.itemsize}")]
    waiting: dict[bytes, list[int]] = {}
    for i, row in enumerate(added):
        waiting.setdefault(row, []).append(i)
    dropped: set[int] = set()
    removed = set(delta.removed)
    skeletons = snapshot.base.skeletons
    fingerprints, sealed = snapshot.base.fingerprints.data, snapshot.payloads.reshape(-1).data
    keys = removes["skeleton"].tolist()
    places = np.searchsorted(skeletons, removes["skeleton"]).tolist()
    prints = removes["fingerprint"].tolist()
    payloads = [bytes(p) for p in np.ascontiguousarray(removes["payload"])]
    raw = [bytes(r) for r in np.ascontiguousarray(removes).view(f"V{ROW.itemsize}")]
    keys_view = skeletons.data
    for key, place, fp, payload, row in zip(keys, places, prints, payloads, raw, strict=True):
        pending = waiting.get(row)
        if pending:
            dropped.add(pending.pop())
            continue
        at = place
        while at < len(skeletons) and keys_view[at] == key:
            if (
                at not in removed
                and fingerprints[at] == fp
                and bytes(sealed[3 * at : 3 * at + 3]) == payload
            ):
                removed.add(at)
                break
            at += 1
        else:
            raise Refused(
                "the bundle removes a record this kit does not hold: its data has diverged "
                "from the centre's; run `bordercheck edge sync --snapshot`"
            )
    kept = np.ascontiguousarray(delta.added)[
        np.setdiff1d(np.arange(len(added)), np.fromiter(dropped, np.intp, len(dropped)))
    ]
    return Delta(
        frozenset(removed),
        sort_rows(np.concatenate([kept, adds])),
        np.concatenate([delta.coarse, coarse]),
    )
