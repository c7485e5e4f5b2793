"""W_SPELLING_VARIANT: one category spelled several ways in a column ("Paris", "paris ", "PARIS").

Values are grouped by a key that ignores case, accents, spaces and punctuation; in a column
that repeats its values (at most one distinct value per two rows, and not more than
profile.SPELLING_KEYS of them), a group with several spellings has its most common spelling
as the reference and every other spelling is flagged."""

from __future__ import annotations

from coffer.imports import issues
from coffer.imports.readers import base as readers_base
from coffer.quality.rules import base

FAMILY = "spellings"
CODE = "W_SPELLING_VARIANT"
SEVERITY = "warning"
TITLE = "Inconsistent spellings"
DESCRIPTION = "The same category written differently, e.g. \"Paris\", \"paris \" and \"PARIS\"."


class Rule(base.Rule):
    stage = "profiled"

    def begin(self, context: base.Context) -> bool:
        self.context = context
        self.variants: dict[int, dict[str, tuple[str, int]]] = {}  # column -> spelling -> (reference, its count)
        for stats in context.columns:
            groups = stats.spelling_groups()
            if not groups:
                continue
            flagged = {}
            for group in groups.values():
                (reference, count), *others = sorted(group.items(), key=lambda item: (-item[1], item[0]))
                for spelling, _ in others:
                    flagged[spelling] = (reference, count)
            self.variants[stats.index] = flagged
        return bool(self.variants)

    def row(self, row: readers_base.RawRow, emit) -> None:
        for index, flagged in self.variants.items():
            cell = row.cells[index] if index < len(row.cells) else None
            if not isinstance(cell, str) or cell not in flagged:
                continue
            reference, count = flagged[cell]
            emit(issues.warning(
                row=row.number, column=issues.column_letter(index), code=CODE,
                message=(f"{cell!r} is written {reference!r} in {count} other "
                         f"row{'s' if count != 1 else ''} of column {self.context.label(index)}"),
                value=cell,
            ))
