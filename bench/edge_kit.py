"""Benchmark the offline kit against its targets, beside the centre's index in the same run.

Synthetic records as in ``bench/screening_index.py``. Measured: kit bytes per record (the
signed snapshot file), change-bundle bytes per changed record, the time a kit takes to
apply 100,000 changes (signature check, merge, delta written and committed, and the new
state loaded for screening), and single-check latency in process (p50, p99) for the kit
and for the centre's ``ScreeningIndex`` holding the same records.

    .venv/bin/python bench/edge_kit.py --records 1000000 10000000
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).parent))
from bordercheck.edge import signed
from bordercheck.edge.rows import KitKeys, coarse_bits, coarse_table, seal_columns, sort_rows
from bordercheck.edge.signing import generate as generate_keys
from bordercheck.edge.store import KitConfig, KitDirectory, KitSecret, KitState
from bordercheck.edge.sync import apply_bundle
from bordercheck.screening.keys import HASHES, country_codes
from bordercheck.screening.matcher import Query, screen
from bordercheck.screening.records import pack_meta_arrays
from screening_index import Records, generate, queries

CHANGES = 100_000
SAMPLE = 20_000
KIT_ID = "kit_00000000000000000000"


def plain_payloads(records: Records, rng: np.random.Generator) -> NDArray[np.uint8]:
    meta = pack_meta_arrays(records.types, records.statuses, records.blank, records.restricted)
    days = rng.integers(4000, 9800, len(meta)).astype(np.uint16)
    plain = np.empty((len(meta), 3), np.uint8)
    plain[:, 0] = meta
    plain[:, 1:] = days.view(np.uint8).reshape(-1, 2)
    return plain


def rows_of(records: Records, plain: NDArray[np.uint8], keys: KitKeys) -> Any:
    return seal_columns(records.numbers, country_codes(records.countries), plain, keys)[0]


def coarse_of(records: Records, plain: NDArray[np.uint8], keys: KitKeys) -> Any:
    return seal_columns(records.numbers, country_codes(records.countries), plain, keys)[1]


def percentiles(index: Any, asked: list[Query]) -> tuple[float, float]:
    spent = []
    for query in asked:
        started = time.perf_counter_ns()
        screen(index, query)
        spent.append(time.perf_counter_ns() - started)
    micros = np.array(spent) / 1000
    return float(np.percentile(micros, 50)), float(np.percentile(micros, 99))


def run(count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    records = generate(count + CHANGES // 2, seed)
    secret = os.urandom(32)
    keys, edge = KitKeys(secret), generate_keys()
    plain = plain_payloads(records, rng)
    base, extra = np.arange(count), np.arange(count, len(records.ids))
    started = time.perf_counter()
    rows, coarse_keys = seal_columns(
        records.numbers[base], country_codes(records.countries[base]), plain[base], keys
    )
    rows = sort_rows(rows)
    coarse = coarse_table(coarse_keys, coarse_bits(len(rows)), keys.scheme)
    build = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        directory = KitDirectory(Path(tmp))
        config = KitConfig("https://centre", "bcc_x", KIT_ID, "FRA", edge.public_signing,
                           edge.public_sealing, "0" * 64)  # fmt: skip
        directory.save_config(config, KitSecret("x", secret))
        now = datetime.now(UTC).isoformat()
        header = {"kind": "snapshot", "kit_id": KIT_ID, "sequence": 1, "rows": len(rows),
                  "coarse_bytes": len(coarse), "issued_at": now, "ranges_left_out": 0,
                  "hashes": HASHES}  # fmt: skip
        signed.write(directory.path / "snapshot.bin", edge, header,
                     [rows.tobytes(), coarse.tobytes()])  # fmt: skip
        size = (directory.path / "snapshot.bin").stat().st_size
        directory.commit(KitState(1, "snapshot.bin", None, datetime.now(UTC), datetime.now(UTC)))
        started = time.perf_counter()
        loaded = directory.load()
        load = time.perf_counter() - started
        # 100,000 changed records: a third new, a third withdrawn, a third with a new status.
        third = CHANGES // 3
        changed = rng.choice(count, 2 * third, replace=False)
        withdrawn, updated = changed[:third], changed[third:]
        new_plain = plain[updated].copy()
        new_plain[:, 0] ^= 0x01  # another status
        removes = np.concatenate([
            rows_of(records.take(withdrawn), plain[withdrawn], keys),
            rows_of(records.take(updated), plain[updated], keys),
        ])  # fmt: skip
        fresh = extra[: CHANGES - 2 * third]
        adds = np.concatenate([
            rows_of(records.take(updated), new_plain, keys),
            rows_of(records.take(fresh), plain[fresh], keys),
        ])  # fmt: skip
        header = {"kind": "bundle", "kit_id": KIT_ID, "from_sequence": 1, "sequence": 2,
                  "latest_sequence": 2, "issued_at": now, "removes": len(removes),
                  "adds": len(adds), "ranges_left_out": 0, "hashes": HASHES}  # fmt: skip
        added_coarse = np.concatenate([
            coarse_of(records.take(updated), new_plain, keys),
            coarse_of(records.take(fresh), plain[fresh], keys),
        ])  # fmt: skip
        parts = [removes.tobytes(), adds.tobytes(), added_coarse.tobytes()]
        bundle = signed.pack(edge, header, parts)
        started = time.perf_counter()
        apply_bundle(loaded, bundle)
        applied = time.perf_counter() - started
        started = time.perf_counter()
        source = loaded.source()
        reload = time.perf_counter() - started
        chosen = np.sort(rng.choice(count, SAMPLE, replace=False))
        sample = records.take(chosen)
        hits = queries(sample, mrz=True)
        # Those the bundle withdrew are rightly not found any more.
        kept = [q for q, out in zip(hits, np.isin(chosen, withdrawn), strict=True) if not out]
        misses = queries(generate(SAMPLE, seed + 1), mrz=True)
        asked = hits + misses
        random.Random(seed).shuffle(asked)
        kit_p50, kit_p99 = percentiles(source, asked)
        found = sum(screen(source, q).result != "no_hit" for q in kept[:2000])
        gone = set(hits) - set(kept)
        withdrawn_found = sum(screen(source, q).result == "hit" for q in gone)
        # A hit on a withdrawn number is right where another record holds that number.
        held = np.setdiff1d(np.concatenate([base, fresh]), withdrawn)
        numbers = {(q.number, q.country) for q in queries(records.take(held), mrz=False)}
        shared = sum((q.number, q.country) in numbers for q in gone)
        del loaded, source
    started = time.perf_counter()
    centre = records.take(base).build()
    centre_build = time.perf_counter() - started
    centre_p50, centre_p99 = percentiles(centre, asked)
    print(f"## {count:,} records")
    print(f"kit rows built (centre side, per kit) {build:.1f} s; loaded on the kit {load:.2f} s")
    print(f"kit file {size / 1e6:,.1f} MB = {size / count:.2f} bytes/record (target ≤ 16)")
    print(f"bundle of {CHANGES:,} changed records: {len(bundle) / 1e6:.2f} MB = "
          f"{len(bundle) / CHANGES:.1f} bytes/changed record (target ≤ 64)")  # fmt: skip
    print(f"applying {CHANGES:,} changes: {applied:.2f} s committed, +{reload:.2f} s to screen "
          f"the new state (target ≤ 2 s)")  # fmt: skip
    print(f"single check p50/p99: kit {kit_p50:.1f}/{kit_p99:.1f} µs, centre index "
          f"{centre_p50:.1f}/{centre_p99:.1f} µs (ratio p50 {kit_p50 / centre_p50:.2f}); "
          f"half hits, half misses, MRZ check digits (target ≤ 50 µs)")  # fmt: skip
    print(
        f"recorded numbers found on the kit: {found:,} of {min(len(kept), 2000):,}; withdrawn "
        f"ones still a hit: {withdrawn_found:,} (held by another record: {shared:,}); "
        f"centre index built in {centre_build:.1f} s"
    )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}\n")  # fmt: skip
    for count in args.records:
        run(count, args.seed)


if __name__ == "__main__":
    main()
