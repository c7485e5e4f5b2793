"""Build spreadsheet and text files for reader tests (every format, from plain rows)."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path
from typing import Any

Rows = list[list[Any]]


def write_csv(path: Path, rows: Rows, *, delimiter: str = ",", encoding: str = "utf-8", newline: str = "\n") -> Path:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Rows]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def write_xlsx_with_cached_formulas(path: Path, name: str, rows: Rows, *, formulas: dict[tuple[int, int], tuple[str, Any]]) -> Path:
    """xlsxwriter stores a formula's cached result, as Excel does (openpyxl cannot)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(name)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in formulas:
                formula, cached = formulas[(r, c)]
                sheet.write_formula(r, c, formula, None, cached)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def write_xls(path: Path, sheets: dict[str, Rows]) -> Path:
    import xlwt

    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write(r, c, value, date_style)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def write_ods(path: Path, sheets: dict[str, Rows]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if isinstance(value, bool) or value is None:
                    cell = TableCell()
                elif isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value)
                elif isinstance(value, dt.date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                else:
                    cell = TableCell(valuetype="string")
                if value is not None:
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def write_compound_file(path: Path, stream_names: list[str]) -> Path:
    """A minimal OLE2 compound file whose directory names these (empty) streams.

    With ["EncryptionInfo", "EncryptedPackage"] it is laid out as Office stores a
    password-protected .xlsx."""
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))
    directory = bytearray()
    for number, (name, kind) in enumerate([("Root Entry", 5)] + [(n, 2) for n in stream_names]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le")
        entry[0:len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded) + 2, kind, 1)
        left_sibling, right_sibling = free, (number + 1 if number + 1 <= len(stream_names) and number > 0 else free)
        child = 1 if number == 0 and stream_names else free
        struct.pack_into("<III", entry, 68, left_sibling, right_sibling, child)
        struct.pack_into("<IQ", entry, 116, end, 0)
        directory += entry
    directory += b"\x00" * (-len(directory) % 512)
    path.write_bytes(bytes(header) + fat + bytes(directory))
    return path


def statement_rows(count: int = 30, *, start: dt.date = dt.date(2024, 3, 1), opening: float = 1000.0) -> Rows:
    """Date, Description, Amount, Balance rows with a consistent running balance (oldest first)."""
    rows: Rows = []
    balance = round(opening * 100)
    for i in range(count):
        cents = 250000 if i % 10 == 3 else -(1234 + 97 * i % 5000)
        balance += cents
        rows.append([start + dt.timedelta(days=i // 2), f"Shop {i} #{1000 + i}", cents / 100, balance / 100])
    return rows
