"""What a screening request carries and what it answers (the contract's JSON)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Location = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,32}$")]
OperationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
MAX_BATCH = 10_000


class Where(BaseModel):
    """Where a query is made (the border post's code) and for which operation, if any."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location: Location | None = None
    operation_id: OperationId | Annotated[int, Field(ge=0, lt=10**18)] | None = None


class ScreenRequest(Where):
    """A document to screen: its number and issuing country (and type), or a whole MRZ."""

    document_number: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    issuing_country: Annotated[str, Field(min_length=1, max_length=3)] | None = None
    document_type: Annotated[str, Field(max_length=32)] | None = None
    mrz: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _one_way_of_naming_the_document(self) -> ScreenRequest:
        if self.mrz is not None:
            if self.document_number is not None or self.issuing_country is not None:
                raise ValueError("send either mrz, or document_number and issuing_country")
        elif self.document_number is None or self.issuing_country is None:
            raise ValueError("send document_number and issuing_country, or mrz")
        return self


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: Annotated[list[ScreenRequest], Field(min_length=1, max_length=MAX_BATCH)]


BatchAnswer = Literal["full", "matches"]


class CentreBatchRequest(BatchRequest):
    """A batch sent to the centre, which may answer only the documents that matched."""

    answer: BatchAnswer = Field(
        default="full",
        description=(
            "full: every document's answer, in the order sent (BatchResponse); matches: only "
            "the documents that matched something, each with its position "
            "(BatchMatchesResponse). Every document is screened and logged either way."
        ),
    )


DocumentNumber = Annotated[str, Field(min_length=1, max_length=40)]
CountryCode = Annotated[str, Field(min_length=1, max_length=3)]
TypeName = Annotated[str, Field(max_length=32)]


class DocumentColumns(BaseModel):
    """Documents as one list per field: position ``i`` of every list is document ``i``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_number: Annotated[list[DocumentNumber], Field(min_length=1, max_length=MAX_BATCH)]
    issuing_country: Annotated[list[CountryCode], Field(min_length=1, max_length=MAX_BATCH)]
    document_type: (
        Annotated[list[TypeName | None], Field(min_length=1, max_length=MAX_BATCH)] | None
    ) = Field(default=None, description="A type or family per document (null: any); optional.")


class ColumnBatchRequest(Where):
    """A batch sent as columns, all its documents asked from one place (``location``) for one
    operation: the same answers as ``documents``, for a fraction of the work per document."""

    columns: DocumentColumns
    answer: BatchAnswer = Field(
        default="full",
        description="As for a batch of documents: full (BatchResponse) or matches "
        "(BatchMatchesResponse).",
    )

    @property
    def size(self) -> int:
        return len(self.columns.document_number)


class MatchOut(BaseModel):
    """A record a query matched. A restricted record carries only who to contact."""

    record_id: int | None
    document_number: str | None
    issuing_country: str
    document_type: str | None
    status: str | None
    blank: bool | None
    match: str
    score: float | None
    message: str | None = None


class MrzOut(BaseModel):
    """How the MRZ read: its check digits, repairs and problems (a broken MRZ says which)."""

    format: str
    valid: bool
    checks: dict[str, bool]
    corrections: list[dict[str, Any]]
    problems: list[str]


class ScreenResponse(BaseModel):
    query_id: str
    result: Literal["hit", "possible_hit", "no_hit"]
    matches: list[MatchOut]
    mrz: MrzOut | None = None
    warnings: list[str] = Field(default_factory=list)


class BatchResponse(BaseModel):
    results: list[ScreenResponse]


class PositionedScreenResponse(ScreenResponse):
    position: int = Field(description="The document's place in the batch sent, from 0.")


class BatchMatchesResponse(BaseModel):
    """A batch's answer with only the documents that matched (``"answer": "matches"``)."""

    screened: int = Field(description="Documents screened (and logged), matched or not.")
    results: list[PositionedScreenResponse] = Field(
        description="Answers other than no_hit, in the order sent."
    )
