"""The scenario file: YAML or JSON, every problem told with its line and field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bordercheck.errors import ValidationFailed
from bordercheck.training.scenario import parse_scenario

GOOD = """\
id: drill
title: {en: Drill, fr: Exercice}
briefing:
  en: Check the passport.
records:
  - ref: stolen
    document_number: X1234567
    issuing_country: FRA
    document_type: passport
    status: stolen
documents:
  - ref: held
    document_number: X1234567
    issuing_country: FRA
    surname: DOE
    nationality: FRA
    birth_date: 1990-01-01
    expiry_date: 2030-01-01
steps:
  - id: check
    kind: screen
    title: {en: Check}
    document: held
    expect: hit
    points: 10
    within_seconds: 60
  - id: seize
    kind: outcome
    title: {en: Seize}
    record: stolen
    expect: [seized]
    points: 10
"""


def problems(text: str, filename: str = "drill.yaml") -> list[tuple[int | None, str, str]]:
    with pytest.raises(ValidationFailed) as failed:
        parse_scenario(text, filename)
    return [(e.line, e.field, e.reason) for e in failed.value.errors]


def test_a_good_scenario_reads_the_same_from_yaml_and_json() -> None:
    scenario = parse_scenario(GOOD)
    assert scenario.total_points == 20
    assert scenario.title.in_language("fr") == "Exercice"
    assert scenario.title.in_language("ar") == "Drill"  # English where none is given
    as_json = json.dumps(yaml.safe_load(GOOD), default=str, indent=2)
    assert parse_scenario(as_json, "drill.json") == scenario


def test_each_problem_is_told_with_its_line_and_field() -> None:
    text = GOOD.replace("status: stolen", "status: nicked").replace("expect: hit", "expect: hot")
    found = problems(text.replace("points: 10\n", "points: 0\n", 1))
    assert found[0][:2] == (10, "records.0")
    assert "status" in found[0][2]
    lines = {(line, field) for line, field, _ in found}
    assert (24, "steps.0.expect.0") in lines
    assert (25, "steps.0.points") in lines


def test_missing_english_unknown_keys_and_dangling_refs_are_named() -> None:
    found = problems(GOOD.replace("{en: Drill, fr: Exercice}", "{fr: Exercice}"))
    assert found == [(2, "title.en", "Field required")]
    found = problems(GOOD.replace("    points: 10\n    within", "    pints: 10\n    within"))
    assert {(f, line) for line, f, _ in found} >= {("steps.0.pints", 25), ("steps.0.points", 20)}
    found = problems(GOOD.replace("document: held", "document: carried"))
    assert found[0][1] == "drill.yaml"
    assert "names document 'carried', which is not in documents" in found[0][2]


def test_not_yaml_not_json_and_not_a_mapping_are_refused_with_the_line() -> None:
    assert problems("id: [unclosed\ntitle: x\n")[0][0] == 2
    assert problems('{"id": "drill",\n "title": }', "drill.json")[0][:2] == (2, "drill.json")
    assert problems("- just\n- a list\n")[0][2].startswith("a scenario is a mapping")
    assert problems("x" * 300_000)[0][2] == "larger than 256 KiB"


def test_the_example_in_the_docs_is_a_valid_scenario() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "training.md"
    (example,) = re.findall(r"```yaml\n(.*?)```", docs.read_text(), re.S)
    scenario = parse_scenario(example, "drill.yaml")
    assert {step.kind for step in scenario.steps} == {
        "screen", "outcome", "message", "manifest", "answer",
    }  # fmt: skip
    wrong = example.replace("expect: [hit, possible_hit]", "expect: [hot, possible_hit]")
    assert problems(wrong)[0][:2] == (55, "steps.0.expect.0")
