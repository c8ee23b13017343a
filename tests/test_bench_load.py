"""The load benchmark still runs: a few seconds of it at a low rate, against a real server.

It checks that the benchmark measures and reports (the figures themselves are in
docs/benchmarks.md), and that at a low rate the server answers every request of the mix,
side traffic included, without an error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import kill

BENCH = Path(__file__).parents[1] / "bench" / "load.py"


@pytest.mark.slow
def test_a_short_load_run_reports_every_figure_and_no_error(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")
    process = subprocess.Popen(
        [sys.executable, str(BENCH), "--minutes", "0.3", "--records", "2000", "--rate", "50",
         "--warm-up", "3", "--interval", "5", "--sample", "2", "--work", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=540)
    finally:
        kill(process)  # and the server and wrk it started, were it stopped here
    out = stdout.decode()
    assert process.returncode == 0, out + stderr.decode()
    rate = re.search(r"\| single screens/s achieved \| ([\d,]+) \(([\d,]+) in", out)
    assert rate is not None, out
    assert int(rate.group(2).replace(",", "")) > 100, out
    for row in ("| latency p50", "| requests late", "| p99 with the lateness", "| side: batch",
                "| side: manifest", "| side: record_create", "| server PSS slope",
                "| database growth", "| CPU: server / wrk"):  # fmt: skip
        assert row in out, f"{row} missing:\n{out}"
    assert "hit " in out.split("| answers |", 1)[1].split("\n", 1)[0], out  # 1 % recorded
    assert "errors: PASS" in out, out
    assert re.search(r"overall: (PASS|FAIL)", out), out
