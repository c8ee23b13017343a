"""The kit against a running centre: set up, screen offline, follow changes, refuse forgeries."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bordercheck.cli import app
from bordercheck.edge import sync
from bordercheck.edge.client import Centre as CentreClient
from bordercheck.edge.client import CentreRefused, CentreUnreachable
from bordercheck.edge.screener import KitScreener
from bordercheck.edge.signed import Refused
from bordercheck.edge.store import KitDirectory, check_hashes
from bordercheck.screening.keys import HASHES
from bordercheck.screening.schemas import ScreenRequest
from tests.edge.conftest import STOLEN, Centre


def kit_for(centre: Centre, directory: Path, bureau: str = "FRA") -> sync.Initialised:
    client_id, secret = centre.add_client(bureau)
    return sync.init(directory, centre.url, client_id, secret)


def ask(directory: Path, number: str, country: str = "DEU", **extra: str) -> dict[str, object]:
    screener = KitScreener(directory, max_age_hours=48)
    request = ScreenRequest(document_number=number, issuing_country=country, **extra)
    return screener.screen([request], "officer.test")[0]


def client_of(directory: Path) -> CentreClient:
    kit = KitDirectory(directory)
    config, secret = kit.config(), kit.secret()
    return CentreClient(config.server, config.client_id, secret.client_secret, kit_id=config.kit_id)


def test_a_kit_answers_with_the_centre_stopped(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    centre.stop()
    answer = ask(kit, STOLEN[0], document_type="passport")
    assert answer["result"] == "possible_hit"
    (match,) = answer["matches"]  # type: ignore[misc]
    assert match["match"] == "exact"
    assert match["document_number"] == STOLEN[0]
    assert match["status"] == "stolen"
    assert match["document_type"] == "passport"
    assert match["owning_bureau"] == "DEU"
    assert match["reported_on"] == datetime.now(UTC).date().isoformat()
    assert "confirm with the owning bureau (DEU) when connected" in match["message"]
    assert answer["kit"]["age_seconds"] >= 0  # type: ignore[index]
    assert "warnings" not in answer
    # Same matching as the centre: an OCR misreading (O for 0) is found, another country not.
    variant = ask(kit, STOLEN[0].replace("0", "O", 1))
    assert variant["result"] == "possible_hit"
    assert variant["matches"][0]["match"] == "ocr_variant"  # type: ignore[index]
    assert ask(kit, STOLEN[0], "ITA")["result"] == "no_hit"
    assert ask(kit, "Q12345678")["result"] == "no_hit"


def test_a_change_at_the_centre_reaches_the_kit_after_sync(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    record = centre.report("N4W5R3C0D", "ITA")
    assert ask(kit, "N4W5R3C0D", "ITA")["result"] == "no_hit"
    report = sync.sync(kit)
    assert report.changed_rows == 1
    assert ask(kit, "N4W5R3C0D", "ITA")["result"] == "possible_hit"
    centre.withdraw(record)
    sync.sync(kit)
    assert ask(kit, "N4W5R3C0D", "ITA")["result"] == "no_hit"
    assert ask(kit, STOLEN[1])["result"] == "possible_hit"
    with centre.database.session() as session:
        from bordercheck.registry import feed

        assert KitDirectory(kit).state().sequence == feed.last_sequence(session)


def test_a_tampered_snapshot_is_refused(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    before = KitDirectory(kit).state()

    def tamper(point: str) -> None:  # as someone between the centre and the kit would
        if point == "downloaded":
            part = next(kit.glob("download-*.part"))
            data = bytearray(part.read_bytes())
            data[len(data) // 2] ^= 0x01
            part.write_bytes(bytes(data))

    with pytest.raises(Refused, match="fails its signature check"):
        sync.sync(kit, snapshot=True, crash=tamper)
    assert KitDirectory(kit).state() == before
    assert ask(kit, STOLEN[0])["result"] == "possible_hit"
    # A snapshot altered on the kit's own disk is refused when loaded.
    stored = kit / before.snapshot
    data = bytearray(stored.read_bytes())
    data[-100] ^= 0x01
    stored.write_bytes(bytes(data))
    with pytest.raises(Refused, match="fails its signature check"):
        KitDirectory(kit).load()


def test_a_tampered_or_foreign_or_out_of_sequence_bundle_is_refused(
    centre: Centre, tmp_path: Path
) -> None:
    kit, other = tmp_path / "kit", tmp_path / "other"
    kit_for(centre, kit)
    kit_for(centre, other)
    centre.report("B3NDL3001")
    sequence = KitDirectory(kit).state().sequence
    loaded = KitDirectory(kit).load()
    good = client_of(kit).changes(sequence)
    tampered = bytearray(good)
    tampered[-70] ^= 0x01  # inside the rows
    with pytest.raises(Refused, match="fails its signature check"):
        sync.apply_bundle(loaded, bytes(tampered))
    with pytest.raises(Refused, match="not a bordercheck edge file"):
        sync.apply_bundle(loaded, b"junk")
    foreign = client_of(other).changes(sequence)
    with pytest.raises(Refused, match=f"made for kit .*, not {loaded.config.kit_id}"):
        sync.apply_bundle(loaded, foreign)
    behind = client_of(kit).changes(sequence - 1)
    with pytest.raises(Refused, match="does not follow on"):
        sync.apply_bundle(loaded, behind)
    assert KitDirectory(kit).state().sequence == sequence
    sync.apply_bundle(loaded, good)
    assert ask(kit, "B3NDL3001")["result"] == "possible_hit"


class Killed(Exception):
    """Stands for the process dying, or the link going, at one point of a sync."""


def kill_at(where: str) -> sync.Crash:
    def crash(point: str) -> None:
        if point == where:
            raise Killed(point)

    return crash


@pytest.mark.parametrize("point", ["bundle-downloaded", "delta-written"])
def test_a_sync_killed_half_way_leaves_a_working_kit(
    centre: Centre, tmp_path: Path, point: str
) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    before = KitDirectory(kit).state()
    centre.report("H4LFW4Y01")
    with pytest.raises(Killed):
        sync.sync(kit, crash=kill_at(point))
    assert KitDirectory(kit).state() == before  # nothing committed, nothing half-applied
    assert ask(kit, STOLEN[0])["result"] == "possible_hit"
    assert ask(kit, "H4LFW4Y01")["result"] == "no_hit"
    sync.sync(kit)
    assert ask(kit, "H4LFW4Y01")["result"] == "possible_hit"
    assert ask(kit, STOLEN[0])["result"] == "possible_hit"


def test_a_snapshot_download_cut_off_resumes(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    before = KitDirectory(kit).state()
    centre.report("R3SUM3001")

    def cut(point: str) -> None:
        if point == "downloaded":  # keep half of what came: the rest is fetched next time
            part = next(kit.glob("download-*.part"))
            part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
            raise Killed(point)

    with pytest.raises(Killed):
        sync.sync(kit, snapshot=True, crash=cut)
    assert KitDirectory(kit).state() == before
    assert ask(kit, STOLEN[2])["result"] == "possible_hit"
    report = sync.sync(kit, snapshot=True)
    assert report.snapshot
    assert ask(kit, "R3SUM3001")["result"] == "possible_hit"


def test_a_stale_kit_says_so(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    directory = KitDirectory(kit)
    old = datetime.now(UTC) - timedelta(hours=49)
    directory.commit(dataclasses.replace(directory.state(), data_as_of=old))
    answer = ask(kit, STOLEN[0])
    assert answer["kit"]["age_seconds"] >= 49 * 3600  # type: ignore[index]
    assert any("stale data" in w and "49 hours" in w for w in answer["warnings"])  # type: ignore[attr-defined]
    sync.sync(kit)  # a sync, even with nothing new, makes the data current again
    assert "warnings" not in ask(kit, STOLEN[0])


def test_a_revoked_kit_gets_nothing_more(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    kit_for(centre, kit)
    runner = CliRunner()
    env = {"BORDERCHECK_DATABASE_URL": centre.settings.database_url}
    kit_id = KitDirectory(kit).config().kit_id
    listed = runner.invoke(app, ["edge", "kits", "list"], env=env)
    assert kit_id in listed.output
    revoked = runner.invoke(app, ["edge", "kits", "revoke", kit_id], env=env)
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(CentreRefused, match="was revoked"):
        sync.sync(kit)
    with pytest.raises(CentreRefused, match="was revoked"):
        client_of(kit).prepare_snapshot()
    # What it holds still answers: revocation stops updates, it cannot reach into the laptop.
    assert ask(kit, STOLEN[0])["result"] == "possible_hit"


def test_an_unreachable_centre_or_bad_secret_is_said_plainly(
    centre: Centre, tmp_path: Path
) -> None:
    client_id, _secret = centre.add_client()
    with pytest.raises(CentreRefused, match="401"):
        sync.init(tmp_path / "a", centre.url, client_id, "wrong")
    centre.stop()
    with pytest.raises(CentreUnreachable, match="cannot reach the centre"):
        sync.init(tmp_path / "b", centre.url, client_id, "whatever")


def test_the_kit_commands(centre: Centre, tmp_path: Path) -> None:
    client_id, secret = centre.add_client()
    kit = str(tmp_path / "kit")
    runner = CliRunner()
    done = runner.invoke(
        app,
        ["edge", "init", "--server", centre.url, "--client-id", client_id,
         "--client-secret-stdin", "--dir", kit],
        input=secret + "\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "local_token: " in done.output
    checked = runner.invoke(
        app, ["edge", "check", "--dir", kit, "--number", STOLEN[1], "--country", "DEU"]
    )
    assert checked.exit_code == 0, checked.output
    answer = json.loads(checked.output)
    assert answer["result"] == "possible_hit"
    assert set(answer) >= {"query_id", "result", "matches", "kit"}
    bad = runner.invoke(app, ["edge", "check", "--dir", kit, "--number", "X1", "--country", "QQ"])
    assert bad.exit_code == 1
    assert "issuing_country" in bad.output
    assert "Traceback" not in bad.output
    neither = runner.invoke(app, ["edge", "check", "--dir", kit])
    assert neither.exit_code == 1
    assert "document_number and issuing_country, or mrz" in neither.output
    status = runner.invoke(app, ["edge", "status", "--dir", kit])
    assert status.exit_code == 0, status.output
    shown = json.loads(status.output)
    assert shown["queued"] == 1  # the refused query was never asked
    assert shown["records"] == len(STOLEN)
    assert shown["stale"] is False
    synced = runner.invoke(app, ["edge", "sync", "--dir", kit])
    assert synced.exit_code == 0, synced.output
    assert "1 queued queries delivered" in synced.output
    nowhere = ["--dir", str(tmp_path / "nothing")]
    for command in (["status"], ["sync"], ["check", "--number", "X1", "--country", "DEU"]):
        missing = runner.invoke(app, ["edge", *command, *nowhere])
        assert missing.exit_code == 1
        assert "is not a kit" in missing.output


def test_a_snapshot_or_bundle_hashed_by_another_release_is_refused() -> None:
    with pytest.raises(Refused, match=f"hashing version 1 and this kit reads version {HASHES}"):
        check_hashes({"kind": "snapshot"}, "snapshot")
    with pytest.raises(Refused, match="the bundle was made with hashing version 99"):
        check_hashes({"kind": "bundle", "hashes": 99}, "bundle")
    check_hashes({"kind": "bundle", "hashes": HASHES}, "bundle")
