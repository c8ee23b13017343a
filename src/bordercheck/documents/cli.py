"""``bordercheck mrz``: parse MRZs to JSON lines, and write MRZs from fields."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import orjson
import typer

from bordercheck.documents.mrz import FORMATS, MrzFormat, NotAnMrz, generate_mrz, parse
from bordercheck.documents.types import DocumentType, TypeFamily, family_of, parse_document_type

mrz_app = typer.Typer(
    help="Read and write ICAO Doc 9303 machine-readable zones (TD1, TD2, TD3, MRV-A, MRV-B).",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help, as every other command's (console.new_app)
)

EXIT_VALID, EXIT_CHECK_FAILED, EXIT_NOT_AN_MRZ = 0, 1, 2

# The document code written for each type; the reverse of types.type_from_mrz_code.
_CODES: dict[DocumentType, str] = {
    DocumentType.PASSPORT: "P",
    DocumentType.DIPLOMATIC_PASSPORT: "PD",
    DocumentType.SERVICE_PASSPORT: "PS",
    DocumentType.EMERGENCY_PASSPORT: "PE",
    DocumentType.REFUGEE_TRAVEL_DOCUMENT: "PT",
    DocumentType.IDENTITY_CARD: "ID",
    DocumentType.RESIDENCE_PERMIT: "IR",
    DocumentType.SEAFARER_DOCUMENT: "IS",
    DocumentType.CREW_CERTIFICATE: "AC",
    DocumentType.VISA: "V",
}
_DEFAULT_FORMATS: dict[TypeFamily, MrzFormat] = {
    TypeFamily.PASSPORT: "TD3",
    TypeFamily.IDENTITY: "TD1",
    TypeFamily.VISA: "MRV-A",
}


@mrz_app.command("parse")
def parse_command(
    lines: Annotated[
        list[str] | None,
        typer.Argument(
            help="The lines of one MRZ. Without them, MRZs are read from standard input, "
            "separated by blank lines.",
            show_default=False,
        ),
    ] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="Repair OCR confusions where the repair is certain.")
    ] = False,
) -> None:
    """Print one JSON object per MRZ; exit 0: all valid, 1: a check failed, 2: not an MRZ
    (or not a travel document's: a driving licence's). Reads France's 1988-2021 card too."""
    texts = ["\n".join(lines)] if lines else _blocks(sys.stdin.read())
    if not texts:
        typer.echo("error: no MRZ given (pass its lines, or MRZs on standard input)", err=True)
        raise typer.Exit(EXIT_NOT_AN_MRZ)
    status = EXIT_VALID
    for index, text in enumerate(texts, 1):
        try:
            mrz = parse(text, correct=correct)
        except NotAnMrz as error:
            _print({"error": str(error), "input_index": index})
            status = EXIT_NOT_AN_MRZ
            continue
        _print(mrz.as_dict())
        if not mrz.valid:
            status = max(status, EXIT_CHECK_FAILED)
    raise typer.Exit(status)


def _blocks(text: str) -> list[str]:
    """The MRZs in ``text``: runs of non-blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    return blocks


def _print(value: dict[str, object]) -> None:
    typer.echo(orjson.dumps(value).decode())


@mrz_app.command("generate")
def generate_command(
    number: Annotated[str | None, typer.Option(help="Document number.")] = None,
    country: Annotated[str | None, typer.Option(help="Issuing country (DEU, D, FRA…).")] = None,
    surname: Annotated[
        str | None, typer.Option(help="Surname, in any Latin or Cyrillic spelling.")
    ] = None,
    given_names: Annotated[str, typer.Option(help="Given names, separated by spaces.")] = "",
    nationality: Annotated[
        str | None, typer.Option(help="Holder's nationality (default: --country).")
    ] = None,
    birth_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    sex: Annotated[str | None, typer.Option(help="M, F or X (unspecified).")] = None,
    expiry_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    document_type: Annotated[
        str, typer.Option("--type", help="Document type (passport, identity_card, visa…).")
    ] = "passport",
    code: Annotated[
        str | None, typer.Option(help="Document code, instead of the one --type implies.")
    ] = None,
    mrz_format: Annotated[
        str | None,
        typer.Option("--format", help="TD1, TD2, TD3, MRV-A or MRV-B; by default from --type."),
    ] = None,
    optional_data: Annotated[str, typer.Option(help="Optional data (personal number).")] = "",
    optional_data_2: Annotated[str, typer.Option(help="TD1's second optional data.")] = "",
) -> None:
    """Print the lines of an MRZ written from the given fields, with every check digit."""
    try:
        kind = parse_document_type(document_type)
        chosen = _format(mrz_format, kind)
        lines = generate_mrz(
            mrz_format=chosen,
            document_code=code or _code(kind),
            issuing_country=_required(country, "--country"),
            document_number=_required(number, "--number"),
            surname=_required(surname, "--surname"),
            given_names=given_names,
            nationality=_required(nationality or country, "--nationality"),
            birth_date=_date(_required(birth_date, "--birth-date"), "--birth-date"),
            sex=_required(sex, "--sex"),
            expiry_date=_date(_required(expiry_date, "--expiry-date"), "--expiry-date"),
            optional_data=optional_data,
            optional_data_2=optional_data_2,
        )
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_NOT_AN_MRZ) from None
    for line in lines:
        typer.echo(line)


def _required(value: str | None, option: str) -> str:
    if not value:
        raise ValueError(f"{option} is required")
    return value


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} must be a date as YYYY-MM-DD, not {text!r}") from None


def _code(kind: DocumentType) -> str:
    if kind not in _CODES:
        raise ValueError(f"give --code for a document of type {kind.value}")
    return _CODES[kind]


def _format(text: str | None, kind: DocumentType) -> MrzFormat:
    if text is None:
        family = family_of(kind)
        if family not in _DEFAULT_FORMATS:
            raise ValueError(f"give --format for a document of type {kind.value}")
        return _DEFAULT_FORMATS[family]
    for name in FORMATS:
        if text.strip().upper() == name:
            return name
    raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {text!r}")
