"""The access log: one line per request naming route, status and caller; never a secret."""

from __future__ import annotations

import json
import re

import pytest

from bordercheck.auth.models import Role
from tests.signin import open_api

NUMBER = "C01X00T47"


PAIR = re.compile(r"(\w+)=('[^']*'|\S+)")


def _requests(stderr: str) -> list[dict[str, str]]:
    """The access log lines, JSON or readable (loggers keep the format they were first used in)."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            fields = {name: str(value) for name, value in json.loads(line).items()}
        elif "] request " in line:
            fields = {"event": "request", **dict(PAIR.findall(line.partition("] request ")[2]))}
        else:
            continue
        if fields.get("event") == "request":
            found.append(fields)
    return found


def test_each_request_is_logged_without_token_or_document_number(
    fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_api(fresh_url, log_format="json") as api:
        headers = api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")
        token = headers["Authorization"].removeprefix("Bearer ")
        capsys.readouterr()
        body = {"document_number": NUMBER, "issuing_country": "DEU"}
        assert api.client.post("/api/v1/screen", json=body, headers=headers).status_code == 200
        officer = api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")
        listed = api.client.get(f"/api/v1/records?document_number={NUMBER}", headers=officer)
        assert listed.status_code == 200, listed.text
        assert api.client.get("/api/v1/records/12345", headers=officer).status_code == 404
        assert api.client.get(f"/nowhere?number={NUMBER}").status_code == 404
        stderr = capsys.readouterr().err
    assert token not in stderr
    assert NUMBER not in stderr
    requests = _requests(stderr)
    by_path = {(line["method"], line["path"]): line for line in requests}
    screen = by_path["POST", "/api/v1/screen"]
    assert screen["status"] == "200"
    assert screen["caller"] == "border.fra"
    assert float(screen["ms"]) >= 0
    assert by_path["GET", "/api/v1/records"]["caller"] == "officer.deu"
    assert by_path["GET", "/api/v1/records/{record_id}"]["status"] == "404"
    assert by_path["GET", "/nowhere"]["caller"] == "None"
