"""How well the analysis recovered a world's truth: pairwise F1 over the documents the
networks used, planted shifts found within two weeks, false alarms per simulated year."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any

SHIFT_TOLERANCE_DAYS = 14


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    lone_in_networks: int
    shifts_planted: int
    shifts_found: int
    false_alarms: int
    false_alarms_per_year: float
    shift_delays: list[int]  # days from the planted week to the date detected


def _pairs(groups: list[set[tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}


def score(truth: dict[str, Any], networks: list[dict[str, Any]]) -> Score:
    """``networks``: as GET /analysis/networks/{id} answers them (documents and shifts)."""

    def key(d: dict[str, Any]) -> tuple[str, str]:
        return (d["issuing_country"], d["document_number"])

    planted = [{key(d) for d in n["documents"]} for n in truth["networks"]]
    found = [{key(d) for d in n["documents"]} for n in networks]
    lone = {key(d) for d in truth["lone_impostors"]}
    true_pairs, found_pairs = _pairs(planted), _pairs(found)
    hits = len(true_pairs & found_pairs)
    precision = hits / len(found_pairs) if found_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    matched: set[tuple[int, int]] = set()
    delays: list[int] = []
    planted_shifts = 0
    for documents, network in zip(planted, truth["networks"], strict=True):
        overlap = Counter({i: len(documents & f) for i, f in enumerate(found)})
        best = overlap.most_common(1)[0][0] if overlap and overlap.most_common(1)[0][1] else None
        for shift in network["shifts"]:
            planted_shifts += 1
            if best is None:
                continue
            when = date.fromisoformat(shift["date"])
            candidates = [
                (abs((date.fromisoformat(s["detected_on"]) - when).days), i)
                for i, s in enumerate(networks[best]["shifts"])
                if (best, i) not in matched
            ]
            close = [c for c in candidates if c[0] <= SHIFT_TOLERANCE_DAYS]
            if close:
                delay, i = min(close)
                matched.add((best, i))
                delays.append(delay)
    detected = sum(len(n["shifts"]) for n in networks)
    false_alarms = detected - len(matched)
    years = truth["weeks"] / 52
    return Score(
        precision,
        recall,
        f1,
        sum(1 for f in found for d in f if d in lone),
        planted_shifts,
        len(delays),
        false_alarms,
        false_alarms / years,
        delays,
    )
