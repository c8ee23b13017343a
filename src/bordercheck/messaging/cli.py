"""``bordercheck messages …``: master key rotation."""

from __future__ import annotations

import base64

import typer

from bordercheck.audit.service import command_line_actor
from bordercheck.console import new_app, out, state
from bordercheck.messaging import rotation
from bordercheck.messaging.crypto import MessageCrypto

app = new_app("Messages between bureaus: their encryption and signing keys.")


@app.command("rewrap")
def rewrap(ctx: typer.Context) -> None:
    """Re-wrap every message's data key under the current key (the first of
    BORDERCHECK_MESSAGE_KEYS); bodies and attachments are not touched."""
    cli = state(ctx)
    crypto = MessageCrypto.from_settings(cli.settings)
    with cli.database.session(write=True) as session:
        done = rotation.rewrap(session, crypto, actor=command_line_actor())
    current = crypto.envelopes.current_id
    if not done:
        out.print(f"every data key is already wrapped by {current!r}")
        return
    for key_id, count in sorted(done.items()):
        out.print(f"re-wrapped {count:,} data keys from {key_id!r} to {current!r}")
    out.print(f"no data key needs {', '.join(repr(k) for k in sorted(done))} any more")


@app.command("keys")
def keys(ctx: typer.Context) -> None:
    """How many data keys each master key wraps, and the signing keys' public halves."""
    cli = state(ctx)
    crypto = MessageCrypto.from_settings(cli.settings)
    with cli.database.session() as session:
        used = rotation.keys_in_use(session)
    current = crypto.envelopes.current_id
    for key_id in sorted(set(used) | {current}):
        mark = " (current)" if key_id == current else ""
        out.print(f"message key {key_id}{mark}: wraps {used.get(key_id, 0):,} data keys")
    for key_id, public in crypto.signer.public_keys().items():
        mark = " (current)" if key_id == crypto.signer.current_id else ""
        out.print(f"signing key {key_id}{mark}: public key {base64.b64encode(public).decode()}")
