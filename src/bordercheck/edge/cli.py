"""``bordercheck edge …``: the deployment's edge keys and kits (centre), and the kit itself."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Column, Table

from bordercheck.audit.service import command_line_actor
from bordercheck.console import new_app, out, state
from bordercheck.edge import service, signing
from bordercheck.edge.queue import OfflineQueue
from bordercheck.edge.screener import KitScreener
from bordercheck.edge.store import QUEUE, KitDirectory
from bordercheck.edge.sync import init as init_kit
from bordercheck.edge.sync import sync as sync_kit
from bordercheck.errors import BordercheckError, FieldError, ValidationFailed
from bordercheck.screening.schemas import ScreenRequest

app = new_app("Offline border kits: the centre's keys and kits, and the kit's own commands.")
kits_app = new_app("Kits registered with this centre.")
app.add_typer(kits_app, name="kits")

DirOption = Annotated[Path, typer.Option("--dir", help="The kit's directory.")]


# Centre ---------------------------------------------------------------------------------


@app.command("keygen")
def keygen(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(help="Key file to create (default: BORDERCHECK_EDGE_SIGNING_KEY)."),
    ] = None,
) -> None:
    """Create the deployment's edge key pair (signing and sealing); never overwrites one."""
    path = output or state(ctx).keyless_settings.edge_signing_key
    if path is None:
        raise BordercheckError("name the key file: --output PATH or BORDERCHECK_EDGE_SIGNING_KEY")
    if path.exists():
        raise BordercheckError(f"{path} exists already; kits pinned its public key")
    keys = signing.generate()
    signing.write_key_file(path, keys)
    out.print(f"edge keys written to {path} (mode 0600)")
    out.print(f"signing key fingerprint: {signing.fingerprint(keys.public_signing)}")


@kits_app.command("list")
def list_kits(ctx: typer.Context) -> None:
    """List the kits: client, bureau, last sync, revoked or not."""
    with state(ctx).database.session() as session:
        # Ids are what people copy into `edge kits revoke`: never shortened.
        kit_column = Column("kit", no_wrap=True, min_width=24)
        client_column = Column("client", no_wrap=True, min_width=24)
        table = Table(kit_column, client_column, "bureau", "registered", "last sync", "sequence",
                      "revoked")  # fmt: skip
        for kit in service.list_kits(session):
            table.add_row(
                kit.kit_id, kit.client_id, kit.bureau_code, f"{kit.registered_at:%Y-%m-%d %H:%M}",
                f"{kit.last_sync_at:%Y-%m-%d %H:%M}" if kit.last_sync_at else "never",
                str(kit.last_sync_seq or ""),
                f"{kit.revoked_at:%Y-%m-%d %H:%M}" if kit.revoked_at else "",
            )  # fmt: skip
    out.print(table)


@kits_app.command("revoke")
def revoke_kit(
    ctx: typer.Context, kit_id: Annotated[str, typer.Argument(help="The kit's id (kit_…).")]
) -> None:
    """Revoke a kit (lost, stolen, retired): the centre sends it nothing more."""
    with state(ctx).database.session(write=True) as session:
        kit = service.revoke_kit(session, kit_id, command_line_actor())
        out.print(f"kit {kit.kit_id} revoked on {kit.revoked_at:%Y-%m-%d %H:%M} UTC")


# The kit --------------------------------------------------------------------------------


@app.command("init")
def init(
    server: Annotated[str, typer.Option(help="The centre's address, https://….")],
    client_id: Annotated[str, typer.Option(help="The kit's API client id.")],
    directory: DirOption,
    client_secret_stdin: Annotated[
        bool, typer.Option("--client-secret-stdin", help="Read the client secret from stdin.")
    ] = False,
) -> None:
    """Register this kit with the centre and download its first snapshot."""
    if client_secret_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = typer.prompt("client secret", hide_input=True)
    done = init_kit(directory, server, client_id, secret)
    out.print(f"kit {done.kit_id} ready at sequence {done.sequence:,} in {directory}")
    # Shown this once; border systems on the post's network send it to `edge serve`.
    typer.echo(f"local_token: {done.local_token}")


@app.command("sync")
def sync(
    directory: DirOption,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="Download a whole new snapshot.")
    ] = False,
) -> None:
    """Send the queued queries, then bring the kit up to the centre's latest changes."""
    report = sync_kit(directory, snapshot=snapshot)
    out.print(
        f"sequence {report.sequence:,}: {report.uploaded:,} queued queries delivered, "
        f"{report.changed_rows:,} rows changed in {report.bundles} bundle(s)"
        + (", new snapshot" if report.snapshot else "")
    )


def _request(**fields: Any) -> ScreenRequest:
    try:
        return ScreenRequest(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise ValidationFailed(
            errors=[
                FieldError(
                    ".".join(str(p) for p in e["loc"]) or "query",
                    e["msg"].removeprefix("Value error, "),
                )
                for e in exc.errors(include_url=False)
            ]
        ) from None


@app.command("check")
def check(
    ctx: typer.Context,
    directory: DirOption,
    number: Annotated[str | None, typer.Option(help="Document number.")] = None,
    country: Annotated[str | None, typer.Option(help="Issuing country.")] = None,
    document_type: Annotated[
        str | None, typer.Option("--type", help="Document type or family.")
    ] = None,
    mrz: Annotated[str | None, typer.Option(help="The MRZ, lines separated by newlines.")] = None,
    location: Annotated[str | None, typer.Option(help="Border post code.")] = None,
) -> None:
    """Screen one document on the kit; prints the same JSON as POST /screen."""
    request = _request(
        document_number=number, issuing_country=country, document_type=document_type,
        mrz=mrz, location=location,
    )  # fmt: skip
    screener = KitScreener(directory, max_age_hours=state(ctx).keyless_settings.edge_max_age_hours)
    answer = screener.screen([request], f"cli:{_user()}")[0]
    typer.echo(json.dumps(answer, indent=1))


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@app.command("serve")
def serve(
    ctx: typer.Context,
    directory: DirOption,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8700,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Answer POST /api/v1/screen and /screen/batch from the kit, as the centre does."""
    import uvicorn

    from bordercheck.edge.local import create_kit_app

    app_ = create_kit_app(directory, max_age_hours=state(ctx).keyless_settings.edge_max_age_hours)
    uvicorn.run(app_, host=host, port=port, access_log=False, log_level="warning")


@app.command("status")
def status(ctx: typer.Context, directory: DirOption) -> None:
    """The kit's sequence number, age of its data, queued queries, records held."""
    kit = KitDirectory(directory)
    loaded = kit.load()
    age = loaded.age_seconds(datetime.now(UTC))
    limit = state(ctx).keyless_settings.edge_max_age_hours
    source = loaded.source()
    typer.echo(json.dumps({
        "kit_id": loaded.config.kit_id, "server": loaded.config.server,
        "bureau": loaded.config.bureau, "sequence": loaded.state.sequence,
        "data_as_of": loaded.state.data_as_of.isoformat(),
        "last_sync": loaded.state.synced_at.isoformat(), "age_hours": round(age / 3600, 2),
        "stale": age > limit * 3600, "queued": len(OfflineQueue(directory / QUEUE)),
        "records": source.size,
        "signing_key_fingerprint": signing.fingerprint(loaded.config.signing_key),
    }, indent=1))  # fmt: skip
