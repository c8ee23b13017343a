"""The snapshot file: a header, then the index arrays, page-aligned, mapped on load.

Layout: ``BCSCREEN`` magic, format version (u32), header length (u32), header CRC-32 (u32),
the header as JSON (sequence, key fingerprint, confusion graph, directory bits, file size,
and each array's name, dtype, shape, offset and CRC-32), padding to 16 KiB; then each array
at a 4 KiB boundary. Loading maps the file read-only and shared, so worker processes on one
machine share its pages and start without reading it.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

MAGIC: Final = b"BCSCREEN"
VERSION: Final = 2  # 2: skeleton keys over linear sums
HEADER_AREA: Final = 16384
ALIGN: Final = 4096
_PREAMBLE: Final = struct.Struct("<8sIII")
_CRC_BLOCK: Final = 1 << 26


class SnapshotError(ValueError):
    """A file that is not a usable snapshot: another format, another key, truncated, corrupt."""


@dataclass(frozen=True)
class Loaded:
    arrays: dict[str, NDArray[Any]]
    sequence: int
    confusions: str
    directory_bits: int
    presence_bits: int


def write(
    path: Path,
    *,
    arrays: dict[str, NDArray[Any]],
    sequence: int,
    key_fingerprint: bytes,
    confusions: str,
    directory_bits: int,
    presence_bits: int,
) -> None:
    listing: list[dict[str, Any]] = []
    offset = HEADER_AREA
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        arrays[name] = array
        listing.append({
            "name": name, "dtype": array.dtype.str, "shape": list(array.shape),
            "offset": offset, "nbytes": int(array.nbytes), "crc32": _crc(array),
        })  # fmt: skip
        offset = _aligned(offset + int(array.nbytes))
    header = json.dumps({
        "sequence": sequence, "key_fingerprint": key_fingerprint.hex(), "confusions": confusions,
        "directory_bits": directory_bits, "presence_bits": presence_bits, "file_size": offset,
        "arrays": listing,
    }).encode()  # fmt: skip
    if _PREAMBLE.size + len(header) > HEADER_AREA:
        raise ValueError("snapshot header too large")
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        file.write(_PREAMBLE.pack(MAGIC, VERSION, len(header), zlib.crc32(header)) + header)
        for entry, array in zip(listing, arrays.values(), strict=True):
            file.seek(entry["offset"])
            file.write(_bytes(array))
        file.truncate(offset)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def read(path: Path, *, key_fingerprint: bytes, verify: bool) -> Loaded:
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < _PREAMBLE.size:
            raise SnapshotError(f"{path}: {size} bytes is too short for a screening snapshot")
        # The mapping outlives the file object: numpy arrays keep it alive.
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    magic, version, length, crc = _PREAMBLE.unpack_from(mapped)
    if magic != MAGIC:
        raise SnapshotError(f"{path} is not a screening snapshot")
    if version != VERSION:
        raise SnapshotError(f"{path} has format version {version}; this version reads {VERSION}")
    raw = mapped[_PREAMBLE.size : _PREAMBLE.size + length]
    if len(raw) != length or zlib.crc32(raw) != crc:
        raise SnapshotError(f"{path}: the header is truncated or corrupt")
    header = json.loads(raw)
    if header["key_fingerprint"] != key_fingerprint.hex():
        raise SnapshotError(f"{path} was built with another screening key; refusing it")
    if size < header["file_size"]:
        raise SnapshotError(
            f"{path} is truncated: {size} bytes of the {header['file_size']} it should have"
        )
    arrays = {}
    for entry in header["arrays"]:
        dtype = np.dtype(entry["dtype"])
        count = int(np.prod(entry["shape"], dtype=np.int64))
        array = np.frombuffer(mapped, dtype, count, entry["offset"]).reshape(entry["shape"])
        if verify and _crc(array) != entry["crc32"]:
            raise SnapshotError(f"{path} is corrupt: array {entry['name']} fails its checksum")
        arrays[entry["name"]] = array
    return Loaded(
        arrays,
        header["sequence"],
        header["confusions"],
        header["directory_bits"],
        header["presence_bits"],
    )


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def _crc(array: NDArray[Any]) -> int:
    data = _bytes(array)
    crc = 0
    for start in range(0, len(data), _CRC_BLOCK):
        crc = zlib.crc32(data[start : start + _CRC_BLOCK], crc)
    return crc


def _bytes(array: NDArray[Any]) -> memoryview:
    """An array's bytes, without a copy when it is contiguous (empty ones too)."""
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8).data
