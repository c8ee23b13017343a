"""What every command shares: settings, the database, printing, and turning errors into exits.

Settings, the database and the domains are imported when a command first needs them, so that
``bordercheck --help`` and the commands that need neither start quickly (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import importlib
import secrets
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import typer
import typer.main
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from bordercheck.errors import BordercheckError, ConfigurationError, ValidationFailed

if TYPE_CHECKING:
    from bordercheck.db import Database
    from bordercheck.settings import Settings

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
        """A state whose settings are read from the environment when first asked for."""
        return cls()

    def _read(self) -> None:
        if self.loaded is not None or self.problem is not None:
            return
        from bordercheck.logs import configure_logging
        from bordercheck.settings import load_settings

        try:
            self.loaded = load_settings()
        except ConfigurationError as exc:
            self.problem = exc
            return
        configure_logging(self.loaded)

    @property
    def settings(self) -> Settings:
        self._read()
        if self.loaded is None:
            raise self.problem or ConfigurationError("no settings")
        return self.loaded

    @property
    def keyless_settings(self) -> Settings:
        """For commands that use no key of the installation (an offline kit's, ``edge keygen``).

        A kit at a border post has no secret key of the centre; it is given a random one that
        nothing is ever signed or checked with.
        """
        from bordercheck.settings import load_settings

        self._read()
        if self.loaded is not None:
            return self.loaded
        return load_settings(secret_key=secrets.token_urlsafe(32))

    @functools.cached_property
    def database(self) -> Database:
        """The configured database; one that is missing, unreachable or not upgraded is refused
        in one line (reading never creates one: only ``db upgrade`` does)."""
        from bordercheck.db_checks import open_database

        settings = self.settings
        return open_database(
            settings.database_url,
            secret_key=settings.secret_key,
            sandbox=settings.training_sandbox,
        )


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState.from_environment()
    return root.obj


def report_error(exc: BordercheckError) -> None:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            where = f"line {error.line:,}: " if error.line is not None else ""
            text = escape(f"{where}{error.field}: {error.reason}")
            err.print(f"[red]error:[/] {text}", soft_wrap=True)
        return
    # Escaped: a message may quote brackets (a pattern, a path) that are not markup.
    err.print(f"[red]error:[/] {escape(exc.message)}", soft_wrap=True)


class Commands(TyperGroup):
    """A command group that prints domain errors as one clear line and exits 1, no traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BordercheckError as exc:
            report_error(exc)
            # A setting to fix before anything runs, as a usage error is; else the task failed.
            raise typer.Exit(2 if isinstance(exc, ConfigurationError) else 1) from None
        except Exception as exc:
            # A storage fault is a database driver's error or an OSError; anything else (a
            # command's own exit included) goes on without loading the database layer.
            if "sqlalchemy" not in sys.modules and not isinstance(exc, OSError):
                raise
            from bordercheck.db import UNTIL, storage_fault

            if (fault := storage_fault(exc)) is None:
                raise
            err.print(
                f"[red]error:[/] {fault}: nothing of this command's changes was kept; "
                f"run it again once {UNTIL[fault]}",
                soft_wrap=True,
            )
            raise typer.Exit(1) from None


@dataclass(frozen=True)
class LazyGroup:
    """A domain's command group, imported only when it runs (``module`` holds ``attribute``)."""

    module: str
    help: str
    attribute: str = "app"


class LazyCommands(Commands):
    """The root command: each domain's group is imported from ``lazy`` only when it runs.

    Listing them in ``--help`` shows each one's line from the table instead of importing it.
    """

    lazy: ClassVar[dict[str, LazyGroup]] = {}
    # True while --help lists the commands: a group not imported yet is shown by its line.
    _summarising = False

    def list_commands(self, ctx: Any) -> list[str]:
        # The table's order whether or not a group has been imported yet.
        eager = [name for name in super().list_commands(ctx) if name not in self.lazy]
        return [*eager, *self.lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        entry = self.lazy[cmd_name]
        if self._summarising:
            return TyperCommand(cmd_name, help=entry.help)
        app = getattr(importlib.import_module(entry.module), entry.attribute)
        group = typer.main.get_group(app)
        group.name = cmd_name
        self.add_command(group, cmd_name)
        return group

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in self.lazy:
            # A mistyped name: typer suggests the nearest of the groups it holds, so it must
            # hold them all (slower, but only on the way to an error).
            for name in self.lazy:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._summarising = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._summarising = False


def country_code(value: str) -> str:
    """An option's country, normalised; a bad one is named by typer with the option."""
    from bordercheck.documents.countries import InvalidCountry, normalise_country

    try:
        return normalise_country(value)
    except InvalidCountry as exc:
        raise typer.BadParameter(str(exc)) from None


def document_number(value: str) -> str:
    """An option's or argument's document number, normalised (named by typer if bad)."""
    from bordercheck.documents.numbers import InvalidDocumentNumber, normalise_number

    try:
        return normalise_number(value)
    except InvalidDocumentNumber as exc:
        raise typer.BadParameter(str(exc)) from None


def new_app(help_text: str, cls: type[Commands] = Commands) -> typer.Typer:
    # Plain help (no rich panels): it reads the same on every terminal and to a screen
    # reader, and flags are not shown with a "<bool>" beside them.
    return typer.Typer(
        help=help_text,
        cls=cls,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
