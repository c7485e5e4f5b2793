"""Where a workbook holds spreadsheet error values (#REF!, #DIV/0!, #N/A, #VALUE!...).

python-calamine reads an error cell as an empty string, the same as a blank cell, so a
#REF! in the amount column would look like a missing amount. This module finds the error
cells in the file itself, streamed, never the whole sheet in memory:

- .xlsx/.xlsm: cells with `t="e"` in the sheet's XML part (the cached value is the error text);
- .ods: cells with `calcext:value-type="error"` in content.xml (the shown text is the error);
- .xls: BOOLERR records with the error flag and FORMULA records whose cached result is an error,
  in the sheet's part of the BIFF "Workbook" stream (read from the OLE2 container here).

`has_errors` is one quick pass looking for the marker only, so a file without errors (nearly
all) costs one decompression and nothing more. `scan` yields (row number as the spreadsheet
shows it, 0-based column, error text) in row order, so the reader can merge it with
calamine's rows as both stream. .xlsb yields nothing: its error cells stay blank.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

from defusedxml import ElementTree

_CHUNK = 1024 * 1024
_XLSX_MARKERS = (b't="e"', b"t='e'")
_ODS_MARKER = b'value-type="error"'
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([A-Z]{1,3})([0-9]{1,7})["']""")
_VALUE = re.compile(rb"\s*(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?\s*<v>([^<]{1,64})</v>")

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"

Position = tuple[int, int, str]


def has_errors(path: Path | str, *, format: str, sheet: str) -> bool:
    """True when the sheet may hold an error cell (a cheap streamed search for the marker)."""
    if format == "xls":
        return next(iter(scan(path, format=format, sheet=sheet)), None) is not None
    try:
        with zipfile.ZipFile(path) as archive:
            part = _part(archive, format=format, sheet=sheet)
            if part is None:
                return False
            markers = _XLSX_MARKERS if format in ("xlsx", "xlsm") else (_ODS_MARKER,)
            tail = b""
            with archive.open(part) as stream:
                while chunk := stream.read(_CHUNK):
                    window = tail + chunk
                    if any(marker in window for marker in markers):
                        return True
                    tail = window[-16:]
    except Exception:  # noqa: BLE001 - calamine decides whether the file is readable; this only refines it
        return False
    return False


def scan(path: Path | str, *, format: str, sheet: str) -> Iterator[Position]:
    """(row, column, error text) of every error cell of the sheet, in row order."""
    if format == "xls":
        try:
            found = _scan_xls(Path(path), sheet)
        except Exception:  # noqa: BLE001 - a container calamine read but this reader does not: cells stay blank
            return
        yield from found
        return
    try:
        with zipfile.ZipFile(path) as archive:
            part = _part(archive, format=format, sheet=sheet)
            if part is None:
                return
            if format in ("xlsx", "xlsm"):
                yield from _scan_xlsx(archive, part)
            else:
                yield from _scan_ods(archive, part, sheet)
    except Exception:  # noqa: BLE001 - as in has_errors: a damaged part leaves the cells as calamine read them
        return


def _part(archive: zipfile.ZipFile, *, format: str, sheet: str) -> str | None:
    if format == "ods":
        return "content.xml"
    if format not in ("xlsx", "xlsm"):
        return None
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = None
    for element in book.iter(f"{{{_MAIN}}}sheet"):
        if element.get("name") == sheet:
            rel_id = element.get(f"{{{_REL}}}id")
            break
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{{{_PKG_REL}}}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return None


def _column(letters: bytes) -> int:
    index = 0
    for char in letters:
        index = index * 26 + char - 64
    return index - 1


def _scan_xlsx(archive: zipfile.ZipFile, part: str) -> Iterator[Position]:
    """Rows arrive whole between cuts at `</row>`, so no cell is split across two reads."""
    buffer = b""
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            buffer += chunk
            cut = buffer.rfind(b"</row>")
            if cut != -1:
                cut += len(b"</row>")
                yield from _xlsx_errors(buffer[:cut])
                buffer = buffer[cut:]
    yield from _xlsx_errors(buffer)


def _xlsx_errors(segment: bytes) -> list[Position]:
    found: list[Position] = []
    for marker in _XLSX_MARKERS:
        position = segment.find(marker)
        while position != -1:
            start = segment.rfind(b"<", 0, position)
            end = segment.find(b">", position)
            tag = segment[start:end + 1]
            if start != -1 and end != -1 and tag[:2] == b"<c" and tag[2:3].isspace() and not tag.endswith(b"/>"):
                where, value = _ATTR_R.search(tag), _VALUE.match(segment, end + 1)
                if where is not None and value is not None:
                    found.append((int(where.group(2)), _column(where.group(1)),
                                  value.group(1).decode("utf-8", "replace").strip()))
            position = segment.find(marker, position + 1)
    return sorted(found)


def _scan_ods(archive: zipfile.ZipFile, part: str, sheet: str) -> Iterator[Position]:
    """content.xml parsed as it streams (only when `has_errors` found the marker), counting
    repeated rows and cells as the spreadsheet shows them."""
    table_tag, row_tag = f"{{{_TABLE}}}table", f"{{{_TABLE}}}table-row"
    cells = (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell")
    in_sheet, row, column = False, 0, 0
    with archive.open(part) as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == table_tag:
                    in_sheet, row = element.get(f"{{{_TABLE}}}name") == sheet, 0
                elif tag == row_tag and in_sheet:
                    row, column = row + 1, 0
                continue
            if tag == table_tag:
                if in_sheet:
                    return
            elif tag in cells and in_sheet:
                if element.get(f"{{{_CALCEXT}}}value-type") == "error":
                    text = "".join(element.itertext()).strip()[:64]
                    yield row, column, text or "#VALUE!"
                column += int(element.get(f"{{{_TABLE}}}number-columns-repeated", "1"))
                element.clear()
            elif tag == row_tag and in_sheet:
                row += int(element.get(f"{{{_TABLE}}}number-rows-repeated", "1")) - 1
                element.clear()


# --- .xls: the OLE2 container and the BIFF records -----------------------------------------

_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
_END_OF_CHAIN = 0xFFFFFFFE


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """The first of the named streams of an OLE2 compound file (MS-CFB), whole."""
    if data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValueError("not an OLE2 file")
    sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_sector = 1 << struct.unpack_from("<H", data, 0x20)[0]
    fat_count, directory_start = struct.unpack_from("<II", data, 0x2C)
    mini_cutoff, mini_fat_start, _, difat_start, difat_count = struct.unpack_from("<IIIII", data, 0x38)

    def at(number: int) -> bytes:
        offset = (number + 1) * sector
        return data[offset:offset + sector]

    fat_sectors = [n for n in struct.unpack_from("<109I", data, 0x4C) if n < _END_OF_CHAIN]
    next_difat = difat_start
    for _ in range(difat_count):
        if next_difat >= _END_OF_CHAIN:
            break
        entries = struct.unpack(f"<{sector // 4}I", at(next_difat))
        fat_sectors += [n for n in entries[:-1] if n < _END_OF_CHAIN]
        next_difat = entries[-1]
    fat = [n for number in fat_sectors[:fat_count] for n in struct.unpack(f"<{sector // 4}I", at(number))]

    def chain(start: int, table: list[int], read) -> bytes:
        parts, number, seen = [], start, 0
        while number < _END_OF_CHAIN and number < len(table) and seen <= len(table):
            parts.append(read(number))
            number, seen = table[number], seen + 1
        return b"".join(parts)

    directory = chain(directory_start, fat, at)
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    root = entries[0]
    for entry in entries:
        length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[:max(length - 2, 0)].decode("utf-16-le", "replace")
        if name not in names or entry[66] != 2:
            continue
        start, size = struct.unpack_from("<IQ", entry, 116)
        if size >= mini_cutoff:
            return chain(start, fat, at)[:size]
        mini_fat = list(struct.unpack(f"<{len(raw) // 4}I", raw)) if (raw := chain(mini_fat_start, fat, at)) else []
        mini_stream = chain(struct.unpack_from("<I", root, 116)[0], fat, at)
        return chain(start, mini_fat, lambda n: mini_stream[n * mini_sector:(n + 1) * mini_sector])[:size]
    raise ValueError("no workbook stream")


def _scan_xls(path: Path, sheet: str) -> list[Position]:
    stream = _ole_stream(path.read_bytes(), ("Workbook", "Book"))
    offset, sheet_at = 0, None
    while offset + 4 <= len(stream):  # the globals: find the sheet's BOF by its name
        kind, length = struct.unpack_from("<HH", stream, offset)
        body = stream[offset + 4:offset + 4 + length]
        offset += 4 + length
        if kind == 0x0085 and len(body) > 8:  # BOUNDSHEET
            count = body[6]
            if body[7] & 1:
                name = body[8:8 + 2 * count].decode("utf-16-le", "replace")
            else:
                name = body[8:8 + count].decode("latin-1")
            if name == sheet:
                sheet_at = struct.unpack_from("<I", body, 0)[0]
        elif kind == 0x000A:  # EOF of the globals
            break
    if sheet_at is None:
        return []
    found: list[Position] = []
    offset = sheet_at
    while offset + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, offset)
        body = stream[offset + 4:offset + 4 + length]
        offset += 4 + length
        if kind == 0x000A:
            break
        if kind == 0x0205 and len(body) >= 8 and body[7] == 1:  # BOOLERR holding an error
            row, column = struct.unpack_from("<HH", body, 0)
            found.append((row + 1, column, _BIFF_ERRORS.get(body[6], "#VALUE!")))
        elif kind == 0x0006 and len(body) >= 14 and body[6] == 2 and body[12:14] == b"\xff\xff":
            row, column = struct.unpack_from("<HH", body, 0)  # FORMULA whose cached result is an error
            found.append((row + 1, column, _BIFF_ERRORS.get(body[8], "#VALUE!")))
    return sorted(found)
