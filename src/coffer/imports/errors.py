"""Why a file cannot be read at all (as opposed to row issues, which are `issues.Issue`).

Both are `coffer.errors.ValidationError`, so the API answers 422 with the message as is.
"""

from __future__ import annotations

from coffer import errors


class UnreadableFile(errors.ValidationError):
    """Encrypted, corrupt, empty, or not a spreadsheet: the message says which, for a person."""

    def __init__(self, message: str):
        super().__init__(message, field_errors={"file": message})


class LimitExceeded(UnreadableFile):
    """A configured limit was crossed; `limit` names it, `value` is what the file reached."""

    def __init__(self, message: str, *, limit: str, value: int | float, maximum: int | float):
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.maximum = maximum
