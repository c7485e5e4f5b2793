"""Decide what an uploaded file is from its bytes, never from its name, and refuse the unsafe.

    sniff(path, limits=...) -> Sniffed(format="xlsx"|"xlsm"|"xlsb"|"xls"|"ods"|"csv", size=...)

Zip-based formats (xlsx, ods) are checked against the zip central directory *before* any
member is decompressed: declared total size and compression ratio (zip bombs). OLE2
containers are either legacy .xls or an encrypted (password-protected) OOXML file; the
difference is in the container's directory, which `cfb_stream_names` reads.
"""

from __future__ import annotations

import dataclasses
import struct
import zipfile
from pathlib import Path

from coffer.imports import errors
from coffer.imports import limits as import_limits

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_SAMPLE_BYTES = 64 * 1024
_SMALL_MEMBER = 1024 * 1024  # members below this cannot be a meaningful bomb; their ratio is not checked
_MAX_MEMBERS = 10_000

_FOREIGN_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"BZh": "a bzip2 archive",
}


@dataclasses.dataclass(frozen=True)
class Sniffed:
    format: str
    size: int


def sniff(path: Path | str, *, limits: import_limits.ImportLimits) -> Sniffed:
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
    except OSError as exc:
        raise errors.UnreadableFile(f"The file cannot be opened ({exc.strerror or exc})") from None
    if size > limits.max_file_bytes:
        raise errors.LimitExceeded(
            f"The file is {_megabytes(size)}; files up to {_megabytes(limits.max_file_bytes)} can be imported",
            limit="max_file_bytes", value=size, maximum=limits.max_file_bytes,
        )
    if not head.strip(b" \t\r\n\x00" + b"\xef\xbb\xbf\xff\xfe"):
        raise errors.UnreadableFile("The file is empty")
    if head.startswith(ZIP_MAGICS):
        return Sniffed(format=_zip_format(path, limits=limits), size=size)
    if head.startswith(OLE2_MAGIC):
        return Sniffed(format=_ole_format(path), size=size)
    for signature, what in _FOREIGN_SIGNATURES.items():
        if head.startswith(signature):
            raise errors.UnreadableFile(f"The file is {what}, not a spreadsheet or CSV file")
    if not looks_like_text(head):
        raise errors.UnreadableFile("The file is neither a spreadsheet (.xlsx, .xls, .ods) nor a text (CSV) file")
    return Sniffed(format="csv", size=size)


def looks_like_text(sample: bytes) -> bool:
    """True for text in any common encoding (UTF-8/16, single-byte); false for binary data."""
    if sample.startswith(TEXT_BOMS):
        return True
    if b"\x00" in sample:
        return utf16_without_bom(sample) is not None
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in b"\t\n\r\x0c\x1a")
    return controls <= len(sample) // 200


def utf16_without_bom(sample: bytes) -> str | None:
    even, odd = sample[0::2], sample[1::2]
    if not odd:
        return None
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


# --- zip: xlsx / xlsm / xlsb / ods ---------------------------------------------


def _zip_format(path: Path, *, limits: import_limits.ImportLimits) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_zip_sizes(members, limits=limits)
            names = {info.filename for info in members}
            if "mimetype" in names:
                if _small_member(archive, "mimetype").strip() == ODS_MIMETYPE:
                    return "ods"
            if "[Content_Types].xml" in names:
                if any(name.startswith("xl/") for name in names):
                    if "xl/workbook.bin" in names:
                        return "xlsb"
                    content_types = _small_member(archive, "[Content_Types].xml")
                    return "xlsm" if b"macroEnabled" in content_types else "xlsx"
                if any(name.startswith("word/") for name in names):
                    raise errors.UnreadableFile("The file is a Word document, not a spreadsheet")
                if any(name.startswith("ppt/") for name in names):
                    raise errors.UnreadableFile("The file is a PowerPoint presentation, not a spreadsheet")
    except zipfile.BadZipFile:
        raise errors.UnreadableFile(
            "The file is damaged: it looks like an .xlsx or .ods spreadsheet but its contents cannot be read "
            "(was it cut short while downloading?)"
        ) from None
    except errors.UnreadableFile:
        raise
    except Exception:  # zlib.error, EOFError, NotImplementedError (unknown compression), ...
        raise errors.UnreadableFile("The file is damaged: its zip structure cannot be read") from None
    raise errors.UnreadableFile("The file is a zip archive, not a spreadsheet (.xlsx or .ods)")


def _check_zip_sizes(members: list[zipfile.ZipInfo], *, limits: import_limits.ImportLimits) -> None:
    if len(members) > _MAX_MEMBERS:
        raise errors.LimitExceeded(
            f"The file holds {len(members)} parts; a spreadsheet never needs more than {_MAX_MEMBERS}",
            limit="max_zip_members", value=len(members), maximum=_MAX_MEMBERS,
        )
    total = sum(info.file_size for info in members)
    if total > limits.max_decompressed_bytes:
        raise errors.LimitExceeded(
            f"The file unpacks to {_megabytes(total)}; at most {_megabytes(limits.max_decompressed_bytes)} "
            "is allowed",
            limit="max_decompressed_bytes", value=total, maximum=limits.max_decompressed_bytes,
        )
    for info in members:
        if info.file_size <= _SMALL_MEMBER:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise errors.LimitExceeded(
                f"The file is compressed {ratio:.0f} to 1 (part {info.filename!r}); at most "
                f"{limits.max_compression_ratio} to 1 is allowed, as a protection against zip bombs",
                limit="max_compression_ratio", value=round(ratio, 1), maximum=limits.max_compression_ratio,
            )


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    if archive.getinfo(name).file_size > _SMALL_MEMBER:
        return b""
    return archive.read(name)


# --- OLE2 compound files: xls, or encrypted OOXML ----------------------------


def _ole_format(path: Path) -> str:
    try:
        names = cfb_stream_names(path)
    except (ValueError, struct.error, OSError):
        raise errors.UnreadableFile("The file is damaged: it looks like an .xls spreadsheet but cannot be read") from None
    lowered = {name.lower() for name in names}
    if "encryptioninfo" in lowered or "encryptedpackage" in lowered:
        raise errors.UnreadableFile(
            "The file is password-protected; open it in your spreadsheet program, remove the password "
            "(or save a copy without it) and upload that copy"
        )
    if "workbook" in lowered or "book" in lowered:
        return "xls"
    if "worddocument" in lowered:
        raise errors.UnreadableFile("The file is a Word document, not a spreadsheet")
    raise errors.UnreadableFile("The file is an Office document of a kind that is not a spreadsheet")


def cfb_stream_names(path: Path | str) -> list[str]:
    """Names of the entries in an OLE2 compound file's directory (no stream data is read)."""
    free, end_of_chain = 0xFFFFFFFF, 0xFFFFFFFE
    with Path(path).open("rb") as handle:
        header = handle.read(512)
        if len(header) < 512 or not header.startswith(OLE2_MAGIC):
            raise ValueError("not a compound file")
        sector_size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
        if sector_size not in (512, 4096):
            raise ValueError("bad sector size")
        first_dir, = struct.unpack_from("<I", header, 0x30)
        first_difat, difat_count = struct.unpack_from("<II", header, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s not in (free, end_of_chain)]

        def read_sector(number: int) -> bytes:
            handle.seek((number + 1) * sector_size)
            data = handle.read(sector_size)
            if len(data) != sector_size:
                raise ValueError("truncated compound file")
            return data

        per_sector = sector_size // 4
        sector = first_difat
        for _ in range(min(difat_count, 100_000)):
            if sector >= 0xFFFFFFFA:
                break
            entries = struct.unpack(f"<{per_sector}I", read_sector(sector))
            fat_sectors.extend(s for s in entries[:-1] if s not in (free, end_of_chain))
            sector = entries[-1]
        fat: list[int] = []
        for number in fat_sectors:
            fat.extend(struct.unpack(f"<{per_sector}I", read_sector(number)))

        names: list[str] = []
        sector, seen = first_dir, 0
        while sector < 0xFFFFFFFA and sector < len(fat) + 1 and seen < 10_000:
            data = read_sector(sector)
            for offset in range(0, sector_size, 128):
                length, kind = struct.unpack_from("<HB", data, offset + 64)
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    names.append(data[offset:offset + length - 2].decode("utf-16-le", "replace"))
            sector = fat[sector] if sector < len(fat) else end_of_chain
            seen += 1
        if not names:
            raise ValueError("empty directory")
        return names


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
