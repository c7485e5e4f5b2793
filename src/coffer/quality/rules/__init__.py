"""Deterministic data-quality rules, one small module per family.

Every finding is an `imports.issues.Issue` (row and column letter as the spreadsheet shows
them, a stable code, a severity, a message, the value), the same record the import uses.
Each rule is switchable per tenant by its family key (quality.models.QualitySettings); the
analysis always runs them all (its result is cached per file content) and a tenant's report
leaves out the families it switched off.

A rule has a `stage`:
  "stream"    sees every data row during the one reading pass (error cells, spaces,
              duplicates), and may conclude in `end` once the profile is known;
  "profiled"  needs the finished column profile (the column's type, format, median...), and
              sees the rows in a second pass over the analysis's row store.

    family            codes                      what
    error_cells       E_SPREADSHEET_ERROR        #REF!, #DIV/0!, #N/A... in a cell
    spaces            W_SURROUNDING_SPACES       leading or trailing spaces in text
    duplicate_rows    W_DUPLICATE_ROW            a row that repeats an earlier row exactly
    duplicate_values  W_DUPLICATE_VALUE          a repeated value in a column that is otherwise unique (an id)
    type_breaks       W_TYPE_MISMATCH            a value that breaks its column's type (text among numbers)
    blanks            W_BLANK_IN_FILLED_COLUMN   a blank cell in a column that is nearly always filled
    outliers          W_OUTLIER                  a number far from its column's median (median/MAD)
    formats           W_MIXED_FORMAT             dates or numbers written another way than the rest of the column
    spellings         W_SPELLING_VARIANT         "Paris", "paris ", "PARIS" in one column
"""

from __future__ import annotations

from coffer.quality.rules import (
    base, blanks, duplicate_rows, duplicate_values, error_cells, formats, outliers, spaces, spellings, type_breaks,
)

MODULES = (error_cells, type_breaks, blanks, duplicate_rows, duplicate_values, outliers, formats, spaces, spellings)
FAMILIES = {module.FAMILY: module for module in MODULES}
CODES = {module.CODE: module.FAMILY for module in MODULES}
Context = base.Context
Collector = base.Collector


def describe() -> list[dict[str, str]]:
    """The families for settings pages and the API: key, code, severity, title, description."""
    return [
        {"family": m.FAMILY, "code": m.CODE, "severity": m.SEVERITY, "title": m.TITLE, "description": m.DESCRIPTION}
        for m in MODULES
    ]


def create(stage: str) -> list[base.Rule]:
    return [module.Rule() for module in MODULES if module.Rule.stage == stage]
