"""E_CURRENCY_MISMATCH: a currency column naming another currency than the account's."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.parsing import rows as row_parsing


def check(row: row_parsing.ParsedRow, *, account_currency: str | None) -> None:
    if not account_currency or not row.currency or row.currency == account_currency.upper():
        return
    row.issues.append(issues.error(
        row=row.number, column=row.columns.get("currency"), code=issues.E_CURRENCY_MISMATCH,
        message=f"The row is in {row.currency} but the account is in {account_currency.upper()}.",
        value=row.currency,
    ))
