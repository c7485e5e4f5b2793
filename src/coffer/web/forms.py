"""Forms of the web app."""

from __future__ import annotations

from django import forms
from django.contrib.admin import forms as admin_forms
from django.contrib.auth import forms as auth_forms

from coffer import errors
from coffer.tenancy import signin


class SignInForm(auth_forms.AuthenticationForm):
    """Django's login form, checked by the same sign-in service (and throttle) as the API."""

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
            try:
                self.user_cache = signin.sign_in(email=email, password=password, address=address)
            except errors.Throttled as exc:
                raise forms.ValidationError(exc.message, code="throttled") from None
            except errors.AuthenticationFailed as exc:
                raise forms.ValidationError(exc.message, code="invalid_login") from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data



class AdminSignInForm(SignInForm, admin_forms.AdminAuthenticationForm):
    """The admin's login: the same throttled sign-in (SignInForm.clean), and only staff may pass
    (AdminAuthenticationForm.confirm_login_allowed)."""
