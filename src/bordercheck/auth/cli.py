"""``bordercheck bureaus …`` and ``bordercheck users …``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from bordercheck.auth import service
from bordercheck.auth.models import Role
from bordercheck.console import new_app, out, state
from bordercheck.documents.countries import country_name

bureaus_app = new_app("National bureaus: one per country, plus the central secretariat.")
users_app = new_app("People who sign in to bordercheck.")


@bureaus_app.command("add")
def add_bureau(
    ctx: typer.Context,
    country: Annotated[str, typer.Argument(help="The country the bureau speaks for.")],
    name: Annotated[str | None, typer.Option(help="The bureau's name.")] = None,
) -> None:
    """Add a country's national bureau."""
    with state(ctx).database.session(write=True) as session:
        bureau = service.add_bureau(session, country, name or f"NCB {country_name(country)}")
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


@users_app.command("add")
def add_user(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    bureau: Annotated[str, typer.Option(help="The bureau's country.")],
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
        user = service.add_user(session, username, bureau=bureau, role=role, password=password)
        out.print(f"user {user.username} added ({user.role}, {user.bureau.country_code})")
