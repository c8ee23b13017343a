"""``bordercheck keys``: making the installation's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bordercheck.console import new_app, out
from bordercheck.errors import BordercheckError
from bordercheck.keys.files import KEY_SETTINGS, generate_keys, settings_names, write_settings
from bordercheck.settings import DEFAULT_SETTINGS_FILE, SETTINGS_FILE_VARIABLE, settings_file_target
from bordercheck.timestamps import utcnow

app = new_app("The installation's keys.")


@app.command("init")
def init(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Settings file to write "
            "(default: BORDERCHECK_SETTINGS_FILE, else ./bordercheck.env).",
        ),
    ] = None,
) -> None:
    """Make the installation's keys: a settings file (mode 0600) with freshly generated keys."""
    path = file or settings_file_target()
    if path.is_dir():
        raise BordercheckError(f"{path} is a directory; name a file with --file")
    present = sorted(set(KEY_SETTINGS) & settings_names(path)) if path.exists() else []
    if present:
        raise BordercheckError(
            f"{path} holds keys already ({', '.join(present)}); keys init never replaces "
            "keys, which would make what they protect unreadable: to rotate them, follow "
            "docs/deployment.md (Keys and the settings file, Rotating keys)"
        )
    now = utcnow()
    write_settings(
        path,
        generate_keys(now),
        header=f"# bordercheck settings; keys made by `bordercheck keys init` on {now:%Y-%m-%d}",
        replace=False,
    )
    out.print(f"keys written to {path} (mode 0600)", soft_wrap=True)
    out.print(how_it_is_found(path), soft_wrap=True)


def how_it_is_found(path: Path) -> str:
    """The one line a user needs to point commands (and the server) at ``path``."""
    absolute = path.resolve()
    elsewhere = f"export {SETTINGS_FILE_VARIABLE}={absolute}"
    if path.name == DEFAULT_SETTINGS_FILE.name:
        return f"commands run in {absolute.parent} read it; from anywhere else: {elsewhere}"
    return f"point commands and the server at it with: {elsewhere}"
