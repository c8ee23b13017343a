"""``bordercheck bureaus …``, ``bordercheck partners …``, ``bordercheck users …`` and
``bordercheck clients …``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Column, Table

from bordercheck.audit.service import command_line_actor
from bordercheck.auth import service
from bordercheck.auth.models import Role
from bordercheck.console import new_app, out, state
from bordercheck.documents.countries import country_name

bureaus_app = new_app("National bureaus: one per country, plus the central secretariat.")
partners_app = new_app(
    "Partner organisations (agencies, Europol, IOM…) invited to operations, and nothing else."
)
users_app = new_app("People who sign in to bordercheck.")
clients_app = new_app("Machines (border systems, edge kits) that sign in with a client secret.")


@bureaus_app.command("add")
def add_bureau(
    ctx: typer.Context,
    country: Annotated[str, typer.Argument(help="The country the bureau speaks for.")],
    name: Annotated[str | None, typer.Option(help="The bureau's name.")] = None,
) -> None:
    """Add a country's national bureau."""
    with state(ctx).database.session(write=True) as session:
        bureau = service.add_bureau(
            session, country, name or f"NCB {country_name(country)}", actor=command_line_actor()
        )
        out.print(f"bureau {bureau.country_code} added: {bureau.name}")


@bureaus_app.command("list")
def list_bureaus(ctx: typer.Context) -> None:
    """List the bureaus."""
    with state(ctx).database.session() as session:
        bureaus = service.list_bureaus(session)
    table = Table("country", "name", "secretariat")
    for bureau in bureaus:
        table.add_row(bureau.country_code, bureau.name, "yes" if bureau.is_secretariat else "")
    out.print(table)


@partners_app.command("add")
def add_partner(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Three letters that are no country's code.")],
    name: Annotated[str, typer.Option(help="The organisation's name.")],
) -> None:
    """Add a partner organisation. Its accounts: `users add NAME --bureau CODE --role partner`;
    invite it with `operations invite ID CODE`."""
    with state(ctx).database.session(write=True) as session:
        partner = service.add_partner(session, code, name, actor=command_line_actor())
        out.print(f"partner organisation {partner.country_code} added: {partner.name}")


@partners_app.command("list")
def list_partners(ctx: typer.Context) -> None:
    """List the partner organisations."""
    with state(ctx).database.session() as session:
        partners = service.list_partners(session)
    table = Table("code", "name")
    for partner in partners:
        table.add_row(partner.country_code, partner.name)
    out.print(table)


@users_app.command("add")
def add_user(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    bureau: Annotated[
        str,
        typer.Option(help="The bureau's country (for --role partner: the organisation's code)."),
    ],
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user. The password is read from standard input or asked for, never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with state(ctx).database.session(write=True) as session:
        user = service.add_user(
            session,
            username,
            bureau=bureau,
            role=role,
            password=password,
            actor=command_line_actor(),
        )
        out.print(f"user {user.username} added ({user.role}, {user.bureau.country_code})")


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List the users."""
    with state(ctx).database.session() as session:
        table = Table("username", "role", "bureau", "active", "created")
        for user in service.list_users(session):
            table.add_row(
                user.username,
                user.role,
                user.bureau.country_code,
                "yes" if user.active else "no",
                f"{user.created_at:%Y-%m-%d}",
            )
    out.print(table)


@users_app.command("deactivate")
def deactivate_user(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The user's sign-in name.")]
) -> None:
    """Stop a user signing in; the tokens they hold stop working within seconds."""
    with state(ctx).database.session(write=True) as session:
        user = service.deactivate_user(session, username, actor=command_line_actor())
        out.print(f"user {user.username} deactivated")


@users_app.command("reactivate")
def reactivate_user(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The user's sign-in name.")]
) -> None:
    """Let a deactivated user sign in again; tokens from before stay refused."""
    with state(ctx).database.session(write=True) as session:
        user = service.reactivate_user(session, username, actor=command_line_actor())
        out.print(f"user {user.username} reactivated")


@users_app.command("set-password")
def set_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    temporary: Annotated[
        bool,
        typer.Option(
            "--temporary", help="The user must choose a new password at their next sign-in."
        ),
    ] = False,
) -> None:
    """Set a user's password; the tokens they hold stop working within seconds."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with state(ctx).database.session(write=True) as session:
        user, _revoked_at = service.set_password(
            session, username, password, temporary=temporary, actor=command_line_actor()
        )
        then = " (to be changed at the next sign-in)" if temporary else ""
        out.print(f"password of {user.username} set{then}")


@clients_app.command("add")
def add_client(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the client is, e.g. 'FRA airport gates'.")],
    bureau: Annotated[str, typer.Option(help="The bureau's country.")],
    role: Annotated[Role, typer.Option(help="What the client may do.")],
) -> None:
    """Add an API client; print its id and its secret (shown this once, stored hashed)."""
    with state(ctx).database.session(write=True) as session:
        client, secret = service.add_client(
            session, name, bureau=bureau, role=role, actor=command_line_actor()
        )
        client_id = client.client_id
    # Plain lines, exactly two, so that scripts can read them.
    typer.echo(f"client_id: {client_id}")
    typer.echo(f"client_secret: {secret}")


@clients_app.command("list")
def list_clients(ctx: typer.Context) -> None:
    """List the API clients (never their secrets)."""
    with state(ctx).database.session() as session:
        # The id is what people copy into a command: never shortened, whatever the width.
        client_id = Column("client_id", no_wrap=True, min_width=24)
        table = Table(client_id, "name", "role", "bureau", "active")
        for client in service.list_clients(session):
            table.add_row(
                client.client_id,
                client.name,
                client.role,
                client.bureau.country_code,
                "yes" if client.active else "no",
            )
    out.print(table)


@clients_app.command("deactivate")
def deactivate_client(
    ctx: typer.Context, client_id: Annotated[str, typer.Argument(help="The client's id.")]
) -> None:
    """Stop a client getting tokens; the tokens it holds stop working within seconds."""
    with state(ctx).database.session(write=True) as session:
        client = service.deactivate_client(session, client_id, actor=command_line_actor())
        out.print(f"client {client.client_id} ({client.name}) deactivated")
