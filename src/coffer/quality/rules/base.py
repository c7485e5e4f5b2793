"""What rules share: the context they read and the collector their findings go to."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

from coffer.imports import issues
from coffer.imports.readers import base
from coffer.quality import profile

MAX_PER_COLUMN = 1000  # findings kept per (code, column); beyond, only counted
MAX_TOTAL = 50_000


@dataclasses.dataclass
class Context:
    sheet: str | None
    header_row: int | None
    names: list[str]
    columns: list[profile.ColumnStats] = dataclasses.field(default_factory=list)

    def label(self, index: int) -> str:
        letter = issues.column_letter(index)
        name = self.names[index] if index < len(self.names) else letter
        return letter if name == letter else f"{letter} ({name})"


class Collector:
    """Keeps findings up to MAX_PER_COLUMN per (code, column) and MAX_TOTAL in all; counts every one."""

    def __init__(self, *, per_column: int | None = None, total: int | None = None):
        self.per_column = per_column if per_column is not None else MAX_PER_COLUMN
        self.total = total if total is not None else MAX_TOTAL
        self.items: list[issues.Issue] = []
        self.counts: dict[str, dict[str, int]] = collections.defaultdict(lambda: collections.defaultdict(int))
        self._kept: dict[tuple[str, str], int] = collections.defaultdict(int)

    def __call__(self, issue: issues.Issue) -> None:
        column = issue.column or ""
        self.counts[issue.code][column] += 1
        key = (issue.code, column)
        if self._kept[key] >= self.per_column or len(self.items) >= self.total:
            return
        self._kept[key] += 1
        self.items.append(issue)

    def count(self, code: str, column: str, extra: int) -> None:
        """Findings known only by number (past a rule's own limit)."""
        if extra > 0:
            self.counts[code][column] += extra

    def sorted(self) -> list[issues.Issue]:
        return sorted(self.items, key=lambda i: (i.row or 0, len(i.column or ""), i.column or "", i.code))

    def totals(self) -> dict[str, dict[str, int]]:
        return {code: dict(columns) for code, columns in sorted(self.counts.items())}


class Rule:
    stage = "stream"

    def begin(self, context: Context) -> bool:
        """Whether the rule has anything to look for (profiled rules decide from the profile)."""
        return True

    def row(self, row: base.RawRow, emit: Any) -> None:
        pass

    def end(self, context: Context, emit: Any) -> None:
        pass


def shown(value: Any, limit: int = 60) -> str:
    from coffer.quality import cells

    text = cells.display(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
