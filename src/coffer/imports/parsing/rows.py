"""From raw rows to `ParsedRow`s: one parser per file, with column-wide decisions made once.

    formats = ColumnFormats.from_sample(mapping, sample_rows)   # date order, decimal mark per column
    parser = RowParser(mapping, formats)
    parsed = parser.parse(raw_row)                               # ParsedRow with its row-level issues

Required: a booking date and an amount (one amount column, or debit and/or credit). A missing
one is E_REQUIRED_MISSING on its column; an unreadable one E_DATE_INVALID / E_AMOUNT_INVALID
with the raw value. Debit columns are outflows (negative) whatever their sign in the file.
A spreadsheet error value (#REF!, #N/A) in a mapped cell is E_CELL_ERROR where the transaction
needs the field, W_CELL_ERROR (field left empty) where it is optional.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from coffer import errors as domain_errors
from coffer import money
from coffer.imports import issues
from coffer.imports.parsing import amounts, dates
from coffer.imports.readers import base

FIELDS = ("date", "value_date", "description", "counterparty", "reference", "amount", "debit", "credit",
          "direction", "balance", "currency", "category")
DATE_FIELDS = ("date", "value_date")
AMOUNT_FIELDS = ("amount", "debit", "credit", "balance")
_WHITESPACE = re.compile(r"\s+")
_DEBIT_WORDS = {"af", "d", "dr", "debit", "debet", "s", "soll", "out", "withdrawal", "cargo", "dare", "-"}
_CREDIT_WORDS = {"bij", "c", "cr", "credit", "h", "haben", "in", "deposit", "abono", "avere", "+"}


@dataclasses.dataclass(slots=True)
class ParsedRow:
    number: int
    booked_on: dt.date | None = None
    value_on: dt.date | None = None
    amount: Decimal | None = None
    balance: Decimal | None = None
    description: str = ""
    counterparty: str = ""
    reference: str = ""
    currency: str = ""
    category: str = ""
    raw: list[Any] = dataclasses.field(default_factory=list)
    issues: list[issues.Issue] = dataclasses.field(default_factory=list)
    amount_column: str | None = None  # letter of the cell the amount came from (debit or credit layouts)
    columns: Mapping[str, str] = dataclasses.field(default_factory=dict)  # field -> letter (shared)

    @property
    def has_error(self) -> bool:
        return any(issue.severity == "error" for issue in self.issues)


def normalise_mapping(mapping: Mapping[str, int | str]) -> dict[str, int]:
    """Accept {field: 0-based index} or {field: "A"}; refuse unknown fields and incomplete layouts."""
    result: dict[str, int] = {}
    for field, where in mapping.items():
        if field not in FIELDS:
            raise domain_errors.ValidationError(f"{field!r} is not a field a column can be mapped to",
                                                field_errors={"mapping": f"Unknown field {field!r}."})
        if where is None or where == "":
            continue
        try:
            index = issues.column_index(where) if isinstance(where, str) else int(where)
        except ValueError:
            raise domain_errors.ValidationError(f"{where!r} is not a column", field_errors={"mapping": field}) from None
        if index < 0:
            raise domain_errors.ValidationError(f"{where!r} is not a column", field_errors={"mapping": field})
        result[field] = index
    return result


@dataclasses.dataclass(frozen=True)
class ColumnFormats:
    """Per-column decisions; JSON-able through as_dict/from_dict so an edited row re-parses alike."""

    dates: dict[str, dates.DateColumn] = dataclasses.field(default_factory=dict)
    amounts: dict[str, amounts.AmountColumn] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_sample(cls, mapping: Mapping[str, int], rows: Iterable[base.RawRow]) -> ColumnFormats:
        columns: dict[str, list[Any]] = {f: [] for f in (*DATE_FIELDS, *AMOUNT_FIELDS) if f in mapping}
        for row in rows:
            for field, values in columns.items():
                index = mapping[field]
                if index < len(row.cells) and row.cells[index] is not None:
                    values.append(row.cells[index])
        date_columns = {f: dates.DateColumn.from_sample(v) for f, v in columns.items() if f in DATE_FIELDS}
        amount_values = [v for f, vs in columns.items() if f in AMOUNT_FIELDS for v in vs]
        # One locale per file: every amount column shares the decimal mark the file proves.
        shared = amounts.AmountColumn.from_sample(amount_values)
        amount_columns = {f: shared for f in columns if f in AMOUNT_FIELDS}
        return cls(dates=date_columns, amounts=amount_columns)

    def as_dict(self) -> dict[str, Any]:
        return {"dates": {f: c.as_dict() for f, c in self.dates.items()},
                "amounts": {f: {"decimal_mark": c.decimal_mark} for f, c in self.amounts.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnFormats:
        return cls(dates={f: dates.DateColumn(**c) for f, c in data.get("dates", {}).items()},
                   amounts={f: amounts.AmountColumn(**c) for f, c in data.get("amounts", {}).items()})


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _WHITESPACE.sub(" ", str(value)).strip()


_FIELD_NAMES = {"date": "date", "value_date": "value date", "amount": "amount", "debit": "debit amount",
                "credit": "credit amount", "balance": "balance", "description": "description",
                "counterparty": "counterparty", "reference": "reference", "category": "category",
                "currency": "currency", "direction": "debit/credit indicator"}
# A spreadsheet error in one of these blocks the row; elsewhere the field is left empty.
_NEEDED = {"date", "amount", "debit", "credit", "direction", "description", "reference", "currency"}


class RowParser:
    def __init__(self, mapping: Mapping[str, int | str], formats: ColumnFormats | None = None):
        self.mapping = normalise_mapping(mapping)
        self.formats = formats or ColumnFormats()
        self.columns = {field: issues.column_letter(index) for field, index in self.mapping.items()}

    @classmethod
    def from_sample(cls, mapping: Mapping[str, int | str], sample_rows: Iterable[base.RawRow]) -> RowParser:
        clean = normalise_mapping(mapping)
        return cls(clean, ColumnFormats.from_sample(clean, sample_rows))

    def cell(self, row: base.RawRow, field: str) -> Any:
        index = self.mapping.get(field)
        if index is None or index >= len(row.cells):
            return None
        return row.cells[index]

    def has_date(self, row: base.RawRow) -> bool:
        value = self.cell(row, "date")
        try:
            self._date_column("date").parse(value)
        except dates.InvalidDate:
            return False
        return value is not None

    def parse(self, row: base.RawRow) -> ParsedRow:
        parsed = ParsedRow(number=row.number, raw=row.cells, columns=self.columns)
        found: list[issues.Issue] = parsed.issues
        parsed.booked_on = self._date(row, "date", required=True, found=found)
        if "value_date" in self.mapping:
            parsed.value_on = self._date(row, "value_date", required=False, found=found)
        self._amount(row, parsed, found)
        if "balance" in self.mapping:
            try:
                parsed.balance = self._number(row, "balance", found=found, invalid_code=issues.W_BALANCE_INVALID)
            except amounts.InvalidAmount:
                parsed.balance = None
        for field in ("description", "counterparty", "reference", "category"):
            value = self.cell(row, field)
            if isinstance(value, base.ErrorCell):
                found.append(self._cell_error(row, field, value))
                value = None
            setattr(parsed, field, cell_text(value))
        if "currency" in self.mapping:
            parsed.currency = self._currency(row, found)
        return parsed

    def _cell_error(self, row: base.RawRow, field: str, value: base.ErrorCell) -> issues.Issue:
        name, letter = _FIELD_NAMES[field], self.columns.get(field)
        if field in _NEEDED:
            return issues.error(row=row.number, column=letter, code=issues.E_CELL_ERROR, value=value.code,
                                message=f"The cell holds the spreadsheet error {value.code} instead of the {name}; fix "
                                        "the formula in the file, or type the value here.")
        return issues.warning(row=row.number, column=letter, code=issues.W_CELL_ERROR, value=value.code,
                              message=f"The cell holds the spreadsheet error {value.code} instead of the {name}; "
                                      f"the {name} is left empty.")

    # --- dates ---------------------------------------------------------------

    def _date_column(self, field: str) -> dates.DateColumn:
        return self.formats.dates.get(field) or dates.DateColumn()

    def _date(self, row: base.RawRow, field: str, *, required: bool, found: list[issues.Issue]) -> dt.date | None:
        value = self.cell(row, field)
        letter = self.columns.get(field)
        name = _FIELD_NAMES[field]
        if value is None:
            if required:
                found.append(issues.error(row=row.number, column=letter, code=issues.E_REQUIRED_MISSING,
                                          message=f"The {name} is missing; every transaction needs one."))
            return None
        if isinstance(value, base.ErrorCell):
            found.append(self._cell_error(row, field, value))
            return None
        column = self._date_column(field)
        try:
            return column.parse(value)
        except dates.InvalidDate:
            pass
        message = f"“{cell_text(value)}” is not a date (expected {column.describe()})."
        if required:
            found.append(issues.error(row=row.number, column=letter, code=issues.E_DATE_INVALID,
                                      message=message, value=value))
        else:
            found.append(issues.warning(row=row.number, column=letter, code=issues.W_VALUE_DATE_INVALID,
                                        message=message + " The value date is left empty.", value=value))
        return None

    # --- amounts -------------------------------------------------------------

    def _number(self, row: base.RawRow, field: str, *, found: list[issues.Issue], invalid_code: str) -> Decimal | None:
        value = self.cell(row, field)
        if value is None:
            return None
        if isinstance(value, base.ErrorCell):
            found.append(self._cell_error(row, field, value))
            raise amounts.InvalidAmount
        column = self.formats.amounts.get(field) or amounts.AmountColumn()
        try:
            return column.parse(value)
        except amounts.InvalidAmount:
            pass
        message = f"“{cell_text(value)}” is not an amount (expected a number like {column.example()})."
        if invalid_code == issues.W_BALANCE_INVALID:
            found.append(issues.warning(row=row.number, column=self.columns.get(field), code=invalid_code,
                                        message=message + " The balance is not checked on this row.", value=value))
        else:
            found.append(issues.error(row=row.number, column=self.columns.get(field), code=invalid_code,
                                      message=message, value=value))
        raise amounts.InvalidAmount

    def _amount(self, row: base.RawRow, parsed: ParsedRow, found: list[issues.Issue]) -> None:
        if "amount" in self.mapping:
            parsed.amount_column = self.columns["amount"]
            if self.cell(row, "amount") is None:
                found.append(issues.error(row=row.number, column=self.columns["amount"],
                                          code=issues.E_REQUIRED_MISSING,
                                          message="The amount is missing; every transaction needs one."))
                return
            try:
                amount = self._number(row, "amount", found=found, invalid_code=issues.E_AMOUNT_INVALID)
            except amounts.InvalidAmount:
                return
            parsed.amount = self._directed(row, amount, found)
            return
        debit_credit = [f for f in ("debit", "credit") if f in self.mapping]
        if not debit_credit:
            found.append(issues.error(row=row.number, column=None, code=issues.E_REQUIRED_MISSING,
                                      message="No column is mapped to the amount (or to debit and credit)."))
            return
        present = [f for f in debit_credit if self.cell(row, f) is not None]
        if not present:
            names = " nor ".join(_FIELD_NAMES[f] for f in debit_credit)
            found.append(issues.error(row=row.number, column=self.columns[debit_credit[0]],
                                      code=issues.E_REQUIRED_MISSING,
                                      message=f"Neither {names} holds an amount; every transaction needs one."
                                      if len(debit_credit) == 2 else f"The {names} is missing."))
            return
        total, ok = Decimal(0), True
        for field in present:
            try:
                value = self._number(row, field, found=found, invalid_code=issues.E_AMOUNT_INVALID)
            except amounts.InvalidAmount:
                ok = False
                continue
            if value:
                parsed.amount_column = parsed.amount_column or self.columns[field]
            total += -abs(value) if field == "debit" else value
        parsed.amount_column = parsed.amount_column or self.columns[present[0]]
        if ok:
            parsed.amount = total

    def _directed(self, row: base.RawRow, amount: Decimal | None, found: list[issues.Issue]) -> Decimal | None:
        """Apply a separate debit/credit indicator column (Dutch "Af/Bij", "D/C", "S/H")."""
        if amount is None or "direction" not in self.mapping:
            return amount
        if isinstance(self.cell(row, "direction"), base.ErrorCell):
            found.append(self._cell_error(row, "direction", self.cell(row, "direction")))
            return None
        word = cell_text(self.cell(row, "direction")).lower().strip(".")
        if word in _DEBIT_WORDS:
            return -abs(amount)
        if word in _CREDIT_WORDS:
            return abs(amount)
        return amount

    def _currency(self, row: base.RawRow, found: list[issues.Issue]) -> str:
        value = self.cell(row, "currency")
        if isinstance(value, base.ErrorCell):
            found.append(self._cell_error(row, "currency", value))
            return ""
        code = cell_text(value).upper()
        if code and not money.is_currency(code):
            found.append(issues.error(row=row.number, column=self.columns["currency"], code=issues.E_CURRENCY_INVALID,
                                      message=f"“{cell_text(value)}” is not a currency code (expected one like EUR).",
                                      value=value))
            return ""
        return code
