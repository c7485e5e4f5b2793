"""Workbook viewer, column profile, quality report and LLM review on the wire.

Columns are spreadsheet letters and rows the numbers the spreadsheet shows. A cell is
{"type", "value"} with the value as text: numbers exactly as stored, dates ISO 8601, error
cells as the spreadsheet shows them ("#REF!"). Money (costs, caps) is a decimal string.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from coffer.api.schemas.common import InSchema

CellType = Literal["text", "number", "date", "datetime", "time", "duration", "boolean", "error"]
AnalysisStatus = Literal["queued", "running", "ready", "failed"]
ReviewStatus = Literal["queued", "running", "succeeded", "failed"]
_DECIMAL = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["0.0125"]}


def money(value: Any) -> str:
    return format(value.normalize(), "f") if value is not None else None


class SheetOut(BaseModel):
    name: str | None = Field(description="None for a CSV file (one unnamed sheet)")
    rows: int
    columns: int
    visible: bool


class SheetsOut(BaseModel):
    sheets: list[SheetOut]
    default: str | None = Field(description="The sheet shown when none is asked for")


class CellOut(BaseModel):
    type: CellType
    value: str


class IssueOut(BaseModel):
    row: int | None
    column: str | None
    code: str
    severity: str
    message: str
    value: str | None = None
    source: Literal["rules", "model"] = Field("rules", description="rules: deterministic; model: the LLM review")


class RowOut(BaseModel):
    row: int
    cells: dict[str, CellOut] = Field(description="non-empty cells by column letter")
    findings: list[IssueOut]


class RowsPageOut(BaseModel):
    sheet: str | None
    page: int
    pages: int | None = Field(description="None while the sheet's size is unknown")
    page_size: int
    rows_total: int | None
    columns: list[str]
    items: list[RowOut]
    analysis: AnalysisStatus | None = Field(description="Findings are shown once the analysis is ready")


class AnalysisOut(BaseModel):
    sheet: str | None
    status: AnalysisStatus
    rows_read: int
    rows_total: int
    error: str | None


class ColumnProfileOut(BaseModel):
    model_config = {"extra": "allow"}

    column: str
    name: str
    type: str
    consistency: float
    filled: int
    blanks: int
    distinct: int
    distinct_exact: bool
    min: str | None
    max: str | None
    top: list[dict[str, Any]]
    formats: dict[str, int]
    mixed_formats: bool


class ProfileOut(BaseModel):
    sheet: str | None
    status: AnalysisStatus
    rows: int
    header_row: int | None
    data_rows: int
    blank_rows: int
    columns: list[ColumnProfileOut]


class RuleOut(BaseModel):
    family: str
    code: str
    severity: str
    title: str
    description: str
    enabled: bool


class QualityOut(BaseModel):
    sheet: str | None
    status: AnalysisStatus
    rows: int
    header_row: int | None
    counts: dict[str, int] = Field(description="findings per code (all of them, also past the listed ones)")
    errors: int
    warnings: int
    rules: list[RuleOut]
    items: list[IssueOut]
    next: str | None = None


class ReviewIn(InSchema):
    sheet: str | None = Field(None, max_length=255, description="Default: the import's sheet")


class ReviewOut(BaseModel):
    id: uuid.UUID
    import_id: uuid.UUID
    sheet: str | None
    status: ReviewStatus
    progress: int
    stage: str
    provider: str
    model: str
    prompt_version: str
    attempts: int
    input_tokens: int
    output_tokens: int
    cost: str = Field(json_schema_extra=_DECIMAL)
    cached: bool = Field(description="Answered from the cache: nothing was sent or paid")
    summary: str | None
    findings: list[IssueOut]
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class SpendOut(BaseModel):
    month: str = Field(examples=["2025-03"])
    spent: str = Field(json_schema_extra=_DECIMAL)
    reserved: str = Field(json_schema_extra=_DECIMAL, description="held by reviews still running")
    cap: str = Field(json_schema_extra=_DECIMAL)
    remaining: str = Field(json_schema_extra=_DECIMAL)
    reviews: int
    cached_reviews: int
    input_tokens: int
    output_tokens: int
    review_enabled: bool


class QualitySettingsOut(BaseModel):
    rules: list[RuleOut]
    review_enabled: bool
    review_enabled_at: dt.datetime | None
    review_available: bool = Field(description="An LLM provider is configured on this server")
    provider: str | None
    model: str | None
    monthly_cap: str = Field(json_schema_extra=_DECIMAL)
    monthly_cap_is_default: bool
    notice_version: str
    notice: str = Field(description="Exactly what a review sends to the model provider")


class QualitySettingsIn(InSchema):
    disabled_rules: list[str] | None = Field(None, max_length=32, description="rule families switched off")
    review_enabled: StrictBool | None = None
    notice_accepted: str | None = Field(None, max_length=16,
                                        description="The notice version read and accepted (needed to turn the review on)")
    monthly_cap: str | None = Field(None, max_length=20, description="decimal string; null keeps it")
    monthly_cap_default: StrictBool | None = Field(None, description="true: back to LLM_MONTHLY_SPEND_CAP")
