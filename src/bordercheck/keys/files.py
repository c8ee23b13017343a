"""Settings files holding an installation's keys: generated fresh, written private (0600)."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bordercheck.timestamps import utcnow

# The settings each installation needs a key of its own for, in the order they are written.
KEY_SETTINGS = (
    "BORDERCHECK_SECRET_KEY",
    "BORDERCHECK_MESSAGE_KEYS",
    "BORDERCHECK_MESSAGE_SIGNING_KEYS",
    "BORDERCHECK_AUDIT_SIGNING_KEY",
)
# The first line of a file the demo wrote: the demo may replace such a file, never another.
DEMO_MARK = "# bordercheck demo settings"
PRIVATE = 0o600


def generate_keys(now: datetime | None = None) -> dict[str, str]:
    """Fresh keys for every setting of ``KEY_SETTINGS``, as the settings file spells them."""
    # Message keys are named by the day they were made, so a later rotation adds a new name.
    key_id = f"k{(now or utcnow()):%Y%m%d}"
    return {
        "BORDERCHECK_SECRET_KEY": secrets.token_urlsafe(48),
        "BORDERCHECK_MESSAGE_KEYS": f"{key_id}:{_text(secrets.token_bytes(32))}",
        "BORDERCHECK_MESSAGE_SIGNING_KEYS": f"{key_id}:{_text(_ed25519_seed())}",
        "BORDERCHECK_AUDIT_SIGNING_KEY": base64.b64encode(_ed25519_seed()).decode(),
    }


def _ed25519_seed() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes_raw()


def _text(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def as_settings(values: dict[str, str]) -> dict[str, str]:
    """``BORDERCHECK_SECRET_KEY`` → ``secret_key``: the names ``Settings`` takes."""
    return {name.removeprefix("BORDERCHECK_").lower(): value for name, value in values.items()}


def settings_names(path: Path) -> set[str]:
    """The settings a file sets (its ``NAME=value`` lines)."""
    names = set()
    for line in path.read_text().splitlines():
        name, equals, _ = line.strip().removeprefix("export ").partition("=")
        if equals and not name.startswith("#"):
            names.add(name.strip())
    return names


def written_by_demo(path: Path) -> bool:
    with path.open() as file:
        return file.readline().startswith(DEMO_MARK)


def write_settings(path: Path, values: dict[str, str], *, header: str, replace: bool) -> None:
    """Write ``values`` as ``NAME=value`` lines to a file only its owner can read.

    ``replace=False`` adds to an existing file (whose keys the caller has checked), keeping
    what it says; the file is private either way.
    """
    lines = [f"{name}={value}\n" for name, value in values.items()]
    if replace:
        path.unlink(missing_ok=True)
    existed = path.exists()
    # Created private, never readable by others even for an instant.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
    with os.fdopen(descriptor, "a") as file:
        os.fchmod(file.fileno(), PRIVATE)
        if not existed:
            file.write(header + "\n")
        elif not path.read_text().endswith("\n") and path.stat().st_size:
            file.write("\n")
        file.writelines(lines)
