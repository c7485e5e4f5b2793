"""Sign-up form of the web app; the rules (unique email, password strength) live in tenancy.services."""

from __future__ import annotations

from django import forms


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label="Your name")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False,
        help_text="At least 10 characters; not a common password.",
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=150)
    base_currency = forms.CharField(max_length=3, min_length=3, initial="EUR", label="Base currency")

    def clean_base_currency(self) -> str:
        return self.cleaned_data["base_currency"].strip().upper()
