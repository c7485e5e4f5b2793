"""xlsx/xlsm/xlsb, xls and ods through python-calamine (Rust): values only, macros never run.

calamine gives cached formula results (a formula without a cached value reads as empty) and
returns spreadsheet error values (#REF!, #DIV/0!) as empty cells: for .xlsx/.xlsm/.ods the
`errorcells` scan finds them in the file and they become `ErrorCell`, as do text cells that
spell an error literal. Its XML parser does not expand DTD entities. Each sheet is decoded
once (into Rust memory, not Python objects) and its rows are converted lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import python_calamine

from coffer.imports import errors
from coffer.imports import limits as import_limits
from coffer.imports.readers import base, errorcells

_PASSWORD = (
    "The file is password-protected; open it in your spreadsheet program, remove the password "
    "(or save a copy without it) and upload that copy"
)


class SpreadsheetWorkbook:
    def __init__(self, path: Path, *, format: str, limits: import_limits.ImportLimits):
        self.path = Path(path)
        self.format = format
        self.limits = limits
        self._loaded: dict[str, Any] = {}
        self._has_errors: dict[str, bool] = {}
        try:
            self._book = python_calamine.CalamineWorkbook.from_path(str(self.path))
            metadata = list(self._book.sheets_metadata)
        except python_calamine.PasswordError:
            raise errors.UnreadableFile(_PASSWORD) from None
        except Exception as exc:  # calamine raises several unrelated types for damaged files
            raise errors.UnreadableFile(f"The {format} file is damaged and cannot be read ({_reason(exc)})") from None
        worksheet = python_calamine.SheetTypeEnum.WorkSheet
        self._visible = {
            item.name: item.visible == python_calamine.SheetVisibleEnum.Visible
            for item in metadata if item.typ == worksheet
        }
        if not self._visible:
            raise errors.UnreadableFile("The workbook has no worksheets")

    def _sheet(self, name: str) -> Any:
        if name not in self._visible:
            names = ", ".join(repr(n) for n in self._visible)
            raise errors.UnreadableFile(f"The file has no sheet named {name!r}; its sheets are {names}")
        if name not in self._loaded:
            try:
                self._loaded[name] = self._book.get_sheet_by_name(name)
            except python_calamine.PasswordError:
                raise errors.UnreadableFile(_PASSWORD) from None
            except Exception as exc:
                raise errors.UnreadableFile(f"The sheet {name!r} is damaged and cannot be read ({_reason(exc)})") from None
        return self._loaded[name]

    @property
    def sheets(self) -> list[base.SheetInfo]:
        infos = []
        for name, visible in self._visible.items():
            end = self._sheet(name).end
            rows, columns = (end[0] + 1, end[1] + 1) if end else (0, 0)
            infos.append(base.SheetInfo(name=name, rows=rows, columns=columns, visible=visible))
        return infos

    def iter_rows(self, sheet: str | None = None) -> Iterator[base.RawRow]:
        limits = self.limits
        name = sheet if sheet is not None else next(iter(self._visible))
        data = self._sheet(name)
        start, end = data.start, data.end
        if start is None or end is None:
            return
        if end[1] + 1 > limits.max_columns:
            raise base.too_many_columns(end[1] + 1, limits=limits)
        if end[0] + 1 > limits.max_rows:
            raise base.too_many_rows(end[0] + 1, limits=limits)
        padding: list[base.Cell] = [None] * start[1]
        if name not in self._has_errors:
            self._has_errors[name] = errorcells.has_errors(self.path, format=self.format, sheet=name)
        found = errorcells.scan(self.path, format=self.format, sheet=name) if self._has_errors[name] else iter(())
        pending = next(found, None)
        try:
            # calamine yields from the sheet's first row (row 1) but from the first used column.
            for index, values in enumerate(data.iter_rows()):
                number = index + 1
                cells = padding + [_cell(value, limits=limits, row=number, column=start[1] + i)
                                   for i, value in enumerate(values)]
                while pending is not None and pending[0] <= number:
                    row, column, code = pending
                    if row == number and column < len(cells) and cells[column] is None:
                        cells[column] = base.ErrorCell(code)  # calamine read it as blank
                    pending = next(found, None)
                yield base.RawRow(number=number, cells=cells)
        except errors.UnreadableFile:
            raise
        except Exception as exc:
            raise errors.UnreadableFile(f"The sheet {name!r} is damaged and cannot be read ({_reason(exc)})") from None

    def close(self) -> None:
        self._loaded.clear()
        try:
            self._book.close()
        except Exception:  # already closed
            pass


def _cell(value: Any, *, limits: import_limits.ImportLimits, row: int, column: int) -> base.Cell:
    if isinstance(value, str):
        return base.text_cell(value, limits=limits, row=row, column=column)
    return value


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
