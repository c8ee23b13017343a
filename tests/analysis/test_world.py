"""The synthetic world: reproducible, with networks, shifts, lone impostors and real PAXLST."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import orjson
from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.training.world import WorldSpec, write_world

SMALL = WorldSpec(
    seed=5,
    start=date(2026, 1, 5),
    weeks=12,
    networks=2,
    lone_impostors=4,
    background_records=100,
    passengers=5,
    scheduled_legs=4,
)


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_the_same_seed_writes_the_same_world(tmp_path: Path) -> None:
    write_world(SMALL, tmp_path / "a")
    write_world(SMALL, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    write_world(WorldSpec(**{**SMALL.__dict__, "seed": 6}), tmp_path / "c")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_the_truth_and_the_files_agree(tmp_path: Path) -> None:
    counts = write_world(SMALL, tmp_path)
    truth = orjson.loads((tmp_path / "truth.json").read_bytes())
    assert len(truth["networks"]) == 2
    assert len(truth["lone_impostors"]) == 4
    records = [
        orjson.loads(line) for line in (tmp_path / "records.jsonl").read_bytes().splitlines()
    ]
    incidents = {r.get("incident_ref") for r in records}
    for network in truth["networks"]:
        assert set(network["thefts"]) <= incidents
        assert len(network["documents"]) >= 2
    carried = set()
    files = sorted((tmp_path / "manifests").glob("*.edi"))
    assert len(files) == counts["flights"]
    for file in files:
        for manifest in parse_paxlst(file.read_bytes()).manifests:
            for traveller in manifest.travellers:
                carried |= {(d.issuing_country, d.number) for d in traveller.documents}
    planted = {
        (d["issuing_country"], d["document_number"])
        for n in truth["networks"]
        for d in n["documents"]
    }
    assert planted <= carried, "every planted document travels on a flight"


def test_synth_world_then_load_then_report(tmp_path: Path, fresh_url: str) -> None:
    runner = CliRunner()
    env = {"BORDERCHECK_DATABASE_URL": fresh_url, "BORDERCHECK_SECRET_KEY": "r" * 48}
    world = tmp_path / "world"
    made = runner.invoke(
        app,
        [
            "synth",
            "world",
            "--out",
            str(world),
            "--seed",
            "9",
            "--weeks",
            "10",
            "--networks",
            "2",
            "--impostors",
            "2",
            "--records",
            "50",
            "--legs",
            "3",
            "--passengers",
            "4",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    loaded = runner.invoke(app, ["synth", "load", str(world)], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "hits answered" in loaded.output
    report = tmp_path / "report.html"
    written = runner.invoke(app, ["analysis", "report", "--out", str(report)], env=env)
    assert written.exit_code == 0, written.output
    html = report.read_text()
    assert html.startswith("<!doctype html>")
    assert "<svg" in html
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    listed = runner.invoke(app, ["analysis", "networks"], env=env)
    assert listed.exit_code == 0, listed.output
    network = next(word for word in listed.output.split() if word.startswith("N-"))
    assert network in html
    exported = runner.invoke(
        app,
        ["analysis", "export", network, "--out", str(tmp_path / "n.gexf"), "--format", "gexf"],
        env=env,
    )
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "n.gexf").read_text().startswith("<?xml")
