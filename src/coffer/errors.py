"""Domain errors raised by services and selectors.

The API and the web layer translate them, each in one place, into a status code
or a form error. A service never knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service may raise on purpose."""

    code = "error"

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotFound(DomainError):
    """The object does not exist *for this caller* (also used for other tenants' objects)."""

    code = "not_found"


class PermissionDenied(DomainError):
    """The caller can see the object but their role does not allow the action."""

    code = "permission_denied"


class ValidationError(DomainError):
    """Input is well-formed but breaks a business rule."""

    code = "validation_error"


class Conflict(DomainError):
    """The action conflicts with the current state (duplicate, last owner, non-empty account)."""

    code = "conflict"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"


class Throttled(DomainError):
    code = "throttled"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
