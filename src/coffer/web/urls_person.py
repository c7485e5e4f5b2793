"""The web app's pages about the person rather than a tenant: settings, tokens, email confirmation, and
the invitation link (its path is the one tenancy.emails writes into the email)."""

from __future__ import annotations

from django.urls import path

from coffer.tenancy import emails
from coffer.web import views_join, views_settings

urlpatterns = [
    path(emails.INVITATION_PATH.lstrip("/"), views_join.invitation_accept, name="invitation_accept"),
    path(emails.EMAIL_CONFIRMATION_PATH.lstrip("/"), views_settings.email_confirm, name="email_confirm"),
    path("accounts/confirm-email/resend/", views_settings.email_confirm_resend, name="email_confirm_resend"),
    path("settings/", views_settings.profile, name="settings_profile"),
    path("settings/password/", views_settings.password_change, name="settings_password"),
    path("settings/tokens/", views_settings.token_list, name="settings_tokens"),
    path("settings/tokens/<uuid:token_id>/revoke/", views_settings.token_revoke, name="settings_token_revoke"),
]
