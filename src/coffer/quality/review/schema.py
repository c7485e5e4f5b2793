"""The JSON schema a review answer must fit, and its validation.

Beyond the schema, every finding's row must be a row that was sent (a sampled row or a row
named by a deterministic finding) and its column one of the sheet's columns: the model cannot
invent row numbers. An answer that fails is retried once with the error, then recorded as failed.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from coffer.imports import issues

CATEGORIES = ("wrong_value", "inconsistency", "suspicious", "missing", "format", "other")

ANSWER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "findings"],
    "properties": {
        "summary": {"type": "string", "minLength": 1, "maxLength": 2000,
                    "description": "Two to five sentences on the sheet's data quality"},
        "findings": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["row", "column", "severity", "category", "message"],
                "properties": {
                    "row": {"type": ["integer", "null"], "minimum": 1,
                            "description": "Spreadsheet row number as given in the sample, or null for the whole column"},
                    "column": {"type": ["string", "null"], "pattern": "^[A-Z]{1,3}$",
                               "description": "Column letter, or null for the whole row"},
                    "severity": {"enum": ["error", "warning"]},
                    "category": {"enum": list(CATEGORIES)},
                    "message": {"type": "string", "minLength": 1, "maxLength": 500},
                },
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(ANSWER)


class InvalidAnswer(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse(text: str, *, rows: set[int], columns: int) -> dict[str, Any]:
    """The validated answer; InvalidAnswer with a message the model can act on otherwise."""
    if not text or not text.strip():
        raise InvalidAnswer("The answer was empty")
    body = text.strip()
    if body.startswith("```"):  # a fenced block: take what is inside
        body = body.strip("`")
        body = body[4:] if body.lower().startswith("json") else body
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise InvalidAnswer(f"The answer is not valid JSON ({exc})") from None
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(answer))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the answer"
        raise InvalidAnswer(f"The answer does not fit the schema at {where}: {error.message[:300]}")
    for position, finding in enumerate(answer["findings"], start=1):
        row, column = finding["row"], finding["column"]
        if row is not None and row not in rows:
            raise InvalidAnswer(f"Finding {position} names row {row}, which is not one of the rows sent")
        if column is not None and issues.column_index(column) >= columns:
            raise InvalidAnswer(f"Finding {position} names column {column}, which the sheet does not have")
    return answer
