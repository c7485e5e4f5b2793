"""The question put to the model: instructions, and a JSON payload of profile, findings and sample.

Everything taken from the file passes through masking.mask. PROMPT_VERSION is part of the
cache key: change it whenever the instructions or the payload's shape change.
"""

from __future__ import annotations

import json
from typing import Any

from coffer.imports import issues
from coffer.imports.readers import base
from coffer.quality import cells
from coffer.quality.review import masking

PROMPT_VERSION = "1"
MAX_COLUMNS = 40
MAX_CELL_CHARS = 80
MAX_FINDINGS = 60
MAX_PROMPT_CHARS = 60_000  # the payload is cut to this (and so bounds the cost)

SYSTEM = (
    "You review the data quality of one spreadsheet sheet for a person who is about to rely on it "
    "(a budget, a supplier list, a ledger, a bank statement). You get the sheet's column profile, the "
    "findings of Coffer's deterministic rules, and a sample of rows spread across the whole sheet, each with "
    "its spreadsheet row number. Values such as <email>, <iban>, <card> and <number> are masked on purpose: "
    "never report them as problems. Report what the rules cannot see: values that contradict their column's "
    "meaning or each other (an end date before its start date, a total that is not the sum of its parts, a "
    "currency that does not fit the amounts), suspicious entries, inconsistent conventions. Do not repeat a "
    "deterministic finding unless you add something new. Every finding names a row number that appears in "
    "the sample or in the deterministic findings (or null for a whole column) and a column letter (or null "
    "for a whole row). Write plain, short sentences. Answer only with the JSON object the schema describes."
)


def _text(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    shown = cells.display(value) if not isinstance(value, str) else value
    shown = masking.mask(shown)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def payload(*, profile: dict[str, Any], findings: list[dict[str, Any]], counts: dict[str, dict[str, int]],
            rows: list[base.RawRow]) -> dict[str, Any]:
    columns = []
    for column in profile.get("columns", [])[:MAX_COLUMNS]:
        entry = {
            "column": column["column"], "name": _text(column["name"]), "type": column["type"],
            "consistency": column["consistency"], "filled": column["filled"], "blanks": column["blanks"],
            "distinct": column["distinct"], "formats": column.get("formats", {}),
        }
        for key in ("min", "max", "median", "mad"):
            if column.get(key) is not None:
                entry[key] = _text(column[key])
        entry["top"] = [{"value": _text(item["value"]), "count": item["count"]} for item in column.get("top", [])]
        columns.append(entry)
    sample = []
    for row in rows:
        sample.append({
            "row": row.number,
            "cells": {issues.column_letter(i): _text(cell) for i, cell in enumerate(row.cells[:MAX_COLUMNS])
                      if cell is not None},
        })
    return {
        "sheet": {"rows": profile.get("rows"), "header_row": profile.get("header_row"),
                  "data_rows": profile.get("data_rows"), "columns_total": len(profile.get("columns", []))},
        "columns": columns,
        "deterministic_findings": {
            "counts": {code: sum(per_column.values()) for code, per_column in counts.items()},
            "examples": [
                {"row": item["row"], "column": item["column"], "code": item["code"],
                 "message": _text(item["message"], 300),
                 "value": _text(item["value"]) if item.get("value") is not None else None}
                for item in findings[:MAX_FINDINGS]
            ],
        },
        "sample_rows": sample,
    }


def user_message(body: dict[str, Any]) -> str:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    while len(text) > MAX_PROMPT_CHARS and body["sample_rows"]:
        body["sample_rows"] = body["sample_rows"][:-1]
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return "Review this sheet. The data, as JSON:\n" + text


def retry_message(user: str, error: str) -> str:
    return (user + "\n\nYour previous answer was rejected: " + error
            + "\nAnswer again with only the JSON object the schema describes, shorter if needed.")


def sent_rows(body: dict[str, Any]) -> set[int]:
    """Row numbers a finding may name: the sampled rows and the rows of the findings sent."""
    rows = {item["row"] for item in body["sample_rows"]}
    rows |= {item["row"] for item in body["deterministic_findings"]["examples"] if item["row"] is not None}
    return rows
