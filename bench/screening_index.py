"""Benchmark the screening index against its targets, and PostgreSQL doing the same lookups.

Synthetic records in the number shapes of ``training.synthetic.ISSUERS`` (20 issuers, their
passport and identity patterns, types and statuses in the same proportions), generated
vectorised as uint8 matrices, plus one serial range of blank passports per 1,000 records.
Measured: memory per record, snapshot size, save time, load time in a fresh process, batch
and single screening, false alarms at 1 M, 10 M and the full size for MRZ and number-only
queries, the false alarms of typing slips by registry size (which sets their default
limits), recall on damaged numbers at 100 k records, and PostgreSQL's indexed look-ups on a
table of the same records (``Postgres``: exact only, and the same look-ups as the index's,
whose answers are checked to be the index's).

    .venv/bin/python bench/screening_index.py --records 10000000
    .venv/bin/python bench/screening_index.py --records 100000000 [--pg-records 10000000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray

from bordercheck.documents.mrz import check_digit
from bordercheck.documents.types import DocumentType, family_of
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS, translated
from bordercheck.screening.index import IndexEntry, ScreeningIndex
from bordercheck.screening.keys import WIDTH, country_codes
from bordercheck.screening.matcher import Columns, MatchPolicy, Query, screen, screen_columns
from bordercheck.screening.matcher import screen_batch as batch
from bordercheck.screening.records import DOCUMENT_TYPES, STATUSES
from bordercheck.training.synthetic import (
    ISSUERS,
    SAFE_ALNUM,
    SAFE_LETTERS,
    STATUS_WEIGHTS,
    TYPE_WEIGHTS,
)

KEY = b"benchmark screening key, not a secret"
DIGITS = np.frombuffer(b"0123456789", np.uint8)
LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)
SAFE = np.frombuffer(SAFE_ALNUM.encode(), np.uint8)
TYPES = list(TYPE_WEIGHTS)
NO_SLIPS = MatchPolicy(transpositions_up_to=0, substitutions_up_to=0)
ALL_SLIPS = MatchPolicy(transpositions_up_to=2**62, substitutions_up_to=2**62)


@dataclass
class Records:
    ids: NDArray[np.uint32]
    numbers: NDArray[np.uint8]  # (n, 24)
    countries: NDArray[Any]  # S3
    types: NDArray[np.uint8]  # positions in DOCUMENT_TYPES
    statuses: NDArray[np.uint8]
    blank: NDArray[np.bool_]
    restricted: NDArray[np.bool_]

    def take(self, rows: NDArray[np.intp]) -> Records:
        return Records(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))

    def build(self, ranges: Sequence[IndexEntry] = ()) -> ScreeningIndex:
        return ScreeningIndex.from_columns(
            self.ids, self.numbers, self.countries, self.types, self.statuses, self.blank,
            self.restricted, ranges=ranges, key=KEY,
        )  # fmt: skip


def fill(pattern: str, count: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    block = np.zeros((count, WIDTH), np.uint8)
    for j, symbol in enumerate(pattern):
        if symbol == "9":
            block[:, j] = DIGITS[rng.integers(0, 10, count)]
        elif symbol == "A":
            block[:, j] = LETTERS[rng.integers(0, 26, count)]
        elif symbol == "X":
            block[:, j] = SAFE[rng.integers(0, len(SAFE), count)]
        else:
            block[:, j] = ord(symbol)
    return block


def generate(count: int, seed: int, first_id: int = 1) -> Records:
    """Records in blocks of (issuer, type), as the synthetic registry makes them."""
    rng = np.random.default_rng(seed)
    weights = np.array([TYPE_WEIGHTS[t] for t in TYPES], float)
    combos = [(i, t) for i in range(len(ISSUERS)) for t in range(len(TYPES))]
    p = np.array([weights[t] for _, t in combos]) / (weights.sum() * len(ISSUERS))
    counts = rng.multinomial(count, p)
    numbers = np.zeros((count, WIDTH), np.uint8)
    countries = np.empty(count, "S3")
    types = np.empty(count, np.uint8)
    start = 0
    for (issuer_index, t), n in zip(combos, counts.tolist(), strict=True):
        issuer, name = ISSUERS[issuer_index], TYPES[t]
        passport = "passport" in name or "refugee" in name
        numbers[start : start + n] = fill(issuer.passport if passport else issuer.identity, n, rng)
        countries[start : start + n] = issuer.country
        types[start : start + n] = DOCUMENT_TYPES.index(DocumentType(name))
        start += n
    status_p = np.array(list(STATUS_WEIGHTS.values()), float)
    statuses = rng.choice(len(STATUSES), count, p=status_p / status_p.sum()).astype(np.uint8)
    blank = (types == DOCUMENT_TYPES.index(DocumentType.PASSPORT)) & (rng.random(count) < 0.02)
    ids = np.arange(first_id, first_id + count, dtype=np.uint32)
    return Records(ids, numbers, countries, types, statuses, blank, rng.random(count) < 0.01)


def generate_ranges(count: int, first_id: int, seed: int) -> list[IndexEntry]:
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        prefix, size = rng.choice(SAFE_LETTERS), rng.randrange(50, 501)
        start = rng.randrange(1, 9_999_000 - size)
        entries.append(
            IndexEntry(
                record_id=first_id + i, number=f"{prefix}{start:07d}",
                serial_end=f"{prefix}{start + size - 1:07d}",
                country=rng.choice(ISSUERS).country, status="stolen", document_type="passport",
                blank=True,
            )
        )  # fmt: skip
    return entries


_VALUES = np.zeros(256, np.int64)
_VALUES[DIGITS] = np.arange(10)
_VALUES[LETTERS] = np.arange(10, 36)
_WEIGHTS = np.resize(np.array([7, 3, 1]), WIDTH)


def check_digits(numbers: NDArray[np.uint8]) -> list[str]:
    return [str(d) for d in ((_VALUES[numbers] * _WEIGHTS).sum(axis=1) % 10).tolist()]


def texts(numbers: NDArray[np.uint8]) -> list[str]:
    return [b.decode() for b in np.ascontiguousarray(numbers).view(f"S{WIDTH}").ravel().tolist()]


def family(types: NDArray[np.uint8]) -> list[str]:
    names = [family_of(t).value for t in DOCUMENT_TYPES]
    return [names[t] for t in types.tolist()]


def queries(sample: Records, *, mrz: bool, typed: bool = True) -> list[Query]:
    numbers, countries = texts(sample.numbers), [c.decode() for c in sample.countries.tolist()]
    none: list[str | None] = [None] * len(numbers)
    kinds: list[str | None] = list(family(sample.types)) if typed else none
    checks: list[str | None] = list(check_digits(sample.numbers)) if mrz else none
    return [Query(*q) for q in zip(numbers, countries, kinds, checks, strict=True)]


# Look-alikes and the confusions a check digit cannot see (S/8, Z/5, A/K/0) alike.
CONFUSED = {
    c: (*DEFAULT_CONFUSIONS.neighbours.get(c, ()), *DEFAULT_CONFUSIONS.blind_neighbours.get(c, ()))
    for c in {*DEFAULT_CONFUSIONS.neighbours, *DEFAULT_CONFUSIONS.blind_neighbours}
}


def corrupt(query: Query, rng: random.Random) -> Query | None:
    """The query's number with one or two characters replaced by ones OCR confuses them with."""
    number = query.number
    positions = [i for i, c in enumerate(number) if c in CONFUSED]
    if not positions:
        return None
    chars = list(number)
    for i in rng.sample(positions, min(rng.choice((1, 2)), len(positions))):
        chars[i] = rng.choice(CONFUSED[chars[i]])
    return Query("".join(chars), query.country, query.document_type, query.check_digit)


def subset(records: Records, size: int, rng: np.random.Generator) -> Records:
    """``size`` records drawn at random (the generated ones come in blocks by issuer)."""
    return records.take(np.sort(rng.choice(len(records.ids), size, replace=False)))


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def singles(index: ScreeningIndex, asked: Sequence[Query]) -> tuple[float, float, float]:
    """p50 and p99 µs of one ``screen`` each, and look-ups per second."""
    spent = []
    for query in asked:
        started = time.perf_counter_ns()
        screen(index, query)
        spent.append(time.perf_counter_ns() - started)
    micros = np.array(spent) / 1000
    return float(np.percentile(micros, 50)), float(np.percentile(micros, 99)), 1e6 / micros.mean()


def false_alarms(
    index: ScreeningIndex, asked: list[Query], policy: MatchPolicy
) -> tuple[float, int]:
    """Share of clean numbers not recorded that are answered possible_hit (and how many asked)."""
    results = [r.result for r in batch(index, asked, policy)]
    absent = [r for r in results if r != "hit"]
    return sum(r == "possible_hit" for r in absent) / len(absent), len(absent)


def load_in_subprocess(path: Path, verify: bool) -> list[float]:
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from bordercheck.screening.index import ScreeningIndex\n"
        "from bordercheck.screening.matcher import Query, screen\n"
        "t1 = time.perf_counter()\n"
        f"index = ScreeningIndex.load({str(path)!r}, key={KEY!r}, verify={verify})\n"
        "t2 = time.perf_counter()\n"
        "screen(index, Query('123456789', 'GBR'))\n"
        "t3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2, index.size)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return [float(v) for v in out.stdout.split()]


def reaches(read: str, recorded: str, max_changes: int) -> bool:
    """Whether ``recorded`` is ``read`` or up to ``max_changes`` confusions from it (look-alike
    or check-digit-blind, a character changing once): what the index finds, ranges aside."""
    if len(read) != len(recorded):
        return False
    changes = 0
    for a, b in zip(read, recorded, strict=True):
        if a != b:
            if b not in CONFUSED.get(a, ()):
                return False
            changes += 1
    return changes <= max_changes


def coarse(numbers: NDArray[np.uint8]) -> list[str]:
    """Numbers with every confusion class (look-alikes and blind pairs joined) read as one
    character: a record and any reading of it within the confusions share this."""
    return texts(translated(numbers, DEFAULT_CONFUSIONS.coarse_table))


class Postgres:
    """The same look-ups as indexed queries in PostgreSQL, in a schema of their own.

    Two ways, each with its own index: exact (number, country, family), the least a
    database can do for a screening; and the same look-ups as the index makes, the number
    and every reading within two confusions, as one probe of an index on the number's coarse
    skeleton (look-alikes and check-digit-blind pairs joined), the rows it returns checked
    by the caller. Timed: the statements and their rows, not the caller's checks.
    """

    EXACT = "SELECT record_id FROM documents WHERE number = %s AND country = %s AND family = %s"
    SAME = (
        "SELECT record_id, number FROM documents WHERE coarse = %s AND country = %s AND family = %s"
    )
    BATCH = (
        "SELECT q.i, d.record_id, d.number FROM unnest(%s::text[], %s::text[], %s::text[])"
        " WITH ORDINALITY AS q(key, country, family, i)"
        " JOIN documents d ON d.{column} = q.key AND d.country = q.country"
        " AND d.family = q.family"
    )

    def __init__(self, connection: psycopg.Connection[Any], line: Callable[[str], None]):
        self.connection, self.cursor, self.line = connection, connection.cursor(), line

    def load(self, table: Records) -> None:
        families = np.array([family_of(t).value for t in DOCUMENT_TYPES])
        self.connection.execute(
            "CREATE TABLE documents (number text, coarse text, country char(3), family text,"
            " record_id int)"
        )
        started = time.perf_counter()
        with self.cursor.copy("COPY documents FROM STDIN") as copy:
            for lo in range(0, len(table.ids), 1_000_000):
                part = table.take(np.arange(lo, min(lo + 1_000_000, len(table.ids))))
                rows = zip(
                    texts(part.numbers), coarse(part.numbers),
                    [c.decode() for c in part.countries.tolist()], families[part.types].tolist(),
                    part.ids.tolist(), strict=True,
                )  # fmt: skip
                copy.write("".join(f"{n}\t{k}\t{c}\t{f}\t{i}\n" for n, k, c, f, i in rows))
        loaded = time.perf_counter() - started
        self.connection.execute("SET maintenance_work_mem = '1GB'")
        spent = [
            timed(lambda c=columns: self.connection.execute(f"CREATE INDEX ON documents ({c})"))[0]
            for columns in ("number, country, family", "coarse, country, family")
        ]
        self.connection.execute("VACUUM ANALYZE documents")
        self.line(f"PostgreSQL: COPY of {len(table.ids):,} rows {loaded:.1f} s, indexes "
                  f"{spent[0]:.1f} s (exact) and {spent[1]:.1f} s (coarse)")  # fmt: skip

    def single(self, sql: str, keys: list[tuple[str, str, str]]) -> float:
        """Look-ups a second, one prepared statement each."""
        for key in keys[:200]:  # warm the plan and the pages
            self.cursor.execute(sql, key, prepare=True)
            self.cursor.fetchall()
        started = time.perf_counter()
        for key in keys:
            self.cursor.execute(sql, key, prepare=True)
            self.cursor.fetchall()
        return len(keys) / (time.perf_counter() - started)

    def batched(self, column: str, keys: list[tuple[str, str, str]]) -> float:
        """Documents a second, 1,000 to an ``unnest`` join."""
        sql = self.BATCH.format(column=column)
        started = time.perf_counter()
        for lo in range(0, len(keys), 1000):
            self.cursor.execute(sql, [list(c) for c in zip(*keys[lo : lo + 1000], strict=True)])
            self.cursor.fetchall()
        return len(keys) / (time.perf_counter() - started)

    def same_answers(
        self, asked: Sequence[Query], keys: list[tuple[str, str, str]]
    ) -> list[set[int]]:
        """The records PostgreSQL's rows make each query's answer (number-only queries)."""
        answers = []
        for query, key in zip(asked, keys, strict=True):
            self.cursor.execute(self.SAME, key, prepare=True)
            answers.append(
                {i for i, number in self.cursor.fetchall() if reaches(query.number, number, 2)}
            )
        return answers


def keyed(asked: Sequence[Query], *, by_coarse: bool) -> list[tuple[str, str, str]]:
    """(number or coarse skeleton, country, family) of each query, made before timing."""
    if by_coarse:
        table = DEFAULT_CONFUSIONS.coarse_table
        numbers = [q.number.encode().translate(table).decode() for q in asked]
    else:
        numbers = [q.number for q in asked]
    return [(n, q.country, q.document_type or "") for n, q in zip(numbers, asked, strict=True)]


class Run:
    """One benchmark run: the records, the index, the queries, and a line per figure."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.n, self.started = args, args.records, time.perf_counter()
        self.sample = np.random.default_rng(7)

    def line(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {text}", flush=True)

    def build(self) -> None:
        n = self.n
        spent, self.records = timed(lambda: generate(n, seed=1))
        ranges = generate_ranges(max(n // 1000, 1), n + 1, seed=2)
        self.line(f"generated {n:,} records and {len(ranges):,} ranges in {spent:.1f} s")
        spent, self.index = timed(lambda: self.records.build(ranges))
        self.line(f"BUILD {spent:.1f} s: {self.index.size:,} records")
        memory = self.index.memory_bytes
        self.line(f"MEMORY {memory / self.index.size:.2f} B/record "
                  f"({memory / 2**20:,.0f} MiB, ranges included)")  # fmt: skip

    def snapshot(self) -> None:
        path = self.args.dir / f"screening-{self.n}.snapshot"
        spent, _ = timed(lambda: self.index.save(path))
        self.line(f"SNAPSHOT {path.stat().st_size / 2**20:,.0f} MiB written in {spent:.1f} s")
        for verify in (False, True):
            imported, loaded, first, size = load_in_subprocess(path, verify)
            self.line(f"LOAD verify={verify}: import {imported:.2f} s, load {loaded:.2f} s, "
                      f"first lookup {first * 1e3:.2f} ms ({size:,.0f} records)")  # fmt: skip
        path.unlink()

    def make_queries(self) -> None:
        """Queries from the same distribution (most not recorded), recorded and damaged ones."""
        clean = generate(1_000_000, seed=3)
        self.clean = clean.take(np.random.default_rng(3).permutation(len(clean.ids)))
        spent, self.number_only = timed(lambda: queries(self.clean, mrz=False))
        self.mrz = queries(self.clean, mrz=True)
        self.line(f"built 1,000,000 Query objects in {spent:.2f} s (the caller's cost)")
        self.untyped = queries(self.clean.take(np.arange(100_000)), mrz=False, typed=False)
        rng = random.Random(4)
        rows = np.random.default_rng(5).integers(0, self.n, 20_000)
        self.recorded = queries(self.records.take(rows), mrz=False)
        pairs = [(r, d) for r in self.recorded if (d := corrupt(r, rng)) is not None]
        self.damaged = [d for _, d in pairs]
        # As an MRZ prints them: the damaged number beside the true number's check digit.
        self.damaged_mrz = [
            Query(d.number, d.country, d.document_type, check_digit(r.number)) for r, d in pairs
        ]
        gc.freeze()  # millions of live queries would make every full collection a pause

    def speed(self) -> None:
        view, clean = self.index.view(), self.clean
        lengths = (clean.numbers != 0).sum(axis=1).astype(np.intp)
        codes = country_codes(clean.countries)
        spent, hits = timed(lambda: view.may_match(clean.numbers, lengths, codes, 2))
        self.line(f"BATCH core (matrices in, candidates out): {len(lengths) / spent:,.0f} docs/s,"
                  f" {hits.mean() * 100:.3f} % candidates")  # fmt: skip
        for name, asked in (("number-only", self.number_only), ("MRZ", self.mrz)):
            spent, answers = timed(partial(batch, self.index, asked))
            self.line(f"BATCH clean {name}: {len(asked) / spent:,.0f} docs/s "
                      f"({sum(a.result != 'no_hit' for a in answers):,} not no_hit)")  # fmt: skip
            columns = Columns.of(asked)
            spent, by_columns = timed(partial(screen_columns, self.index, columns))
            assert by_columns == answers
            self.line(f"BATCH clean {name}, as columns: {len(asked) / spent:,.0f} docs/s")
        mix = self.number_only[:980_000] + self.recorded[:10_000] + self.damaged[:10_000]
        random.Random(6).shuffle(mix)
        spent, _ = timed(lambda: batch(self.index, mix))
        self.line(f"BATCH mix (98 % clean, 1 % recorded, 1 % damaged): {len(mix) / spent:,.0f} "
                  "docs/s")  # fmt: skip
        for name, asked in (
            ("clean number-only", self.number_only[:20_000]),
            ("clean MRZ", self.mrz[:20_000]),
            ("damaged number-only", self.damaged[:5_000]),
            ("damaged MRZ", self.damaged_mrz[:5_000]),
        ):
            p50, p99, rate = singles(self.index, asked)
            self.line(f"SINGLE {name}: p50 {p50:.1f} µs, p99 {p99:.1f} µs, {rate:,.0f}/s")

    def false_alarms(self) -> None:
        for size in sorted({s for s in (1_000_000, 10_000_000, self.n) if s <= self.n}):
            index = self.index if size == self.n else self.subset(size).build()
            for name, asked in (
                ("MRZ", self.mrz[:200_000]),
                ("number-only", self.number_only[:200_000]),
                ("number-only, no type", self.untyped),
            ):
                rate, count = false_alarms(index, asked, MatchPolicy())
                self.line(f"FALSE ALARMS at {size:,} records, {name}: {rate * 100:.4f} % "
                          f"of {count:,}")  # fmt: skip

    def slips(self) -> None:
        """False alarms of typing slips by registry size: what their default limits rest on."""
        sizes = (100_000, 200_000, 300_000, 1_000_000, 2_000_000, 3_000_000, 10_000_000)
        for size in (s for s in sizes if s <= self.n):
            answers = batch(self.subset(size).build(), self.number_only[:40_000], ALL_SLIPS)
            absent = [a for a in answers if a.result != "hit"]
            rates = [
                sum(any(m.match == kind for m in a.matches) for a in absent) / len(absent)
                for kind in ("ocr_variant", "transposition", "substitution")
            ]
            self.line(f"SLIPS at {size:,} records, clean number-only: OCR {rates[0] * 100:.3f} %,"
                      f" transposition {rates[1] * 100:.3f} %, substitution "
                      f"{rates[2] * 100:.3f} %")  # fmt: skip

    def recall(self) -> None:
        small = self.subset(min(self.n, 100_000))
        index, truth = small.build(), queries(small, mrz=True)
        rng = random.Random(8)
        chosen = [(i, q) for i, t in enumerate(truth) if (q := corrupt(t, rng)) is not None]
        ids = small.ids.tolist()
        for name, strip in (("MRZ (true check digit)", False), ("number-only", True)):
            asked = [
                Query(q.number, q.country, q.document_type, None if strip else q.check_digit)
                for _, q in chosen[:20_000]
            ]
            answers = batch(index, asked)
            found = sum(
                any(m.record_id == ids[i] for m in a.matches)
                for (i, _), a in zip(chosen, answers, strict=False)
            )
            self.line(f"RECALL at {len(ids):,} records, {name}: "
                      f"{found / len(asked) * 100:.2f} % of {len(asked):,} damaged")  # fmt: skip

    def postgres(self) -> None:
        size = min(self.n, self.args.pg_records or self.n)
        table = self.records if size == self.n else self.subset(size)
        # The generated columns are not needed after this: their memory goes to the page
        # cache, where PostgreSQL's table and indexes will be.
        self.records = self.records.take(np.zeros(0, np.intp))
        single, many = self.number_only[:20_000], self.number_only[:200_000]

        columns = Columns.of(many)

        def ours() -> tuple[float, float, float]:
            spent, _ = timed(lambda: batch(self.index, many))
            by_columns, _ = timed(lambda: screen_columns(self.index, columns))
            return singles(self.index, single)[2], len(many) / spent, len(many) / by_columns

        schema = f"bench_screening_{os.getpid()}"
        # Ours just before and just after PostgreSQL's, the better of each: other work on
        # the machine should not count against one side only.
        before = ours()
        with psycopg.connect(self.args.postgres_url, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
            try:
                connection.execute(f"SET search_path = {schema}")
                pg = Postgres(connection, self.line)
                pg.load(table)
                del table
                exact = keyed(single, by_coarse=False), keyed(many, by_coarse=False)
                same = keyed(single, by_coarse=True), keyed(many, by_coarse=True)
                rates = {
                    "exact": (pg.single(pg.EXACT, exact[0]), pg.batched("number", exact[1])),
                    "same": (pg.single(pg.SAME, same[0]), pg.batched("coarse", same[1])),
                }
                if size == self.n:
                    self.agreement(pg)
            finally:
                connection.execute(f"DROP SCHEMA {schema} CASCADE")
        after = ours()
        ours_one, ours_many, ours_columns = (max(b, a) for b, a in zip(before, after, strict=True))
        self.line(f"OURS at {self.n:,}: single {ours_one:,.0f}/s ({1e6 / ours_one:.1f} µs "
                  f"mean), batch {ours_many:,.0f} docs/s from Query objects, "
                  f"{ours_columns:,.0f} from columns (clean number-only)")  # fmt: skip
        for name, (one, per_batch) in rates.items():
            what = "exact only" if name == "exact" else "the same look-ups (coarse skeleton)"
            self.line(f"POSTGRES {what} at {size:,} rows: single {one:,.0f}/s "
                      f"({1e6 / one:.0f} µs), batched (1,000 per unnest join of columns) "
                      f"{per_batch:,.0f} docs/s")  # fmt: skip
            self.line(f"RATIO to PostgreSQL {what}: single {ours_one / one:.1f}x, "
                      f"batch {ours_many / per_batch:.1f}x from Query objects, "
                      f"{ours_columns / per_batch:.1f}x from columns")  # fmt: skip

    def agreement(self, pg: Postgres) -> None:
        """Whether PostgreSQL's rows make the index's answers, on damaged and clean queries."""
        for name, asked in (("damaged", self.damaged[:2_000]), ("clean", self.number_only[:5_000])):
            theirs = pg.same_answers(asked, keyed(asked, by_coarse=True))
            ours = [
                # Ranges are not in the table (nor matches through them, OCR readings of a
                # serial included): records only.
                {
                    m.record_id
                    for m in screen(self.index, q, NO_SLIPS).matches
                    if m.serial_end is None
                }
                for q in asked
            ]
            differ = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
            self.line(f"AGREEMENT with PostgreSQL, {name} number-only: "
                      f"{len(asked) - len(differ):,} of {len(asked):,} the same records"
                      f"{f' (first apart: {asked[differ[0]]})' if differ else ''}")  # fmt: skip

    def subset(self, size: int) -> Records:
        return subset(self.records, size, self.sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--pg-records", type=int, help="rows for PostgreSQL (default: all)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    run = Run(parser.parse_args())
    run.line(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    run.build()
    run.snapshot()
    run.make_queries()
    run.speed()
    run.false_alarms()
    run.slips()
    run.recall()
    if not run.args.skip_postgres:
        run.postgres()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    run.line(f"peak memory of this process {peak:.1f} GiB, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
