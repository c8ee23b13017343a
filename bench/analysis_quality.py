"""How well the analysis finds the planted networks and their route shifts, over seeds.

For each seed: `synth world` (default size unless told), loaded through the system's own
paths into a fresh SQLite database (records import, passenger lists screened and stored,
hits answered), analysed from scratch, scored against truth.json: pairwise F1 over the
documents the networks used (lone impostors must be in no network), planted shifts found
within two weeks, false alarms per simulated year.

    .venv/bin/python bench/analysis_quality.py --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import orjson

from bordercheck.analysis.state import AnalysisState
from bordercheck.analysis.views import network_detail
from bordercheck.db import Database
from bordercheck.migrations import upgrade
from bordercheck.settings import Settings
from bordercheck.training.load import load_world
from bordercheck.training.scoring import score
from bordercheck.training.world import WorldSpec, write_world


def run(seed: int, spec: WorldSpec, work: Path) -> dict[str, object]:
    directory = work / f"world-{seed}"
    started = time.perf_counter()
    counts = write_world(spec, directory)
    url = f"sqlite:///{work / f'world-{seed}.db'}"
    settings = Settings(database_url=url, env="test", secret_key="b" * 48)
    database = Database(url, secret_key=settings.secret_key)
    upgrade(url, secret_key=settings.secret_key)
    loaded = load_world(database, settings, directory)
    state = AnalysisState()
    analysed = time.perf_counter()
    with database.session() as session:
        picture = state.current(session)
    analysis_s = time.perf_counter() - analysed
    networks = [network_detail(state.links, picture, n, None) for n in picture.networks]
    truth = orjson.loads((directory / "truth.json").read_bytes())
    result = asdict(score(truth, networks))
    database.dispose()
    return {
        "seed": seed,
        **counts,
        "hits": loaded["hits"],
        "analysis_s": round(analysis_s, 2),
        "total_s": round(time.perf_counter() - started, 1),
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--networks", type=int, default=4)
    parser.add_argument("--passengers", type=int, default=24)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            spec = WorldSpec(
                seed=seed,
                start=date(2026, 1, 5),
                weeks=args.weeks,
                networks=args.networks,
                flights_per_leg_week=1,
                passengers=args.passengers,
            )
            row = run(seed, spec, Path(tmp))
            rows.append(row)
            print(orjson.dumps(row).decode(), flush=True)
    f1 = [float(r["f1"]) for r in rows]  # type: ignore[arg-type]
    planted = sum(int(r["shifts_planted"]) for r in rows)  # type: ignore[call-overload]
    found = sum(int(r["shifts_found"]) for r in rows)  # type: ignore[call-overload]
    alarms = sum(int(r["false_alarms"]) for r in rows)  # type: ignore[call-overload]
    years = len(rows) * args.weeks / 52
    print(
        f"seeds {args.seeds}: pairwise F1 min {min(f1):.3f} mean {statistics.mean(f1):.3f}; "
        f"shifts found within 2 weeks {found}/{planted}; false alarms {alarms} in "
        f"{years:.1f} simulated years ({alarms / years:.2f}/year); lone impostors in networks "
        f"{sum(int(r['lone_in_networks']) for r in rows)}"
    )  # type: ignore[call-overload]


if __name__ == "__main__":
    main()
