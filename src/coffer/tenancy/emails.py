"""Emails about people and organizations, sent with django.core.mail (console backend in development)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import mail

INVITATION_PATH = "/invitations/accept"


def invitation_link(*, token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{INVITATION_PATH}?{urlencode({'token': token})}"


def invitation_send(*, email: str, token: str, tenant_name: str, role: str, inviter_name: str,
                    expires_at_text: str) -> None:
    """The one-time link is only ever in this email; the database keeps its hash."""
    link = invitation_link(token=token)
    subject = f"You are invited to {tenant_name} on Coffer"
    body = (
        f"{inviter_name} invited you to join {tenant_name} on Coffer as {role}.\n\n"
        f"Accept the invitation here:\n{link}\n\n"
        f"The link works once and expires on {expires_at_text}.\n"
        "If you did not expect this email, you can ignore it.\n"
    )
    mail.send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)


EMAIL_CONFIRMATION_PATH = "/accounts/confirm-email"


def email_confirmation_link(*, token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{EMAIL_CONFIRMATION_PATH}?{urlencode({'token': token})}"


def email_confirmation_send(*, email: str, token: str, name: str) -> None:
    body = (
        f"Hello {name},\n\n"
        f"Please confirm that {email} is your email address for Coffer:\n{email_confirmation_link(token=token)}\n\n"
        "The link works for three days. If you did not sign up for Coffer, you can ignore this email.\n"
    )
    mail.send_mail("Confirm your email address for Coffer", body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)
