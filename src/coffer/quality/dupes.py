"""Finding repeated keys among millions of rows without holding them all in memory.

Each key (a whole row, or one column's value) is hashed to 64 bits and written with its row
number and column to one of BUCKETS temporary files chosen by the hash. Equal keys land in
the same bucket, so afterwards each bucket (about 1/BUCKETS of the rows) is read back on its
own into a dict: memory is bounded by the largest bucket, not by the sheet. Hash collisions
between different values are possible in principle (2^-64 per pair) and ignored.

    index = DuplicateIndex(folder)
    index.add(key_hash, row=12, column=-1)   # column -1: the whole row
    for column, row, first_row in index.duplicates(limit_per_column=...): ...
"""

from __future__ import annotations

import dataclasses
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

BUCKETS = 64
_RECORD = struct.Struct("<QIh")
_FLUSH = 64 * 1024
_MASK = (1 << 64) - 1


def key_hash(*parts: str) -> int:
    """64 bits of Python's own (per-process) string hashing: fast, and only compared within one run."""
    return hash(parts) & _MASK


@dataclasses.dataclass
class ColumnDuplicates:
    count: int = 0  # every repeat found
    pairs: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (row, first row), up to the limit
    overflow: bool = False  # more repeats than the limit: the rest are only counted


class DuplicateIndex:
    def __init__(self, folder: Path | None = None):
        self._dir = tempfile.TemporaryDirectory(prefix="coffer-dupes-", dir=folder)
        self._paths = [Path(self._dir.name) / f"{n:02d}.bin" for n in range(BUCKETS)]
        self._buffers = [bytearray() for _ in range(BUCKETS)]
        self.added = 0

    def add(self, key: int, *, row: int, column: int) -> None:
        bucket = key % BUCKETS
        buffer = self._buffers[bucket]
        buffer += _RECORD.pack(key, row, column)
        self.added += 1
        if len(buffer) >= _FLUSH:
            self._flush(bucket)

    def _flush(self, bucket: int) -> None:
        with self._paths[bucket].open("ab") as handle:
            handle.write(self._buffers[bucket])
        self._buffers[bucket].clear()

    def duplicates(self, *, limit_per_column: dict[int, int] | int) -> dict[int, ColumnDuplicates]:
        """Per column (-1: whole rows): how many keys repeat an earlier one, and (row, first row) pairs
        sorted by row, kept up to the column's limit (past it they are only counted)."""
        for bucket in range(BUCKETS):
            if self._buffers[bucket]:
                self._flush(bucket)
        found: dict[int, ColumnDuplicates] = {}
        for path in self._paths:
            if not path.exists():
                continue
            first: dict[tuple[int, int], int] = {}
            for key, row, column in _records(path):
                seen = first.get((key, column))
                if seen is None:
                    first[(key, column)] = row
                    continue
                entry = found.setdefault(column, ColumnDuplicates())
                entry.count += 1
                limit = limit_per_column if isinstance(limit_per_column, int) else limit_per_column.get(column, 0)
                if len(entry.pairs) >= limit:
                    entry.overflow = True
                    continue
                entry.pairs.append((row, seen))
            path.unlink()
        for entry in found.values():
            entry.pairs.sort()
        return found

    def close(self) -> None:
        self._dir.cleanup()


def _records(path: Path) -> Iterator[tuple[int, int, int]]:
    with path.open("rb") as handle:
        while chunk := handle.read(_RECORD.size * 4096):
            yield from _RECORD.iter_unpack(chunk)
