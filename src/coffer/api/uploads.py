"""Receiving one uploaded file from a multipart/form-data body, streamed to disk.

Starlette's own form parsing reads the whole body before the route runs; here the body is
parsed as it arrives, the file part written chunk by chunk to an anonymous temporary file
(gone when closed, even if the process dies), counted on the way, and refused the moment
it passes the limit, before the rest of the body is read. `imports.services.import_create`
then copies it into the media store in chunks, hashing it as it goes.
"""

from __future__ import annotations

import dataclasses
import tempfile
from typing import IO

from fastapi import Request
from python_multipart import exceptions as multipart_errors
from python_multipart import multipart

from coffer import errors

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 16


class UploadTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"The file is larger than the limit of {limit} bytes")
        self.limit = limit


@dataclasses.dataclass
class Upload:
    file: IO[bytes]  # positioned at the start; close it when done
    file_name: str
    size: int
    fields: dict[str, str]

    def close(self) -> None:
        self.file.close()


def _bad(message: str) -> errors.ValidationError:
    return errors.ValidationError(message, field_errors={"file": message})


class _Receiver:
    def __init__(self, *, file_field: str, max_file_bytes: int):
        self.file_field = file_field
        self.max_file_bytes = max_file_bytes
        self.fields: dict[str, str] = {}
        self.file: IO[bytes] | None = None
        self.file_name = ""
        self.size = 0
        self.parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name: str | None = None
        self._is_file = False
        self._data = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data, "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field, "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end, "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise _bad(f"At most {MAX_PARTS} form fields")
        self._disposition, self._name, self._is_file, self._data = b"", None, False, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = multipart.parse_options_header(self._disposition)
        if b"name" not in options:
            raise _bad("Every form part needs a name")
        self._name = options[b"name"].decode("utf-8", "replace")
        self._is_file = b"filename" in options
        if self._is_file:
            if self._name != self.file_field:
                raise _bad(f"Send the file in the field {self.file_field!r}")
            if self.file is not None:
                raise _bad("Send one file per upload")
            self.file_name = options[b"filename"].decode("utf-8", "replace")
            self.file = tempfile.TemporaryFile()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            if len(self._data) + len(chunk) > MAX_FIELD_BYTES:
                raise _bad(f"The form field {self._name!r} is too long")
            self._data.extend(chunk)
            return
        self.size += len(chunk)
        if self.size > self.max_file_bytes:
            raise UploadTooLarge(self.max_file_bytes)
        assert self.file is not None
        self.file.write(chunk)

    def on_part_end(self) -> None:
        if not self._is_file and self._name is not None:
            if self._name in self.fields:
                raise _bad(f"The form field {self._name!r} is given twice")
            self.fields[self._name] = self._data.decode("utf-8", "replace")


async def receive_file(request: Request, *, file_field: str = "file", max_file_bytes: int) -> Upload:
    """Parse the body; the one file part goes to a temporary file. Raises UploadTooLarge or ValidationError."""
    content_type, params = multipart.parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise _bad("Send the file as multipart/form-data with a boundary")
    receiver = _Receiver(file_field=file_field, max_file_bytes=max_file_bytes)
    parser = multipart.MultipartParser(params[b"boundary"], receiver.callbacks())
    try:
        # The file writes are small (one network chunk each) and go to the page cache.
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except multipart_errors.FormParserError:
        _close(receiver)
        raise _bad("The multipart body is malformed") from None
    except BaseException:
        _close(receiver)
        raise
    if receiver.file is None:
        raise _bad(f"No file: send it in the form field {file_field!r}")
    receiver.file.seek(0)
    return Upload(file=receiver.file, file_name=receiver.file_name, size=receiver.size,
                  fields=receiver.fields)


def _close(receiver: _Receiver) -> None:
    if receiver.file is not None:
        receiver.file.close()
