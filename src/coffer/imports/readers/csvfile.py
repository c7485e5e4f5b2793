"""CSV/TSV/TXT: encoding and delimiter detected, records streamed with the line they start on.

Encoding: a BOM (UTF-8, UTF-16) wins; then UTF-8 if the *whole* file decodes strictly (checked
incrementally, never held in memory); then charset-normalizer's guess, where any Western
single-byte guess becomes cp1252 (bank exports from Windows), and latin-1 as the last resort
(it decodes every byte). The delimiter is the one among , ; TAB | that splits the first lines
into the most consistent number of fields; title lines above the header are outvoted.
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import charset_normalizer

from coffer.imports import errors, sniff
from coffer.imports import limits as import_limits
from coffer.imports.readers import base

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 256 * 1024
_SAMPLE_LINES = 60
_WESTERN = {"cp1252", "cp1250", "latin_1", "iso8859_1", "iso8859_15", "iso8859_2", "cp850", "mac_roman",
            "mac_latin2", "ascii", "windows-1252", "windows-1250"}


def detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    without_bom = sniff.utf16_without_bom(head)
    if without_bom:
        return without_bom
    if _decodes(path, "utf-8"):
        return "utf-8"
    best = charset_normalizer.from_bytes(head).best()
    guess = best.encoding if best is not None else "cp1252"
    if guess.lower() in _WESTERN:
        guess = "cp1252"
    if _decodes(path, guess):
        return guess
    return "cp1252" if _decodes(path, "cp1252") else "latin-1"


def _decodes(path: Path, encoding: str) -> bool:
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        return False
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter whose field count is the most consistent over the sample lines."""
    best, best_key = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(record) for record in csv.reader(lines, delimiter=delimiter) if any(record)]
        except csv.Error:
            continue
        if not counts:
            continue
        widths = collections.Counter(count for count in counts if count > 1)
        if not widths:
            continue
        width, hits = widths.most_common(1)[0]
        # Consistency first (rounded so title lines do not decide), then more fields.
        key = (round(hits / len(counts), 1), width)
        if key > best_key:
            best, best_key = delimiter, key
    return best


class CsvWorkbook:
    """A text file seen as a workbook with one unnamed sheet."""

    def __init__(self, path: Path, *, limits: import_limits.ImportLimits):
        self.path = Path(path)
        self.limits = limits
        self.format = "csv"
        self.encoding = detect_encoding(self.path)
        self.delimiter = detect_delimiter(self._sample_lines())
        self._sheets: list[base.SheetInfo] | None = None

    def _open(self) -> io.TextIOWrapper:
        return self.path.open("r", encoding=self.encoding, errors="strict", newline="")

    def _sample_lines(self) -> list[str]:
        lines: list[str] = []
        with self._open() as handle:
            for line in handle:
                lines.append(line[: self.limits.max_cell_chars])
                if len(lines) >= _SAMPLE_LINES:
                    break
        # A record cut by the sample's end must not vote.
        return lines[:-1] if len(lines) >= _SAMPLE_LINES else lines

    @property
    def sheets(self) -> list[base.SheetInfo]:
        """One unnamed sheet; its size needs one streaming pass, done on first use."""
        if self._sheets is None:
            rows = columns = 0
            for row in self.iter_rows():
                rows = row.number
                columns = max(columns, len(row.cells))
            self._sheets = [base.SheetInfo(name=None, rows=rows, columns=columns)]
        return self._sheets

    def iter_rows(self, sheet: str | None = None) -> Iterator[base.RawRow]:
        limits = self.limits
        if csv.field_size_limit() <= limits.max_cell_chars:
            csv.field_size_limit(limits.max_cell_chars + 1)
        with self._open() as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            line_end, count = 0, 0
            try:
                for record in reader:
                    start, line_end = line_end + 1, reader.line_num
                    count += 1
                    if count > limits.max_rows:
                        raise base.too_many_rows(count, limits=limits)
                    if len(record) > limits.max_columns:
                        raise base.too_many_columns(len(record), limits=limits)
                    cells = [base.text_cell(value, limits=limits, row=start, column=index)
                             for index, value in enumerate(record)]
                    yield base.RawRow(number=start, cells=cells)
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise errors.LimitExceeded(
                        f"A cell near line {line_end + 1} holds more than {limits.max_cell_chars:,} characters "
                        "(is a quote left open?)",
                        limit="max_cell_chars", value=limits.max_cell_chars + 1, maximum=limits.max_cell_chars,
                    ) from None
                raise errors.UnreadableFile(f"The CSV file cannot be read near line {line_end + 1}: {exc}") from None
            except UnicodeDecodeError:
                raise errors.UnreadableFile(
                    f"The file's text encoding changes near line {line_end + 1}; save it again as UTF-8"
                ) from None

    def close(self) -> None:
        pass
