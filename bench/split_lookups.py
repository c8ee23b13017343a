"""Single look-ups by CPU time: for comparing two versions of the code on a busy machine.

Synthetic records as in bench/screening_index.py, indexed with the look-alike table of
``documents.ocr`` alone (the table screening had before letters that look alike counted as
one confusion, so that versions on either side of that change compare), no typing slips.
CPU time of this process, not wall-clock time: other work on the machine slows the clock
more than it slows the process. Best of 9 passes. Run it once per version, in turn:

    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python bench/split_lookups.py
    .venv/bin/python bench/split_lookups.py
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from bordercheck.documents.ocr import CONFUSABLE_PAIRS
from bordercheck.screening.confusions import Confusions
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.matcher import Query, screen
from screening_index import KEY, NO_SLIPS, generate, queries

BEFORE = Confusions(pairs=CONFUSABLE_PAIRS)
CONFUSED = {
    c: (*BEFORE.neighbours.get(c, ()), *BEFORE.blind_neighbours.get(c, ()))
    for c in {*BEFORE.neighbours, *BEFORE.blind_neighbours}
}


def corrupt(query: Query, rng: random.Random) -> Query | None:
    """The number with one or two characters replaced by ones the table of before confuses."""
    positions = [i for i, c in enumerate(query.number) if c in CONFUSED]
    if not positions:
        return None
    chars = list(query.number)
    for i in rng.sample(positions, min(rng.choice((1, 2)), len(positions))):
        chars[i] = rng.choice(CONFUSED[chars[i]])
    return query._replace(number="".join(chars))


def best_micros(index: ScreeningIndex, asked: list[Query], passes: int = 9) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for query in asked:
            screen(index, query, NO_SLIPS)
        best = min(best, (time.process_time() - started) / len(asked) * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    n = parser.parse_args().records
    r = generate(n, seed=1)
    index = ScreeningIndex.from_columns(
        r.ids, r.numbers, r.countries, r.types, r.statuses, r.blank, r.restricted,
        key=KEY, confusions=BEFORE,
    )  # fmt: skip
    rng = random.Random(4)
    rows = np.random.default_rng(5).integers(0, n, 5000)
    damaged = [d for q in queries(r.take(rows), mrz=False) if (d := corrupt(q, rng))]
    damaged_mrz = [d for q in queries(r.take(rows), mrz=True) if (d := corrupt(q, rng))]
    for name, asked in (
        ("clean, number-only", queries(generate(5000, seed=3), mrz=False)),
        ("damaged, number-only", damaged[:3000]),
        ("damaged, MRZ", damaged_mrz[:3000]),
    ):
        print(f"{name}: {best_micros(index, asked):.2f} µs", flush=True)


if __name__ == "__main__":
    main()
