"""The scenario file: a planted situation and the handling expected of a trainee, step by step.

Trainers write scenarios in YAML or JSON (by the file's extension; JSON is YAML too, so both
are read with YAML's positions). A wrong file is refused with every problem at once, each
naming the line and the field: ``line 12: steps.1.expect: …``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.errors import FieldError, ValidationFailed
from bordercheck.inputs import Input
from bordercheck.registry.schemas import RecordFields

LANGUAGES = ("en", "fr", "es", "ar")
MAX_BYTES = 256 * 1024  # a scenario is a page of text, not a data set
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
TRAINEES = "TRAINEES"  # in ``withheld_from``: the bureaus of the exercise's trainees


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _country(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a country code such as FRA")
    try:
        return normalise_country(value)
    except InvalidCountry as exc:
        raise ValueError(str(exc)) from None


Country = Annotated[str, BeforeValidator(_country)]


class Strict(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Text(Strict):
    """A text per language; English is required, the others are shown where given."""

    en: Annotated[str, Field(min_length=1, max_length=4000)]
    fr: Annotated[str, Field(max_length=4000)] | None = None
    es: Annotated[str, Field(max_length=4000)] | None = None
    ar: Annotated[str, Field(max_length=4000)] | None = None

    def in_language(self, language: str) -> str:
        chosen: str | None = getattr(self, language, None) if language in LANGUAGES else None
        return chosen or self.en


class PlantedRecord(Strict):
    """A record to create as its owner would (a document, or a range of blank documents)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    ref: Slug
    withheld_from: Annotated[list[str], Field(max_length=50)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fields(self) -> PlantedRecord:
        try:
            RecordFields.model_validate(self.fields())
        except ValidationError as exc:
            reasons = [
                f"{'.'.join(str(p) for p in e['loc']) or 'record'}: "
                + e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            ]
            raise ValueError("; ".join(reasons)) from None
        for code in self.withheld_from:
            if code != TRAINEES:
                _country(code)
        return self

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def record_fields(self) -> RecordFields:
        return RecordFields.model_validate(self.fields())


class Damage(Strict):
    """One character of the MRZ as the reader got it wrong (line and column from 1)."""

    line: Annotated[int, Field(ge=1, le=3)]
    column: Annotated[int, Field(ge=1, le=44)]
    read_as: Annotated[str, Field(pattern=r"^[A-Z0-9<]$")]


class HeldDocument(Strict):
    """A document a traveller hands over: what its page says and its MRZ as read."""

    ref: Slug
    document_number: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,24}$")]
    issuing_country: Country
    document_type: Literal["passport", "identity_card"] = "passport"
    surname: Annotated[str, Field(min_length=1, max_length=39)]
    given_names: Annotated[str, Field(max_length=39)] = ""
    nationality: Country
    birth_date: date
    sex: Literal["M", "F", "X"] = "X"
    expiry_date: date
    note: Text | None = None  # what the officer sees besides the data (a page re-laminated…)
    mrz_damage: Annotated[list[Damage], Field(max_length=10)] = Field(default_factory=list)
    zone_unreadable: bool = False  # scratched past reading: the number is keyed in


class ManifestTraveller(Strict):
    surname: Annotated[str, Field(min_length=1, max_length=35)]
    given_names: Annotated[str, Field(max_length=35)] = ""
    birth_date: date
    sex: Literal["M", "F", "X"] = "X"
    nationality: Country
    document_number: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,24}$")]
    issuing_country: Country
    document_type: Literal["passport", "identity_card"] = "passport"


class PlantedManifest(Strict):
    """A flight's passenger list, written as PAXLST in ``parts`` messages for the trainee."""

    ref: Slug
    flight: Annotated[str, Field(pattern=r"^[A-Z0-9]{2}[0-9]{1,4}$")]
    departure: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    arrival: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    departure_at: datetime
    parts: Annotated[int, Field(ge=1, le=20)] = 1
    travellers: Annotated[list[ManifestTraveller], Field(min_length=1, max_length=50)]
    ordinary_travellers: Annotated[int, Field(ge=0, le=400)] = 0  # made up, seeded by the ref


class PlantedKit(Strict):
    """An offline kit of a bureau whose copy stopped following the centre some hours ago."""

    ref: Slug
    bureau: Country
    last_sync_hours_ago: Annotated[int, Field(ge=1, le=24 * 90)]


class Step(Strict):
    id: Slug
    title: Text
    points: Annotated[int, Field(ge=1, le=100)]
    within_seconds: Annotated[int, Field(ge=10, le=24 * 3600)] | None = None


class ScreenStep(Step):
    """Check a held document (by its number or MRZ); the answer must be one of ``expect``."""

    kind: Literal["screen"]
    document: Slug
    expect: Annotated[
        list[Literal["hit", "possible_hit", "no_hit"]],
        BeforeValidator(_listed),
        Field(min_length=1),
    ]


class OutcomeStep(Step):
    """Record what was done at the border on the hit of a planted record."""

    kind: Literal["outcome"]
    record: Slug
    expect: Annotated[
        list[Literal["seized", "refused_entry", "arrested", "released", "other"]],
        BeforeValidator(_listed),
        Field(min_length=1),
    ]


class AnswerStep(Step):
    """As the owner, answer the hit on a planted record."""

    kind: Literal["answer"]
    record: Slug
    expect: Annotated[
        list[Literal["confirmed", "not_confirmed", "no_match"]],
        BeforeValidator(_listed),
        Field(min_length=1),
    ]


class MessageStep(Step):
    """Write to a bureau (the owner of a record, to report or ask)."""

    kind: Literal["message"]
    to: Country


class ManifestStep(Step):
    """Upload the planted passenger list (all of its parts)."""

    kind: Literal["manifest"]
    manifest: Slug


AnyStep = Annotated[
    ScreenStep | OutcomeStep | AnswerStep | MessageStep | ManifestStep,
    Field(discriminator="kind"),
]


class Scenario(Strict):
    """A situation planted in a sandbox and the handling expected of each trainee."""

    format: Literal[1] = 1
    id: Slug
    title: Text
    briefing: Text
    records: Annotated[list[PlantedRecord], Field(max_length=50)] = Field(default_factory=list)
    documents: Annotated[list[HeldDocument], Field(max_length=20)] = Field(default_factory=list)
    manifests: Annotated[list[PlantedManifest], Field(max_length=5)] = Field(default_factory=list)
    kits: Annotated[list[PlantedKit], Field(max_length=5)] = Field(default_factory=list)
    steps: Annotated[list[AnyStep], Field(min_length=1, max_length=30)]

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, steps: list[Step]) -> list[Step]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"two steps are called {step.id!r}")
            seen.add(step.id)
        return steps

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        refs = [item.ref for group in (self.records, self.documents, self.manifests, self.kits)
                for item in group]  # fmt: skip
        doubles = sorted({ref for ref in refs if refs.count(ref) > 1})
        if doubles:
            raise ValueError(f"refs must be unique; used twice: {', '.join(doubles)}")
        wanted = {
            ScreenStep: ("document", {d.ref for d in self.documents}, "documents"),
            OutcomeStep: ("record", {r.ref for r in self.records}, "records"),
            AnswerStep: ("record", {r.ref for r in self.records}, "records"),
            ManifestStep: ("manifest", {m.ref for m in self.manifests}, "manifests"),
        }
        for step in self.steps:
            if type(step) in wanted:
                name, known, where = wanted[type(step)]
                ref = getattr(step, name)
                if ref not in known:
                    raise ValueError(
                        f"step {step.id!r} names {name} {ref!r}, which is not in {where}"
                    )
        return self

    @property
    def total_points(self) -> int:
        return sum(step.points for step in self.steps)


def parse_scenario(text: str, filename: str = "scenario.yaml") -> Scenario:
    """The scenario in ``text``; ValidationFailed listing each problem with its line."""
    try:
        return _parse(text, filename)
    except RecursionError:  # brackets in brackets, hundreds deep: no scenario is so
        raise ValidationFailed(
            errors=[FieldError(field=filename, reason="nested too deeply to be a scenario")]
        ) from None


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (the second would
    silently replace the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                continue  # the loader itself refuses what cannot be a key
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse(text: str, filename: str) -> Scenario:
    if len(text.encode()) > MAX_BYTES:
        raise ValidationFailed(
            errors=[FieldError(field=filename, reason=f"larger than {MAX_BYTES // 1024} KiB")]
        )
    if filename.lower().endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                errors=[FieldError(field=filename, reason=f"not JSON: {exc.msg}", line=exc.lineno)]
            ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (the safe loader, stricter)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        raise ValidationFailed(
            errors=[FieldError(field=filename, reason=f"not YAML: {problem}", line=line)]
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            errors=[FieldError(field=filename, reason="a scenario is a mapping (id: …, title: …)")]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = []
        for problem in exc.errors():
            location = _file_location(problem["loc"])
            reason = problem["msg"].removeprefix("Value error, ")
            field = ".".join(str(part) for part in location) or filename
            if len(location) == 2 and location[0] == "records" and ": " in reason:
                location.append(reason.split(": ", 1)[0])  # a record's field: its own line
            errors.append(FieldError(field=field, reason=reason, line=_line_of(node, location)))
        raise ValidationFailed(errors=errors) from None


def _file_location(location: tuple[Any, ...]) -> list[Any]:
    """The location as keys of the file: pydantic adds the step's kind (the union's tag)."""
    parts = list(location)
    if len(parts) >= 3 and parts[0] == "steps" and isinstance(parts[1], int):
        del parts[2]
    return parts


def _line_of(node: yaml.Node | None, location: list[Any]) -> int | None:
    """The line (from 1) of the deepest key or item of the file that the location reaches."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in location:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == str(part)]
            if not found:
                return line
            key, node = found[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
