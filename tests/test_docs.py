"""The documentation is part of the product: every setting and every command is in it."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bordercheck.settings import Settings

DOCS = Path(__file__).parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`BORDERCHECK_{name.upper()}`" in (DOCS / "deployment.md").read_text()


def test_the_command_reference_matches_the_commands(tmp_path: Path) -> None:
    typer = shutil.which("typer", path=str(Path(sys.executable).parent))
    assert typer is not None
    generated = tmp_path / "cli.md"
    subprocess.run(
        [typer, "bordercheck.cli", "utils", "docs", "--name", "bordercheck",
         "--title", "bordercheck commands", "--output", str(generated)],
        check=True, capture_output=True,
    )  # fmt: skip
    # As `make docs` writes it: typer's HTML entities (&#x27;) turned back into characters.
    reference = html.unescape(generated.read_text())
    assert reference == (DOCS / "cli.md").read_text(), "run `make docs`"


def test_the_command_reference_reads_as_text() -> None:
    entities = re.findall(r"&#?\w+;", (DOCS / "cli.md").read_text())
    assert not entities, f"HTML entities shown as text: {sorted(set(entities))}"


def test_every_doc_the_readme_maps_exists() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    for line in readme.splitlines():
        if line.startswith("| [docs/"):
            target = line.split("](")[1].split(")")[0]
            assert (DOCS.parent / target).exists(), target
