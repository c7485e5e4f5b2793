"""Configurable limits for reading uploads (settings IMPORT_MAX_*; defaults without Django)."""

from __future__ import annotations

import dataclasses

_SETTINGS = {
    "max_file_bytes": "IMPORT_MAX_FILE_BYTES",
    "max_rows": "IMPORT_MAX_ROWS",
    "max_columns": "IMPORT_MAX_COLUMNS",
    "max_cell_chars": "IMPORT_MAX_CELL_CHARS",
    "max_decompressed_bytes": "IMPORT_MAX_DECOMPRESSED_BYTES",
    "max_compression_ratio": "IMPORT_MAX_COMPRESSION_RATIO",
}


@dataclasses.dataclass(frozen=True)
class ImportLimits:
    max_file_bytes: int = 50 * 1024 * 1024
    max_rows: int = 2_000_000
    max_columns: int = 200
    max_cell_chars: int = 32_767
    max_decompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: int = 100

    @classmethod
    def from_settings(cls) -> ImportLimits:
        """Read the optional IMPORT_MAX_* settings; defaults when Django is not configured."""
        try:
            from django.conf import settings

            configured = settings.configured
        except ImportError:  # pragma: no cover - Django is always installed in Coffer
            return cls()
        if not configured:
            return cls()
        values = {
            field: int(getattr(settings, name))
            for field, name in _SETTINGS.items()
            if getattr(settings, name, None) is not None
        }
        return cls(**values)
