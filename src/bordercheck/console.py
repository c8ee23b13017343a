"""What every command shares: settings, the database, printing, and turning errors into exits."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from bordercheck.db import Database
from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.documents.numbers import InvalidDocumentNumber, normalise_number
from bordercheck.errors import BordercheckError, ValidationFailed
from bordercheck.settings import ConfigurationError, Settings, load_settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    """The settings a command runs with; a problem with them is told when a command needs them.

    So ``keys init`` (which makes the missing keys) and ``mrz parse`` (which needs none) run in
    an installation whose settings are not complete yet.
    """

    loaded: Settings | None = None
    problem: ConfigurationError | None = None

    @classmethod
    def from_environment(cls) -> CliState:
        try:
            return cls(load_settings())
        except ConfigurationError as exc:
            return cls(problem=exc)

    @property
    def settings(self) -> Settings:
        if self.loaded is None:
            raise self.problem or ConfigurationError("no settings")
        return self.loaded

    @property
    def keyless_settings(self) -> Settings:
        """For commands that use no key of the installation (an offline kit's, ``edge keygen``).

        A kit at a border post has no secret key of the centre; it is given a random one that
        nothing is ever signed or checked with.
        """
        if self.loaded is not None:
            return self.loaded
        return load_settings(secret_key=secrets.token_urlsafe(32))

    @functools.cached_property
    def database(self) -> Database:
        return Database.from_settings(self.settings)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState.from_environment()
    return root.obj


def report_error(exc: BordercheckError) -> None:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            where = f"line {error.line:,}: " if error.line is not None else ""
            err.print(f"[red]error:[/] {where}{error.field}: {error.reason}", soft_wrap=True)
        return
    err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)


class Commands(TyperGroup):
    """A command group that prints domain errors as one clear line and exits 1, no traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BordercheckError as exc:
            report_error(exc)
            # A setting to fix before anything runs, as a usage error is; else the task failed.
            raise typer.Exit(2 if isinstance(exc, ConfigurationError) else 1) from None


def country_code(value: str) -> str:
    """An option's country, normalised; a bad one is named by typer with the option."""
    try:
        return normalise_country(value)
    except InvalidCountry as exc:
        raise typer.BadParameter(str(exc)) from None


def document_number(value: str) -> str:
    """An option's or argument's document number, normalised (named by typer if bad)."""
    try:
        return normalise_number(value)
    except InvalidDocumentNumber as exc:
        raise typer.BadParameter(str(exc)) from None


def new_app(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text, cls=Commands, no_args_is_help=True, pretty_exceptions_enable=False
    )
