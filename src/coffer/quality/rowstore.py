"""A sheet's rows, written once while the sheet is analysed, read back a page at a time.

Reading page 5,000 of an .xlsx straight from the file means decoding the whole sheet again
(calamine decodes a sheet at once) and skipping 499,900 rows. The analysis pass writes every
row it reads here instead, as JSON lines with typed cells (cells.to_json), plus an index of
where each page of PAGE_SIZE rows starts: any page is then one seek and 100 short lines,
whatever its number. Files live under MEDIA_ROOT/quality/<sha256>/ (the upload's content
hash), so every import of the same file shares them; they are written to a temporary name
and renamed when complete, so a reader never sees half a store.

    rows file   one line per row: [row number, [cell, ...]]
    index file  per page: offset of its first line (uint64) and its first row number (uint32)
    meta file   {"rows", "pages", "last_row", "columns", "version"}
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coffer.imports.readers import base
from coffer.quality import cells

PAGE_SIZE = 100
VERSION = 1
_ENTRY = struct.Struct("<QI")


def directory(root: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return Path(root) / "quality" / sha256


def _stem(sheet: str | None) -> str:
    return "sheet-" + hashlib.sha256((sheet or "").encode("utf-8")).hexdigest()[:24]


class Writer:
    def __init__(self, folder: Path, sheet: str | None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.stem = _stem(sheet)
        suffix = f".tmp-{os.getpid()}-{id(self)}"
        self._paths = {kind: self.folder / f"{self.stem}.{kind}" for kind in ("rows", "idx", "json")}
        self._tmp = {kind: path.with_name(path.name + suffix) for kind, path in self._paths.items()}
        self._rows = self._tmp["rows"].open("wb")
        self._index = self._tmp["idx"].open("wb")
        self.count = 0
        self.last_row = 0
        self.columns = 0

    def add(self, row: base.RawRow) -> None:
        if self.count % PAGE_SIZE == 0:
            self._index.write(_ENTRY.pack(self._rows.tell(), row.number))
        width = len(row.cells)
        while width and row.cells[width - 1] is None:
            width -= 1
        line = json.dumps([row.number, [cells.to_json(c) for c in row.cells[:width]]], ensure_ascii=False,
                          separators=(",", ":"))
        self._rows.write(line.encode("utf-8") + b"\n")
        self.count += 1
        self.last_row = row.number
        self.columns = max(self.columns, width)

    def finish(self) -> None:
        self._rows.close()
        self._index.close()
        pages = (self.count + PAGE_SIZE - 1) // PAGE_SIZE
        meta = {"rows": self.count, "pages": pages, "last_row": self.last_row, "columns": self.columns,
                "version": VERSION}
        self._tmp["json"].write_text(json.dumps(meta))
        for kind in ("rows", "idx", "json"):  # meta last: its presence means the store is complete
            os.replace(self._tmp[kind], self._paths[kind])

    def abort(self) -> None:
        for handle in (self._rows, self._index):
            handle.close()
        for path in self._tmp.values():
            path.unlink(missing_ok=True)


class Store:
    """A complete store; `Store.open` answers None while there is none (or an older version)."""

    def __init__(self, folder: Path, sheet: str | None, meta: dict[str, Any]):
        stem = _stem(sheet)
        self.rows_path = folder / f"{stem}.rows"
        self.index_path = folder / f"{stem}.idx"
        self.rows: int = meta["rows"]
        self.pages: int = meta["pages"]
        self.last_row: int = meta["last_row"]
        self.columns: int = meta["columns"]

    @classmethod
    def open(cls, folder: Path, sheet: str | None) -> Store | None:
        meta_path = Path(folder) / f"{_stem(sheet)}.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return None
        if meta.get("version") != VERSION:
            return None
        store = cls(Path(folder), sheet, meta)
        if not (store.rows_path.exists() and store.index_path.exists()):
            return None
        return store

    def _entry(self, page: int) -> tuple[int, int]:
        with self.index_path.open("rb") as handle:
            handle.seek((page - 1) * _ENTRY.size)
            return _ENTRY.unpack(handle.read(_ENTRY.size))

    def page(self, page: int) -> list[base.RawRow]:
        """Rows of page `page` (1-based); [] past the end."""
        if page < 1 or page > self.pages:
            return []
        offset, _ = self._entry(page)
        found = []
        with self.rows_path.open("rb") as handle:
            handle.seek(offset)
            for _ in range(PAGE_SIZE):
                line = handle.readline()
                if not line:
                    break
                found.append(_decode(line))
        return found

    def page_of_row(self, row_number: int) -> int:
        """The page holding spreadsheet row `row_number` (or the nearest row after it)."""
        if self.pages == 0:
            return 1
        firsts = []
        with self.index_path.open("rb") as handle:
            for offset_first in struct.iter_unpack(_ENTRY.format, handle.read()):
                firsts.append(offset_first[1])
        return max(1, bisect.bisect_right(firsts, row_number))

    def iter_rows(self) -> Iterator[base.RawRow]:
        with self.rows_path.open("rb") as handle:
            for line in handle:
                yield _decode(line)


def _decode(line: bytes) -> base.RawRow:
    number, values = json.loads(line)
    return base.RawRow(number=number, cells=[cells.from_json(v) for v in values])
