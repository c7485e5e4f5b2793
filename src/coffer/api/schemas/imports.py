"""Imports on the wire: the batch, its mapping, staged rows and their issues.

Columns are spreadsheet letters ("A", "AB") and rows the numbers the spreadsheet shows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from coffer.api.schemas.common import InSchema, MoneyOut

RowFilter = Literal["errors", "warnings", "duplicates", "excluded", "valid"]
Severity = Literal["error", "warning"]
ImportStatus = Literal["queued", "reading", "validating", "review", "committing", "committed", "failed", "undone"]
MAX_BULK_ROWS = 1000


class SheetOut(BaseModel):
    name: str | None = Field(description="None for CSV files")
    rows: int | None = None
    columns: int | None = None


class ProgressOut(BaseModel):
    rows_read: int
    rows_validated: int
    rows_written: int


class SummaryOut(BaseModel):
    rows_total: int
    rows_valid: int
    rows_with_errors: int
    rows_duplicate: int
    rows_committed: int


class ImportOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    file_name: str
    size: int
    sha256: str
    format: str
    status: ImportStatus
    sheet: str | None
    sheets: list[SheetOut]
    header_row: int | None
    mapping: dict[str, str] = Field(description="field -> column letter")
    mapping_confidence: float | None
    mapping_source: str
    progress: ProgressOut
    summary: SummaryOut
    error: str | None
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    committed_at: dt.datetime | None
    undone_at: dt.datetime | None


class IssueOut(BaseModel):
    row: int | None
    column: str | None
    code: str
    severity: str
    message: str
    value: str | int | bool | None = None


class MappingOut(BaseModel):
    sheet: str | None
    sheets: list[SheetOut]
    header_row: int | None
    mapping: dict[str, str] = Field(description="field -> column letter")
    confidence: float | None
    source: str
    signature: str


class MappingIn(InSchema):
    mapping: dict[str, str | StrictInt] = Field(
        description="field -> column letter (or 0-based index); fields: date, value_date, description, "
        "counterparty, reference, amount, debit, credit, balance, currency, category",
        max_length=32,
    )
    header_row: StrictInt | None = Field(None, ge=1)
    sheet: str | None = Field(None, max_length=255)


class RowValuesOut(BaseModel):
    booked_on: dt.date | None
    value_on: dt.date | None
    amount: MoneyOut | None
    balance: MoneyOut | None
    description: str
    counterparty: str
    reference: str
    currency: str
    category: str


class RowFlagsOut(BaseModel):
    has_error: bool
    has_warning: bool
    is_duplicate: bool
    duplicate_of_row: int | None
    duplicate_of_transaction: uuid.UUID | None
    excluded: bool
    import_anyway: bool
    accepted_warnings: bool
    edited: bool
    will_import: bool = Field(description="The row goes into the ledger on commit as it stands")


class StagedRowOut(BaseModel):
    row_number: int
    values: RowValuesOut
    cells: dict[str, str] = Field(description="raw cells by column letter, as read")
    issues: list[IssueOut]
    flags: RowFlagsOut


class RowPatch(InSchema):
    cells: dict[str, str | None] | None = Field(None, description="column letter -> new raw text", max_length=64)
    excluded: StrictBool | None = None
    import_anyway: StrictBool | None = None
    accepted_warnings: StrictBool | None = None


class RowsBulkIn(InSchema):
    rows: list[StrictInt] = Field(min_length=1, max_length=MAX_BULK_ROWS, description="row numbers")
    excluded: StrictBool | None = Field(None, description="true: exclude, false: include again")
    import_anyway: StrictBool | None = None
    accepted_warnings: StrictBool | None = None


class RowsBulkOut(BaseModel):
    updated: int


class PresetOut(BaseModel):
    id: uuid.UUID
    signature: str
    mapping: dict[str, str]
    header_row: int | None
