"""Reading an uploaded file into the staging table, chunk by chunk, then finding duplicates in SQL.

The pure half (sniffing, reading, mapping detection, parsing, rules) lives in the reader
modules; this module only drives it and writes what it yields: `run(batch_id=...)` is the
whole background job. It is idempotent: a run deletes the batch's staged rows and starts
over, and a batch already in review (or later) is left alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import operator
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from coffer import money
from coffer.ids import new_id, new_ids
from coffer.imports.models import ImportBatch, MappingPreset, StagedRow
from coffer.ops import jobs as ops_jobs

logger = logging.getLogger(__name__)

Status = ImportBatch.Status
RUNNABLE = {Status.QUEUED, Status.READING, Status.VALIDATING}

_AMOUNT_LIMIT = Decimal(10) ** (money.AMOUNT_MAX_DIGITS - money.AMOUNT_DECIMAL_PLACES)
_SPACES = re.compile(r"\s+")

# Columns written per staged row, in COPY order.
COLUMNS = [
    "tenant_id", "batch_id", "row_number", "transaction_id", "booked_on", "value_on", "amount", "balance",
    "description", "counterparty", "reference", "currency", "category", "raw", "issues", "issue_codes",
    "has_error", "has_warning", "fingerprint_base", "occurrence", "fingerprint", "content_hash",
    "is_duplicate", "duplicate_of_row", "duplicate_of_transaction", "excluded", "import_anyway",
    "accepted_warnings", "edited",
]


def file_path(batch: ImportBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / batch.file_path


# --- the reader modules (pure; owned by the reader half) -------------------
# Everything this module needs from sniff/readers/mapping/parsing/rules goes through
# these four functions, so a change in that contract is a change here only.


@dataclasses.dataclass
class Opened:
    workbook: Any
    format: str
    sheet: str | None
    sheets: list[dict[str, Any]]
    detection: Any | None  # Detection(header_row, mapping, confidence, signature)


def read_errors() -> tuple[type[Exception], ...]:
    from coffer.imports import readers

    return (readers.UnreadableFile, readers.LimitExceeded)


def import_limits() -> Any:
    from coffer.imports import readers

    return readers.ImportLimits.from_settings()


def open_file(path: Path, *, limits: Any, sheet: str | None) -> Opened:
    from coffer.imports import mapping as mapping_detection
    from coffer.imports import readers

    workbook = readers.open_workbook(path, limits=limits)
    sheets = [{"name": info.name, "rows": info.rows, "columns": info.columns} for info in workbook.sheets]
    if sheet is not None and sheet not in {info["name"] for info in sheets}:
        names = ", ".join(repr(info["name"]) for info in sheets)
        raise readers.UnreadableFile(f"The file has no sheet named {sheet!r}; its sheets are {names}")
    chosen = sheet if sheet is not None else readers.choose_sheet(workbook)
    detection = mapping_detection.detect(workbook, chosen)
    return Opened(workbook=workbook, format=workbook.format, sheet=chosen, sheets=sheets, detection=detection)


def parse_rows(opened: Opened, *, header_row: int | None, mapping: dict[str, int],
               account_currency: str) -> tuple[dict[str, Any], Iterator[Any]]:
    """The column formats decided from the file, and ParsedRow after ParsedRow with the rules applied."""
    from coffer.imports import parsing, rules

    stream = parsing.parse_rows(opened.workbook, opened.sheet, header_row=header_row, mapping=mapping)
    return stream.formats.as_dict(), rules.apply(stream, account_currency=account_currency)


def reparse_row(batch: ImportBatch, *, row_number: int, cells: list[str]) -> Any:
    """One edited row parsed again with the batch's mapping and column formats, so 03/04 reads as
    the rest of its column did; per-row rules only (no balance or outlier sequence)."""
    from coffer.imports import parsing, rules

    parsed = parsing.parse_row(row_number, cells, mapping=batch.mapping, formats=batch.formats or None)
    return rules.check_row(parsed, account_currency=batch.account.currency)


# --- the job ---------------------------------------------------------------


@ops_jobs.import_job("stage")
def run(*, batch_id: uuid.UUID | str) -> None:
    """Read, validate and stage the batch's file; leave it in review (or failed, with a message)."""
    batch = _claim(batch_id)
    if batch is None:
        return
    try:
        _stage(batch)
    except Exception as exc:
        if _is_read_error(exc):
            _fail(batch, str(exc))
            return
        logger.exception("import %s failed", batch.pk)
        _fail(batch, "The file could not be imported because of an internal error; it has been logged.")
        raise


def _is_read_error(exc: Exception) -> bool:
    try:
        return isinstance(exc, read_errors())
    except ImportError:
        return False


def _claim(batch_id: uuid.UUID | str) -> ImportBatch | None:
    """Lock the batch, refuse to re-run finished ones, clear what an earlier attempt left."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status not in RUNNABLE:
            return None
        StagedRow.objects.filter(tenant_id=batch.tenant_id, batch=batch).delete()
        batch.status = Status.READING
        batch.attempts += 1
        batch.error = ""
        batch.started_at = timezone.now()
        batch.finished_at = None
        for counter in ("rows_read", "rows_validated", "rows_written", "rows_total", "rows_valid",
                        "rows_with_errors", "rows_duplicate", "rows_committed"):
            setattr(batch, counter, 0)
        batch.save()
    return batch


def _fail(batch: ImportBatch, message: str) -> None:
    with transaction.atomic():
        StagedRow.objects.filter(tenant_id=batch.tenant_id, batch=batch).delete()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.FAILED, error=message[:2000], finished_at=timezone.now(), rows_read=0,
            rows_validated=0, rows_written=0, rows_total=0, rows_valid=0, rows_with_errors=0, rows_duplicate=0,
            updated_at=timezone.now(),
        )
    batch.refresh_from_db()


def _stage(batch: ImportBatch) -> None:
    clock = PhaseClock()
    limits = import_limits()
    with clock("open"):
        opened = open_file(file_path(batch), limits=limits, sheet=batch.sheet or None)
        mapping, header_row, source, confidence = _choose_mapping(batch, opened)
    batch.format = opened.format
    batch.sheet = opened.sheet or ""
    batch.sheets = opened.sheets
    batch.signature = opened.detection.signature if opened.detection else batch.signature
    batch.mapping, batch.header_row, batch.mapping_source, batch.mapping_confidence = (
        mapping, header_row, source, confidence,
    )
    with clock("read_parse"):
        batch.formats, rows = parse_rows(opened, header_row=header_row, mapping=mapping,
                                         account_currency=batch.account.currency)
    batch.status = Status.VALIDATING
    batch.save()

    written = 0
    chunks = _chunks(rows, settings.IMPORT_CHUNK_ROWS)
    while True:
        with clock("read_parse"):
            chunk = next(chunks, None)
        if chunk is None:
            break
        with clock("prepare"):
            staged = [staged_values(batch, row, transaction_id=transaction_id)
                      for row, transaction_id in zip(chunk, new_ids(len(chunk)))]
        with clock("write"):
            write_rows(staged)
            written += len(staged)
            ImportBatch.objects.filter(pk=batch.pk).update(
                rows_read=written, rows_validated=written, rows_written=written, updated_at=timezone.now()
            )
    with clock("duplicates"):
        mark_duplicates(batch)
    with clock("summary"):
        summarise(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(status=Status.REVIEW, finished_at=timezone.now())
    batch.refresh_from_db()
    logger.info("import %s staged: %d rows", batch.pk, written,
                extra={"rows": written, "seconds_by_phase": clock.rounded()})


class PhaseClock:
    """Wall-clock seconds per named phase of a job, summed over every time the phase runs."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

    def rounded(self) -> dict[str, float]:
        return {phase: round(seconds, 3) for phase, seconds in self.seconds.items()}


def _choose_mapping(batch: ImportBatch, opened: Opened) -> tuple[dict, int | None, str, float | None]:
    """A person's mapping wins, then the tenant's preset for this header signature, then detection."""
    if batch.mapping_source == "user" and batch.mapping:
        return batch.mapping, batch.header_row, "user", 1.0
    detection = opened.detection
    if detection is not None and detection.signature:
        preset = MappingPreset.objects.filter(tenant_id=batch.tenant_id, signature=detection.signature).first()
        if preset is not None:
            return preset.mapping, preset.header_row or detection.header_row, "preset", 1.0
    if detection is None:
        return {}, None, "detected", 0.0
    return dict(detection.mapping), detection.header_row, "detected", float(detection.confidence)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- one row ---------------------------------------------------------------


def issue_dict(issue: Any) -> dict[str, Any]:
    if isinstance(issue, dict):
        data = dict(issue)
    elif dataclasses.is_dataclass(issue):
        data = dataclasses.asdict(issue)
    else:
        data = dict(vars(issue))
    severity = data.get("severity")
    data["severity"] = getattr(severity, "value", severity)
    value = data.get("value")
    if value is not None and not isinstance(value, (str, int, bool)):
        data["value"] = str(value)
    return {key: data.get(key) for key in ("row", "column", "code", "severity", "message", "value")}


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value)).strip()[:limit]


def normalise_description(text: str) -> str:
    return _SPACES.sub(" ", (text or "").strip().casefold())


def fingerprint_base(*, account_id: Any, booked_on: dt.date | None, amount: Decimal | None, description: str,
                     reference: str) -> str | None:
    """Identity of a transaction without its occurrence number: account, date, amount, text, reference."""
    if booked_on is None or amount is None:
        return None
    key = "\x1f".join([str(account_id), booked_on.isoformat(), f"{amount:.4f}",
                       normalise_description(description), (reference or "").strip()])
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _content_hash(values: dict[str, Any]) -> str | None:
    if values["has_error"]:
        return None
    key = "\x1f".join(
        "" if values[name] is None else str(values[name])
        for name in ("booked_on", "value_on", "amount", "balance", "description", "counterparty", "reference",
                     "currency", "category")
    )
    return hashlib.sha256(key.encode()).hexdigest()[:48]


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite() or abs(amount) >= _AMOUNT_LIMIT:
        return None
    return amount.quantize(Decimal("0.0001"))


def staged_values(batch: ImportBatch, row: Any, *, transaction_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The staging columns for one parsed row (occurrence, fingerprint and duplicates come later, in SQL)."""
    issues = [issue_dict(issue) for issue in (row.issues or [])]
    values: dict[str, Any] = {
        "tenant_id": batch.tenant_id,
        "batch_id": batch.pk,
        "row_number": row.number,
        "transaction_id": transaction_id or new_id(),
        "booked_on": row.booked_on,
        "value_on": row.value_on,
        "amount": _amount(row.amount),
        "balance": _amount(row.balance),
        "description": _text(row.description, 500),
        "counterparty": _text(row.counterparty, 200),
        "reference": _text(row.reference, 200),
        "currency": _text(row.currency, 3).upper(),
        "category": _text(row.category, 120),
        "raw": ["" if cell is None else str(cell) for cell in (row.raw or [])],
        "issues": issues,
        "issue_codes": ("," + ",".join(dict.fromkeys(i["code"] for i in issues)) + ",") if issues else "",
        "has_error": any(i["severity"] == "error" for i in issues),
        "has_warning": any(i["severity"] != "error" for i in issues),
        "occurrence": 1,
        "fingerprint": None,
        "is_duplicate": False,
        "duplicate_of_row": None,
        "duplicate_of_transaction": None,
        "excluded": False,
        "import_anyway": False,
        "accepted_warnings": False,
        "edited": False,
    }
    if row.amount is not None and values["amount"] is None and not values["has_error"]:
        problem = {"row": row.number, "column": None, "code": "E_AMOUNT_INVALID", "severity": "error",
                   "message": "The amount is too large to be stored.", "value": str(row.amount)}
        values["issues"].append(problem)
        values["issue_codes"] = (values["issue_codes"] or ",") + "E_AMOUNT_INVALID,"
        values["has_error"] = True
    values["fingerprint_base"] = None if values["has_error"] else fingerprint_base(
        account_id=batch.account_id, booked_on=values["booked_on"], amount=values["amount"],
        description=values["description"], reference=values["reference"],
    )
    # As a first occurrence; mark_duplicates renumbers the (few) rows that repeat another.
    values["fingerprint"] = None if values["fingerprint_base"] is None else values["fingerprint_base"] + "-1"
    values["content_hash"] = _content_hash(values)
    return values


# --- writing ---------------------------------------------------------------


_UUID_COLUMNS = {"tenant_id", "batch_id", "transaction_id", "duplicate_of_transaction"}
_JSON_COLUMNS = {"raw", "issues"}


def write_rows(rows: list[dict[str, Any]]) -> None:
    """Bulk-write staged rows: COPY on PostgreSQL, one prepared INSERT run for the whole chunk elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_rows(rows)
    else:
        _insert_rows(rows)


def _hex(value: Any) -> Any:
    return None if value is None else (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex


def _insert_rows(rows: list[dict[str, Any]]) -> None:
    """executemany of one INSERT in one transaction: the driver loops in C. (bulk_create builds SQL
    for 34 rows at a time on SQLite and prepares every value through its field, ten times slower.)
    Values go as the backend stores them: decimals and dates through the driver's adapters, UUIDs
    as hex where the database has no uuid type, JSON as text."""
    native_uuid = connection.features.has_native_uuid_field
    converters = [
        json.dumps if name in _JSON_COLUMNS else _hex if name in _UUID_COLUMNS and not native_uuid else None
        for name in COLUMNS
    ]
    pairs = list(zip(COLUMNS, converters))
    params = [[row[name] if convert is None else convert(row[name]) for name, convert in pairs] for row in rows]
    table = connection.ops.quote_name(StagedRow._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})", params)


_IN_COPY_ORDER = operator.itemgetter(*COLUMNS)
_RAW, _ISSUES = COLUMNS.index("raw"), COLUMNS.index("issues")


def _copy_rows(rows: list[dict[str, Any]]) -> None:
    table = StagedRow._meta.db_table
    statement = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
    dumps = json.dumps
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = list(_IN_COPY_ORDER(row))
            values[_RAW] = dumps(values[_RAW])
            values[_ISSUES] = dumps(values[_ISSUES]) if values[_ISSUES] else "[]"
            copy.write_row(values)


# --- duplicates and summary, in SQL ---------------------------------------


def _db_uuid(value: Any) -> Any:
    return models.UUIDField().get_db_prep_value(value, connection)


def mark_duplicates(batch: ImportBatch) -> None:
    """Number identical rows in statement order, flag lines repeated in the file and rows already in the account.

    Identical = same account, date, amount, normalised description and reference; the n-th
    such row gets occurrence n and the fingerprint base-n, so two genuine coffees both import
    and a re-import of the same file meets the same fingerprints. A line that repeats an earlier
    one in every column (running balance included) is a pasted duplicate: flagged, skipped.
    Rows are staged as first occurrences (fingerprint base-1), so only rows whose key repeats,
    or that carry a mark from an earlier run or an edit, are numbered and rewritten: a window over those
    alone, complete for every repeated key; on a file of unique rows the UPDATE reads the batch
    twice (grouped) and writes next to nothing.
    """
    staged = StagedRow._meta.db_table
    ledger = "ledger_transaction"
    batch_id, tenant_id, account_id = _db_uuid(batch.pk), _db_uuid(batch.tenant_id), _db_uuid(batch.account_id)
    differs = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"  # NULL-safe <>
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Grouping and window sorts over the batch: in memory, not in temporary files (this transaction only).
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            f"""
            UPDATE {staged} SET
              occurrence = w.occ, fingerprint = w.fingerprint, is_duplicate = w.is_duplicate,
              duplicate_of_row = w.duplicate_of_row, duplicate_of_transaction = NULL
            FROM (
              SELECT id, occ,
                     CASE WHEN fingerprint_base IS NULL THEN NULL
                          ELSE fingerprint_base || '-' || CAST(occ AS TEXT) END AS fingerprint,
                     CASE WHEN first_row < row_number THEN TRUE ELSE FALSE END AS is_duplicate,
                     CASE WHEN first_row < row_number THEN first_row ELSE NULL END AS duplicate_of_row
              FROM (
                SELECT id, row_number, fingerprint_base,
                       ROW_NUMBER() OVER (PARTITION BY fingerprint_base ORDER BY row_number) AS occ,
                       CASE WHEN content_hash IS NULL THEN NULL
                            ELSE MIN(row_number) OVER (PARTITION BY content_hash) END AS first_row
                FROM {staged} WHERE tenant_id = %s AND batch_id = %s AND (
                  occurrence <> 1 OR is_duplicate OR duplicate_of_transaction IS NOT NULL
                  OR fingerprint {differs} (CASE WHEN fingerprint_base IS NULL THEN NULL
                                                 ELSE fingerprint_base || '-1' END)
                  OR fingerprint_base IN (SELECT fingerprint_base FROM {staged}
                                          WHERE tenant_id = %s AND batch_id = %s AND fingerprint_base IS NOT NULL
                                          GROUP BY fingerprint_base HAVING COUNT(*) > 1)
                  OR content_hash IN (SELECT content_hash FROM {staged}
                                      WHERE tenant_id = %s AND batch_id = %s AND content_hash IS NOT NULL
                                      GROUP BY content_hash HAVING COUNT(*) > 1))
              ) AS numbered
            ) AS w
            WHERE {staged}.id = w.id
              AND ({staged}.occurrence <> w.occ OR {staged}.is_duplicate <> w.is_duplicate
                   OR {staged}.fingerprint {differs} w.fingerprint
                   OR {staged}.duplicate_of_row {differs} w.duplicate_of_row
                   OR {staged}.duplicate_of_transaction IS NOT NULL)
            """,
            [tenant_id, batch_id] * 3,
        )
        cursor.execute(
            f"""
            UPDATE {staged} SET is_duplicate = TRUE, duplicate_of_transaction = t.id
            FROM {ledger} AS t
            WHERE {staged}.tenant_id = %s AND {staged}.batch_id = %s AND {staged}.fingerprint IS NOT NULL
              AND t.tenant_id = %s AND t.account_id = %s AND t.fingerprint = {staged}.fingerprint
              AND (t.import_batch_id IS NULL OR t.import_batch_id <> %s)
            """,
            [tenant_id, batch_id, tenant_id, account_id, batch_id],
        )


def summarise(batch: ImportBatch) -> None:
    """Store the batch's summary counts from its staged rows."""
    counts = StagedRow.objects.filter(tenant_id=batch.tenant_id, batch=batch).aggregate(
        total=models.Count("id"),
        errors=models.Count("id", filter=models.Q(has_error=True)),
        duplicates=models.Count("id", filter=models.Q(is_duplicate=True)),
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_total=counts["total"], rows_with_errors=counts["errors"], rows_duplicate=counts["duplicates"],
        rows_valid=counts["total"] - counts["errors"], updated_at=timezone.now(),
    )
