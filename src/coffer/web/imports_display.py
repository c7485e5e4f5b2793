"""What the import pages show, shaped from an import and its staged rows: progress, cells with their
issues, the file's header and sample rows for the mapping editor. No writes; the only read beyond the
objects given are the commit count and the file preview (the upload on disk, first rows only, cached)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from itertools import islice
from typing import Any

from django.core.cache import cache

from coffer.imports import selectors, staging
from coffer.imports.models import ImportBatch, StagedRow
from coffer.web import forms_imports

Status = ImportBatch.Status
RUNNING = {Status.QUEUED, Status.READING, Status.VALIDATING, Status.COMMITTING}
SAMPLE_ROWS = 5
PREVIEW_SCAN_ROWS = 200  # rows read past the header to find samples (blank lines are skipped)
PREVIEW_SECONDS = 3600


# --- the import as a whole --------------------------------------------------------------


def is_running(batch: ImportBatch) -> bool:
    return batch.status in RUNNING


def sheet_info(batch: ImportBatch) -> dict[str, Any] | None:
    """The reader's size of the sheet that was read (CSV: its one unnamed sheet)."""
    for info in batch.sheets or []:
        if (info.get("name") or "") == (batch.sheet or ""):
            return info
    return None


def progress(batch: ImportBatch) -> dict[str, Any]:
    """{"percent": 0..100 or None (not known yet), "label": what is happening}."""
    if batch.status == Status.QUEUED:
        return {"percent": None, "label": "Waiting for a worker…"}
    if batch.status == Status.READING:
        return {"percent": None, "label": "Opening the file and finding the header…"}
    if batch.status == Status.COMMITTING:
        return {"percent": None, "label": "Writing the rows to the ledger…"}
    if batch.status == Status.VALIDATING:
        info = sheet_info(batch) or {}
        total = max(int(info.get("rows") or 0) - int(batch.header_row or 0), 0)
        label = f"Checked {batch.rows_validated:,} rows" + (f" of about {total:,}" if total else "") + "…"
        percent = min(99, batch.rows_validated * 100 // total) if total else None
        return {"percent": percent, "label": label}
    return {"percent": 100, "label": batch.get_status_display()}


def status_context(*, tenant, batch: ImportBatch) -> dict[str, Any]:
    """What the import's status card shows (its page, the polling partial and the issue view's bar)."""
    review = batch.status == Status.REVIEW
    return {
        "batch": batch, "running": is_running(batch), "progress": progress(batch),
        "commit_count": selectors.import_commit_count(tenant=tenant, batch=batch) if review else None,
        "mapped": sorted(((letter, forms_imports.FIELD_LABELS.get(field, field))
                          for field, letter in selectors.mapping_letters(batch.mapping).items()),
                         key=lambda pair: (len(pair[0]), pair[0])),
    }


def column_count(batch: ImportBatch, rows: list[StagedRow] = ()) -> int:
    info = sheet_info(batch) or {}
    mapped = max((int(index) + 1 for index in (batch.mapping or {}).values()), default=0)
    widest = max((len(row.raw or []) for row in rows), default=0)
    return max(int(info.get("columns") or 0), mapped, widest)


def mapped_fields(batch: ImportBatch) -> dict[str, str]:
    """column letter -> the label of the field it is mapped to."""
    return {selectors.column_letter(int(index)): forms_imports.FIELD_LABELS.get(field, field)
            for field, index in (batch.mapping or {}).items()}


# --- rows -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Cell:
    letter: str
    value: str
    severity: str = ""  # "error", "warning" or ""
    title: str = ""  # the issues' messages, for the hover


@dataclasses.dataclass
class RowView:
    row: StagedRow
    cells: list[Cell]
    issues: list[dict[str, Any]]
    row_severity: str  # of the issues about the whole row (no column)
    row_title: str
    will_import: bool
    state: str  # what commit will do with the row, for a person

    @property
    def number(self) -> int:
        return self.row.row_number


def will_import(row: StagedRow) -> bool:
    """The rule of services.import_commit (and selectors.WILL_IMPORT) for one row in hand."""
    return (not row.has_error and not row.excluded and row.fingerprint is not None
            and (not row.is_duplicate or row.import_anyway))


def _state(row: StagedRow) -> str:
    if row.excluded:
        return "Excluded"
    if row.has_error:
        return "Not imported: fix the error"
    if row.is_duplicate and not row.import_anyway:
        return "Duplicate: skipped"
    if row.is_duplicate:
        return "Duplicate: imported anyway"
    if row.fingerprint is None:
        return "Not imported"
    return "Will be imported"


def _worst(found: list[dict[str, Any]]) -> str:
    if not found:
        return ""
    return "error" if any(issue.get("severity") == "error" for issue in found) else "warning"


def _title(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{issue.get('code')}: {issue.get('message')}" for issue in found)


def row_view(row: StagedRow, *, columns: int) -> RowView:
    found = selectors.row_issues(row)
    by_letter: dict[str, list[dict[str, Any]]] = {}
    whole_row = []
    for issue in found:
        letter = issue.get("column")
        if letter and selectors.column_index(letter) is not None:
            by_letter.setdefault(str(letter).upper(), []).append(issue)
        else:
            whole_row.append(issue)
    raw = list(row.raw or [])
    cells = []
    for index in range(max(columns, len(raw))):
        letter = selectors.column_letter(index)
        on_cell = by_letter.get(letter, [])
        cells.append(Cell(letter=letter, value=raw[index] if index < len(raw) else "", severity=_worst(on_cell),
                          title=_title(on_cell)))
    return RowView(row=row, cells=cells, issues=found, row_severity=_worst(whole_row), row_title=_title(whole_row),
                   will_import=will_import(row), state=_state(row))


def padded_cells(row: StagedRow, *, columns: int) -> list[str]:
    raw = [str(cell) for cell in row.raw or []]
    return raw + [""] * (columns - len(raw))


# --- the file's first rows, for the mapping editor -----------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def preview(batch: ImportBatch) -> dict[str, Any]:
    """{"header": [cell text], "samples": [[cell text]], "error": ""} from the stored upload: the header row
    and the first few non-blank rows below it. Reads only those rows; cached per file, sheet and header."""
    sheet = hashlib.sha256((batch.sheet or "").encode()).hexdigest()[:16]  # any text: keep the key plain
    key = f"coffer:import-preview:{batch.pk}:{batch.sha256}:{sheet}:{batch.header_row}"
    found = cache.get(key)
    if found is not None:
        return found
    header: list[str] = []
    samples: list[list[str]] = []
    try:
        from coffer.imports import readers

        workbook = readers.open_workbook(staging.file_path(batch), limits=staging.import_limits())
        try:
            rows = workbook.iter_rows(batch.sheet or None)
            for raw in islice(rows, (batch.header_row or 0) + PREVIEW_SCAN_ROWS):
                if batch.header_row and raw.number < batch.header_row:
                    continue
                if batch.header_row and raw.number == batch.header_row:
                    header = [_text(cell) for cell in raw.cells]
                elif not raw.is_blank():
                    samples.append([_text(cell) for cell in raw.cells])
                    if len(samples) >= SAMPLE_ROWS:
                        break
        finally:
            workbook.close()
    except (*staging.read_errors(), OSError) as exc:
        return {"header": [], "samples": [], "error": str(exc) or "The file cannot be read."}
    found = {"header": header, "samples": samples, "error": ""}
    cache.set(key, found, PREVIEW_SECONDS)
    return found


def mapping_columns(form: forms_imports.MappingForm, found: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per column: its letter, header, sample values and its bound dropdown."""
    columns = []
    for index, bound in enumerate(form.column_fields()):
        columns.append({
            "letter": form.letters[index],
            "header": found["header"][index] if index < len(found["header"]) else "",
            "samples": [row[index] for row in found["samples"] if index < len(row) and row[index] != ""],
            "field": bound,
            "label": forms_imports.FIELD_LABELS.get(bound.value() or "", "") if bound.value() else "",
        })
    return columns
