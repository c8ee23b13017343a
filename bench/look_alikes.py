"""Look-alikes between two letters (O/Q, O/D, Q/D, I/L): one confusion each, or two?

The look-alike table pairs letters with digits (O/0, Q/0, D/0, I/1, L/1…), so O and Q are
joined only through 0. Counted as two confusions (``--pairs digits``, what screening did),
a number read with O for Q is not an OCR variant of its record (a character changes once),
and neither is one with O for Q and one other confusion. Counted as one (``--pairs
letters``: the four letter pairs added to the table), both are found, at the cost of more
variants, hence more false alarms. Same synthetic records as bench/screening_index.py, an
index built each way, and measured on each:

- recall: 20,000 recorded numbers read with one or two confusions, each character replaced
  by one it is confused with when letters look alike too (so some damaged numbers have a
  letter read for a letter: O, Q or D for another of them, I for L or L for I), as
  number-only queries and as MRZ queries with the true check digit; and 5,000 numbers with
  one letter read for a letter and nothing else;
- false alarms: 200,000 clean numbers not recorded (MRZ, number-only, number-only without a
  type), answered ``possible_hit``;
- cost: batch screening of the clean numbers, single look-ups of damaged ones.

    .venv/bin/python bench/look_alikes.py --records 10000000
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import time
from functools import partial

import numpy as np

from bordercheck.documents.ocr import CONFUSABLE_PAIRS
from bordercheck.screening.confusions import LETTER_LOOK_ALIKES, Confusions
from bordercheck.screening.index import ScreeningIndex
from bordercheck.screening.matcher import MatchPolicy, Query
from screening_index import (
    KEY,
    Records,
    generate,
    queries,
    singles,
    timed,
)
from screening_index import batch as screen_batch

DIGIT_PAIRS = Confusions(pairs=CONFUSABLE_PAIRS)
LETTER_PAIRS = Confusions(pairs=(*CONFUSABLE_PAIRS, *LETTER_LOOK_ALIKES))
LETTER_FOR_LETTER = frozenset(frozenset(pair) for pair in LETTER_LOOK_ALIKES)
# How a reader damages a number: each character may become any it is confused with, the
# letters that look alike included.
MISREAD = {
    c: (*LETTER_PAIRS.neighbours.get(c, ()), *LETTER_PAIRS.blind_neighbours.get(c, ()))
    for c in {*LETTER_PAIRS.neighbours, *LETTER_PAIRS.blind_neighbours}
}


def damage(number: str, rng: random.Random) -> tuple[str, bool] | None:
    """The number with one or two characters misread, and whether a letter was read for a
    letter (None: nothing in it is confused)."""
    positions = [i for i, c in enumerate(number) if c in MISREAD]
    if not positions:
        return None
    chars, letter_for_letter = list(number), False
    for i in rng.sample(positions, min(rng.choice((1, 2)), len(positions))):
        other = rng.choice(MISREAD[chars[i]])
        letter_for_letter |= frozenset((chars[i], other)) in LETTER_FOR_LETTER
        chars[i] = other
    return "".join(chars), letter_for_letter


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.n, self.started = args, args.records, time.perf_counter()

    def line(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {text}", flush=True)

    def prepare(self) -> None:
        n = self.n
        spent, self.records = timed(lambda: generate(n, seed=1))
        self.line(f"generated {n:,} records in {spent:.1f} s")
        clean = generate(400_000, seed=3)
        self.clean = clean.take(np.random.default_rng(3).permutation(len(clean.ids))[:200_000])
        self.number_only = queries(self.clean, mrz=False)
        self.mrz = queries(self.clean, mrz=True)
        self.untyped = queries(self.clean.take(np.arange(100_000)), mrz=False, typed=False)
        rows = np.random.default_rng(5).choice(n, 40_000, replace=False)
        recorded: Records = self.records.take(rows)
        truth = queries(recorded, mrz=True)
        rng = random.Random(8)
        self.damaged: list[tuple[int, Query, bool]] = []
        for row, query in zip(rows.tolist(), truth, strict=True):
            damaged = damage(query.number, rng)
            if damaged is not None and len(self.damaged) < 20_000:
                number, letters = damaged
                self.damaged.append((int(self.records.ids[row]), query._replace(number=number),
                                     letters))  # fmt: skip
        # Beside them, one letter read for a letter and nothing else, wherever it can be.
        self.letter_only: list[tuple[int, Query]] = []
        for row, query in zip(rows.tolist(), truth, strict=True):
            spots = [i for i, c in enumerate(query.number) if c in "OQDIL"]
            if spots and len(self.letter_only) < 5_000:
                i = rng.choice(spots)
                other = rng.choice(
                    [c for c in "OQDIL" if {c, query.number[i]} in LETTER_FOR_LETTER]
                )
                number = f"{query.number[:i]}{other}{query.number[i + 1 :]}"
                self.letter_only.append((int(self.records.ids[row]), query._replace(number=number)))
        with_letters = sum(letters for _, _, letters in self.damaged)
        self.line(f"{len(self.damaged):,} damaged numbers ({with_letters:,} with a letter "
                  f"read for a letter), {len(self.letter_only):,} with that alone")  # fmt: skip
        gc.freeze()

    def measure(self, name: str, confusions: Confusions) -> None:
        r = self.records
        spent, index = timed(lambda: ScreeningIndex.from_columns(
            r.ids, r.numbers, r.countries, r.types, r.statuses, r.blank, r.restricted,
            key=KEY, confusions=confusions,
        ))  # fmt: skip
        self.line(f"[{name}] BUILD {spent:.1f} s, {index.memory_bytes / index.size:.2f} B/record")
        policy = MatchPolicy()
        for label, strip in (("MRZ (true check digit)", False), ("number-only", True)):
            asked = [q._replace(check_digit=None) if strip else q for _, q, _ in self.damaged]
            answers = screen_batch(index, asked, policy)
            found = [
                any(m.record_id == record for m in a.matches)
                for (record, _, _), a in zip(self.damaged, answers, strict=True)
            ]
            letters = [f for f, (_, _, lf) in zip(found, self.damaged, strict=True) if lf]
            self.line(f"[{name}] RECALL {label}: {np.mean(found) * 100:.2f} % of "
                      f"{len(found):,} damaged; {np.mean(letters) * 100:.2f} % of the "
                      f"{len(letters):,} with a letter read for a letter")  # fmt: skip
            asked = [q._replace(check_digit=None) if strip else q for _, q in self.letter_only]
            answers = screen_batch(index, asked, policy)
            alone = np.mean([
                any(m.record_id == record for m in a.matches)
                for (record, _), a in zip(self.letter_only, answers, strict=True)
            ])  # fmt: skip
            self.line(f"[{name}] RECALL {label}, a letter for a letter alone: "
                      f"{alone * 100:.2f} % of {len(asked):,}")  # fmt: skip
        for label, asked in (
            ("MRZ", self.mrz),
            ("number-only", self.number_only),
            ("number-only, no type", self.untyped),
        ):
            results = [a.result for a in screen_batch(index, asked, policy)]
            absent = [x for x in results if x != "hit"]
            rate = sum(x == "possible_hit" for x in absent) / len(absent)
            self.line(f"[{name}] FALSE ALARMS {label}: {rate * 100:.4f} % of {len(absent):,} "
                      "clean numbers not recorded")  # fmt: skip
        spent, _ = timed(partial(screen_batch, index, self.number_only))
        self.line(f"[{name}] BATCH clean number-only: {len(self.number_only) / spent:,.0f} docs/s")
        for label, asked in (
            ("damaged number-only", [q._replace(check_digit=None) for _, q, _ in self.damaged]),
            ("damaged MRZ", [q for _, q, _ in self.damaged]),
        ):
            p50, p99, rate = singles(index, asked[:5_000])
            self.line(f"[{name}] SINGLE {label}: p50 {p50:.1f} µs, p99 {p99:.1f} µs, {rate:,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--pairs", choices=("digits", "letters", "both"), default="both")
    args = parser.parse_args()
    run = Run(args)
    run.line(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    run.prepare()
    if args.pairs in ("digits", "both"):
        run.measure("two confusions", DIGIT_PAIRS)
    if args.pairs in ("letters", "both"):
        run.measure("one confusion", LETTER_PAIRS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    run.line(f"peak memory {peak:.1f} GiB, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
