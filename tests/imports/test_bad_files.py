"""Files that cannot be read give one clear UnreadableFile / LimitExceeded, never another exception."""

from __future__ import annotations

import datetime as dt
import os
import zipfile

import pytest

from coffer import errors as domain_errors
from coffer.imports import analysis, readers
from coffer.imports import limits as import_limits
from tests.imports import builders

HEADER = ["Date", "Description", "Amount", "Balance"]
TODAY = dt.date(2025, 1, 1)


def unreadable(path, **kwargs) -> readers.UnreadableFile:
    with pytest.raises(readers.UnreadableFile) as caught:
        analysis.analyze(path, today=TODAY, **kwargs)
    return caught.value


def good_xlsx(tmp_path, name="good.xlsx"):
    return builders.write_xlsx(tmp_path / name, {"S": [HEADER] + builders.statement_rows(200)})


def test_unreadable_file_is_a_validation_error_for_the_api():
    assert issubclass(readers.UnreadableFile, domain_errors.ValidationError)
    assert issubclass(readers.LimitExceeded, readers.UnreadableFile)


def test_password_protected_xlsx_says_so(tmp_path):
    path = builders.write_compound_file(tmp_path / "locked.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    assert "password-protected" in str(unreadable(path))


def test_compound_file_without_a_workbook_is_not_taken_for_xls(tmp_path):
    path = builders.write_compound_file(tmp_path / "letter.xls", ["WordDocument"])
    assert "Word document" in str(unreadable(path))


def test_xls_container_with_an_empty_workbook_stream_is_a_clear_error(tmp_path):
    path = builders.write_compound_file(tmp_path / "broken.xls", ["Workbook"])
    message = str(unreadable(path))
    assert "damaged" in message or message == "The workbook has no worksheets"


def test_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.csv").write_bytes(b"\xef\xbb\xbf \r\n\r\n")
    assert str(unreadable(tmp_path / "empty.csv")) == "The file is empty"
    assert str(unreadable(tmp_path / "blank.csv")) == "The file is empty"


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes(range(256)) * 40)
    assert "neither a spreadsheet" in str(unreadable(path))


def test_pdf_is_named_as_such(tmp_path):
    path = tmp_path / "statement.xlsx"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    assert "PDF" in str(unreadable(path))


def test_truncated_xlsx_is_damaged(tmp_path):
    data = good_xlsx(tmp_path).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert "damaged" in str(unreadable(path))


def test_corrupt_member_inside_a_valid_zip_is_damaged(tmp_path):
    source = good_xlsx(tmp_path)
    path = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data[:200] + b"<<<garbage" + data[400:]
            copy.writestr(info.filename, data)
    assert "damaged" in str(unreadable(path))


def test_zip_that_is_no_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "zip archive, not a spreadsheet" in str(unreadable(path))


def _bomb(path, *, size):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return path


def test_zip_bomb_is_refused_by_its_compression_ratio_before_decompressing(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", size=20 * 1024 * 1024)
    error = unreadable(path)
    assert isinstance(error, readers.LimitExceeded) and error.limit == "max_compression_ratio"
    assert "zip bomb" in str(error)


def test_zip_declaring_more_than_the_decompressed_limit_is_refused(tmp_path):
    path = _bomb(tmp_path / "big.xlsx", size=8 * 1024 * 1024)
    limits = import_limits.ImportLimits(max_decompressed_bytes=4 * 1024 * 1024)
    error = unreadable(path, limits=limits)
    assert isinstance(error, readers.LimitExceeded) and error.limit == "max_decompressed_bytes"
    assert "unpacks to 8.0 MB" in str(error)


def test_file_over_the_size_limit_is_refused(tmp_path):
    path = builders.write_csv(tmp_path / "big.csv", [HEADER] + [["2024-03-01", "x" * 50, "-1.00", "1.00"]] * 100)
    error = unreadable(path, limits=import_limits.ImportLimits(max_file_bytes=1000))
    assert isinstance(error, readers.LimitExceeded) and error.limit == "max_file_bytes"
    assert "files up to" in str(error)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_too_many_rows_is_refused(tmp_path, fmt):
    rows = [HEADER] + [[dt.date(2024, 3, 1), "Tea", -1.0, 1.0]] * 60
    path = (builders.write_csv(tmp_path / "rows.csv", rows) if fmt == "csv"
            else builders.write_xlsx(tmp_path / "rows.xlsx", {"S": rows}))
    error = unreadable(path, limits=import_limits.ImportLimits(max_rows=50))
    assert isinstance(error, readers.LimitExceeded) and error.limit == "max_rows"
    assert "more than 50 rows" in str(error)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_too_many_columns_is_refused(tmp_path, fmt):
    rows = [HEADER + [f"extra {i}" for i in range(30)], [dt.date(2024, 3, 1), "Tea", -1.0, 1.0]]
    path = (builders.write_csv(tmp_path / "wide.csv", rows) if fmt == "csv"
            else builders.write_xlsx(tmp_path / "wide.xlsx", {"S": rows}))
    error = unreadable(path, limits=import_limits.ImportLimits(max_columns=20))
    assert isinstance(error, readers.LimitExceeded) and error.limit == "max_columns"
    assert "34 columns" in str(error)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_too_long_cell_is_refused_with_its_address(tmp_path, fmt):
    rows = [HEADER, [dt.date(2024, 3, 1), "x" * 500, -1.0, 1.0]]
    path = (builders.write_csv(tmp_path / "long.csv", rows) if fmt == "csv"
            else builders.write_xlsx(tmp_path / "long.xlsx", {"S": rows}))
    error = unreadable(path, limits=import_limits.ImportLimits(max_cell_chars=100))
    assert isinstance(error, readers.LimitExceeded) and error.limit == "max_cell_chars"
    assert "Cell B2 holds 500 characters" in str(error)


def test_unclosed_quote_swallowing_the_file_is_refused(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text("Date,Description,Amount\n2024-03-01,\"never closed,1.00\n" + "2024-03-02,x,1.00\n" * 5000)
    error = unreadable(path, limits=import_limits.ImportLimits(max_cell_chars=1000))
    assert isinstance(error, readers.LimitExceeded)


def test_limits_come_from_settings(settings):
    settings.IMPORT_MAX_ROWS = 10
    settings.IMPORT_MAX_COLUMNS = 7
    limits = import_limits.ImportLimits.from_settings()
    assert (limits.max_rows, limits.max_columns) == (10, 7)
    assert limits.max_cell_chars == settings.IMPORT_MAX_CELL_CHARS


def test_nothing_but_unreadable_file_escapes_for_random_bytes_in_any_container(tmp_path):
    source = good_xlsx(tmp_path).read_bytes()
    for seed in range(20):
        data = bytearray(source)
        rng = __import__("random").Random(seed)
        for _ in range(30):
            data[rng.randrange(200, len(data))] = rng.randrange(256)
        path = tmp_path / f"fuzz{seed}.xlsx"
        path.write_bytes(bytes(data))
        try:
            analysis.analyze(path, today=TODAY)
        except readers.UnreadableFile:
            pass


def test_text_without_any_table_reads_with_no_rows_and_low_confidence(tmp_path):
    path = tmp_path / "letter.txt"
    path.write_text("Dear customer,\nthank you for banking with us.\n")
    result = analysis.analyze(path, today=TODAY)
    assert result.confidence < 0.5 and result.rows_total == 0

